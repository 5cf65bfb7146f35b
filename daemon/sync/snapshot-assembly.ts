/**
 * The bookkeeping of one snapshot being received: which chunk comes next,
 * the running checksum, and what each chunk already accepted contained.
 * Pure: the staging of the chunk's records is somebody else's job.
 *
 * Chunks must arrive in order (MQTT keeps the order of one publisher's QoS 1
 * messages on a topic, and a file lists them in order). A copy of a chunk
 * already taken is recognised by its digest: an identical copy (a QoS 1
 * redelivery) is ignored, a different one means the sender is confused and
 * the snapshot is abandoned.
 */
import { createHash, type Hash } from 'node:crypto';
import type { SnapshotChunk, SyncRejectReason } from './messages.js';

export interface SnapshotHeader {
  readonly snapshotId: string;
  readonly version: number;
  readonly chunks: number;
  readonly checksum: string;
  readonly requestId: string | null;
  readonly issuedAt: string;
}

export type ChunkVerdict =
  | { readonly kind: 'take' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'reject'; readonly reason: Extract<SyncRejectReason, 'chunk_mismatch' | 'chunk_conflict' | 'missing_chunk'>; readonly detail: string };

const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export class SnapshotAssembly {
  readonly header: SnapshotHeader;
  /** The cache generation the chunks are staged into. */
  readonly gen: number;
  readonly #hash: Hash = createHash('sha256');
  readonly #digests: string[] = [];
  #failure: SyncRejectReason | null = null;

  constructor(first: SnapshotChunk, gen: number) {
    this.header = {
      snapshotId: first.snapshotId,
      version: first.version,
      chunks: first.chunks,
      checksum: first.checksum,
      requestId: first.requestId,
      issuedAt: first.issuedAt,
    };
    this.gen = gen;
  }

  /** Chunks taken so far (= index of the next one expected). */
  get received(): number {
    return this.#digests.length;
  }

  get complete(): boolean {
    return this.#digests.length === this.header.chunks;
  }

  /** Classify a chunk of this snapshot. Does not take it: call take() once its records are staged. */
  check(chunk: SnapshotChunk): ChunkVerdict {
    const h = this.header;
    const differs = (['version', 'chunks', 'checksum', 'requestId', 'issuedAt'] as const).filter((k) => chunk[k] !== h[k]);
    if (differs.length > 0) {
      return { kind: 'reject', reason: 'chunk_mismatch', detail: `chunk ${chunk.chunk} disagrees with chunk 0 on ${differs.join(', ')}` };
    }
    if (chunk.chunk < this.#digests.length) {
      return this.#digests[chunk.chunk] === digest(chunk.data)
        ? { kind: 'duplicate' }
        : { kind: 'reject', reason: 'chunk_conflict', detail: `a second chunk ${chunk.chunk} with different content` };
    }
    if (chunk.chunk > this.#digests.length) {
      return { kind: 'reject', reason: 'missing_chunk', detail: `chunk ${chunk.chunk} arrived while chunk ${this.#digests.length} was expected` };
    }
    return { kind: 'take' };
  }

  /** Record the chunk as taken and feed its data to the checksum. */
  take(chunk: SnapshotChunk): void {
    this.#hash.update(chunk.data, 'utf8');
    this.#digests.push(digest(chunk.data));
  }

  /** Why staging one of the chunks taken failed (the snapshot is abandoned), or null. */
  get failure(): SyncRejectReason | null {
    return this.#failure;
  }

  /** Staging a chunk taken failed: the chunks taken after it are refused as of an ended snapshot. */
  fail(reason: SyncRejectReason): void {
    this.#failure ??= reason;
  }

  /** Whether the assembled chunks match the checksum every chunk announced. Call once, when complete. */
  checksumMatches(): boolean {
    return `sha256:${this.#hash.digest('hex')}` === this.header.checksum;
  }
}
