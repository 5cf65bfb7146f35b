/** What the sync engine reports: outcomes of messages and imports, and its status. */
import type { StalePolicy } from '../engine/types.js';
import type { CacheState } from '../store/cache.js';
import type { RejectedCredential } from '../store/cache-writer.js';
import type { SnapshotRequestReason, SyncRejectReason } from './messages.js';
import type { Rejection } from './rejection-log.js';

export interface StalenessRules {
  readonly staleAfterMs: number;
  readonly policy: StalePolicy;
}

/** A message (or import) that was refused, with the reason it was counted under. */
export class SyncRejectedError extends Error {
  override readonly name = 'SyncRejectedError';
  constructor(
    readonly reason: SyncRejectReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export interface AppliedSnapshot {
  readonly version: number;
  readonly snapshotId: string | null;
  readonly people: number;
  readonly credentials: number;
  readonly entitlements: number;
  readonly doors: number;
  readonly schedules: number;
  readonly rejectedCredentials: readonly RejectedCredential[];
  readonly ms: number;
}

export type Rejected = { readonly kind: 'rejected'; readonly reason: SyncRejectReason; readonly detail: string };

export type ChunkOutcome = Rejected | { readonly kind: 'duplicate' } | { readonly kind: 'taken' } | { readonly kind: 'applied'; readonly snapshot: AppliedSnapshot };

export type DeltaOutcome = Rejected | { readonly kind: 'applied'; readonly version: number; readonly ops: number };

export interface ImportJob {
  readonly id: number;
  readonly file: string;
  state: 'running' | 'done' | 'failed';
  readonly startedAt: string;
  finishedAt: string | null;
  chunks: { received: number; total: number | null };
  people: number;
  result: AppliedSnapshot | null;
  error: { reason: SyncRejectReason | 'error'; detail: string } | null;
}

export interface SyncStatus {
  /** Ids of the configured cloud keys; empty without a cloud section. */
  readonly keys: readonly string[];
  readonly state: 'idle' | 'receiving' | 'applying';
  readonly version: number;
  readonly syncedAt: string | null;
  readonly ageS: number | null;
  readonly stale: boolean;
  readonly staleAfterHours: number | null;
  readonly stalePolicy: StalePolicy | null;
  readonly source: CacheState['source'];
  readonly snapshotId: string | null;
  readonly receiving: { snapshotId: string; version: number; chunksReceived: number; chunks: number; people: number } | null;
  readonly import: ImportJob | null;
  readonly lastRequest: { requestId: string; reason: SnapshotRequestReason; at: string } | null;
  readonly lastRejection: Rejection | null;
  readonly rejected: Readonly<Partial<Record<SyncRejectReason, number>>>;
  readonly applied: { readonly snapshots: number; readonly deltas: number; readonly duplicateChunks: number };
}
