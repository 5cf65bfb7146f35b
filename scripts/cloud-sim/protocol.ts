/**
 * The cloud's side of the sync protocol (daemon/sync/messages.ts), as the
 * reference a real cloud can follow: cut a data set into signed snapshot
 * chunks with their checksum, build deltas, write snapshot files.
 *
 * Used by the cloud simulator, the demo signing script, the data-set
 * generator, the benchmark and the tests. The gateway never signs.
 */
import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { signPayload } from '../../daemon/cloud/signed-message.js';
import type { Dataset } from '../../daemon/sync/dataset.js';
import type { DeltaOp, SnapshotChunk } from '../../daemon/sync/messages.js';

/** Same shape as commands.ts's CloudSigner, so one key serves every module. */
export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

export interface Addressee {
  readonly gatewayId: string;
  readonly siteId: string;
}

export interface SnapshotOptions extends Addressee {
  readonly snapshotId?: string;
  readonly requestId?: string | null;
  readonly issuedAt?: Date;
  /** Target size of one chunk's data, in bytes (a chunk holds at least one person). Default 64 KiB. */
  readonly chunkBytes?: number;
}

/**
 * The parts of a data set, as the JSON texts that become the chunks' `data`:
 * settings, doors and schedules in the first, people spread over all of them.
 */
export function snapshotParts(dataset: Dataset, chunkBytes = 64 * 1024): string[] {
  const head = `"settings":${JSON.stringify(dataset.settings)},"doors":${JSON.stringify(dataset.doors)},"schedules":${JSON.stringify(dataset.schedules)}`;
  const parts: string[] = [];
  let people: string[] = [];
  let size = head.length;
  const flush = (): void => {
    const list = `"people":[${people.join(',')}]`;
    parts.push(parts.length === 0 ? `{${head},${list}}` : `{${list}}`);
    people = [];
    size = 0;
  };
  for (const person of dataset.people) {
    const text = JSON.stringify(person);
    if (people.length > 0 && size + text.length > chunkBytes) flush();
    people.push(text);
    size += text.length + 1;
  }
  if (people.length > 0 || parts.length === 0) flush();
  return parts;
}

/** "sha256:" + hex SHA-256 over the parts in order: the checksum every chunk carries. */
export function snapshotChecksum(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part, 'utf8');
  return `sha256:${hash.digest('hex')}`;
}

/** The chunk payloads (unsigned) of one snapshot of `dataset`. */
export function snapshotChunks(dataset: Dataset, options: SnapshotOptions): SnapshotChunk[] {
  const parts = snapshotParts(dataset, options.chunkBytes);
  const checksum = snapshotChecksum(parts);
  const snapshotId = options.snapshotId ?? randomUUID();
  const issuedAt = (options.issuedAt ?? new Date()).toISOString();
  return parts.map((data, chunk) => ({
    type: 'sync.snapshot',
    gatewayId: options.gatewayId,
    siteId: options.siteId,
    snapshotId,
    version: dataset.version,
    requestId: options.requestId ?? null,
    issuedAt,
    chunk,
    chunks: parts.length,
    checksum,
    data,
  }));
}

export interface DeltaPayload {
  readonly type: 'sync.delta';
  readonly gatewayId: string;
  readonly siteId: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly issuedAt: string;
  readonly ops: readonly DeltaOp[];
}

export function deltaPayload(to: Addressee, fromVersion: number, toVersion: number, ops: readonly DeltaOp[], issuedAt = new Date()): DeltaPayload {
  return { type: 'sync.delta', gatewayId: to.gatewayId, siteId: to.siteId, fromVersion, toVersion, issuedAt: issuedAt.toISOString(), ops };
}

/** Signed envelopes (JSON text), one per payload. */
export function signAll(key: SigningKey, payloads: readonly unknown[]): string[] {
  return payloads.map((p) => signPayload(key.privateKey, key.keyId, p));
}

/** A snapshot file for `gatehouse sync import` and store.seedFile: one signed chunk per line. */
export function writeSnapshotFile(path: string, envelopes: readonly string[]): void {
  writeFileSync(path, `${envelopes.join('\n')}\n`);
}
