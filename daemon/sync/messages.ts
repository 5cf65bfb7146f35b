/**
 * The sync protocol's messages, as zod schemas: what the cloud sends (signed
 * payloads on `sync/snapshot` and `sync/delta`) and what the gateway reports
 * (`sync/request`, `sync/state`). docs/mqtt-contract.md renders them to JSON
 * Schema; scripts/cloud-sim builds against them.
 *
 * A snapshot is one data set cut into chunks. Every chunk is signed on its
 * own and carries the snapshot's header (id, version, chunk count, checksum),
 * so each can be verified the moment it arrives, and its `data` is the JSON
 * text of one part of the data set. The checksum is SHA-256 over the `data`
 * strings of all chunks in chunk order: it proves that the parts assembled are
 * exactly the parts the cloud cut, in any language, with no canonical JSON.
 */
import { z } from 'zod';
import {
  cloudId,
  credentialRecordSchema,
  doorRecordSchema,
  entitlementRecordSchema,
  isoInstant,
  personRecordSchema,
  scheduleRecordSchema,
  siteSettingsSchema,
} from './dataset.js';

/** Most operations one delta may carry: a delta is applied in one synchronous transaction, so it must stay small. Bulk changes go as a snapshot. */
export const MAX_DELTA_OPS = 1000;

/** Most chunks one snapshot may have. */
export const MAX_SNAPSHOT_CHUNKS = 100_000;

const gatewayRef = z.string().min(1).max(63);
const version = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const snapshotChunkSchema = z
  .object({
    type: z.literal('sync.snapshot'),
    gatewayId: gatewayRef.describe('The one gateway this snapshot is for.'),
    siteId: gatewayRef.describe("The gateway's site."),
    snapshotId: cloudId.describe('Same in every chunk of one snapshot; a new id for every snapshot the cloud cuts.'),
    version: version.describe('Cloud data version the whole snapshot represents.'),
    requestId: z
      .string()
      .min(1)
      .max(128)
      .nullable()
      .describe('The requestId of the sync/request this snapshot answers, or null. A snapshot at the version the gateway already has is accepted only as an answer to one of its recent requests.'),
    issuedAt: isoInstant.describe('When the cloud cut the snapshot.'),
    chunk: z.number().int().nonnegative().describe('0-based index of this chunk. Chunks are sent in order.'),
    chunks: z.number().int().min(1).max(MAX_SNAPSHOT_CHUNKS).describe('Number of chunks in the snapshot.'),
    checksum: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:" and 64 lowercase hex digits')
      .describe('"sha256:" + hex SHA-256 of the UTF-8 `data` strings of all chunks, concatenated in chunk order.'),
    data: z.string().describe('JSON text of one part of the data set (gatehouse.snapshot-part/1).'),
  })
  .strict()
  .refine((c) => c.chunk < c.chunks, { message: 'chunk must be less than chunks', path: ['chunk'] });

/**
 * One part of a snapshot's data set. Parts are disjoint: every record appears
 * in exactly one chunk; settings in at most one (defaults otherwise).
 */
export const snapshotPartSchema = z
  .object({
    people: z.array(personRecordSchema).default([]),
    settings: siteSettingsSchema.optional(),
    doors: z.array(doorRecordSchema).default([]),
    schedules: z.array(scheduleRecordSchema).default([]),
  })
  .strict();

/** The part's outline, checked before the records are validated one by one (a chunk of 1,000 people validated at once would hold the event loop). */
export const snapshotPartOutlineSchema = z
  .object({
    people: z.array(z.unknown()).default([]),
    settings: z.unknown().optional(),
    doors: z.array(z.unknown()).default([]),
    schedules: z.array(z.unknown()).default([]),
  })
  .strict();

export const deltaOpSchema = z
  .discriminatedUnion('op', [
    z
      .object({ op: z.literal('person.upsert'), person: personRecordSchema })
      .strict()
      .describe('Create or replace a person with all of its credentials and entitlements.'),
    z.object({ op: z.literal('person.delete'), id: cloudId }).strict().describe('Remove a person with its credentials and entitlements.'),
    z
      .object({ op: z.literal('credential.upsert'), personId: cloudId, credential: credentialRecordSchema })
      .strict()
      .describe('Create or replace one credential of an existing person (it moves if it belonged to another).'),
    z.object({ op: z.literal('credential.delete'), id: cloudId }).strict(),
    z.object({ op: z.literal('entitlement.upsert'), personId: cloudId, entitlement: entitlementRecordSchema }).strict(),
    z.object({ op: z.literal('entitlement.delete'), id: cloudId }).strict(),
    z.object({ op: z.literal('door.upsert'), door: doorRecordSchema }).strict(),
    z.object({ op: z.literal('door.delete'), id: cloudId }).strict(),
    z.object({ op: z.literal('schedule.upsert'), schedule: scheduleRecordSchema }).strict(),
    z.object({ op: z.literal('schedule.delete'), id: cloudId }).strict(),
    z.object({ op: z.literal('settings.set'), settings: siteSettingsSchema }).strict().describe('Replace the site settings.'),
  ])
  .describe('One change; `op` selects the variant. A delete of an id the gateway does not have, or a credential or entitlement for a person it does not have, means the copies diverged: the whole delta is rejected (delta_conflict) and a snapshot requested.');

export const deltaSchema = z
  .object({
    type: z.literal('sync.delta'),
    gatewayId: gatewayRef,
    siteId: gatewayRef,
    fromVersion: version.describe('The version this delta applies to; must equal the gateway\'s version.'),
    toVersion: version.describe('The version after it; greater than fromVersion.'),
    issuedAt: isoInstant,
    ops: z.array(deltaOpSchema).max(MAX_DELTA_OPS).describe(`At most ${MAX_DELTA_OPS}; may be empty (a heartbeat that moves the version on and proves the cache current).`),
  })
  .strict()
  .refine((d) => d.toVersion > d.fromVersion, { message: 'toVersion must be greater than fromVersion', path: ['toVersion'] });

export const snapshotRequestReasonSchema = z
  .enum(['boot', 'reconnect', 'gap', 'checksum', 'incomplete', 'conflict', 'refresh', 'command'])
  .describe(
    'boot: first connection of this daemon run. reconnect: any later connection (deltas may have been missed). gap: a delta did not start at our version. checksum: an assembled snapshot did not match its checksum. incomplete: a snapshot lost chunks or stopped arriving. conflict: a delta or chunk contradicted our copy. refresh: no sync for half of cloud.staleAfterHours. command: asked by an operator or a signed sync.resync command.',
  );

export const syncRequestSchema = z
  .object({
    schema: z.literal('gatehouse.sync-request/1'),
    gatewayId: z.string(),
    siteId: z.string(),
    requestId: z.string().describe('Random id; echo it as the snapshot\'s requestId.'),
    reason: snapshotRequestReasonSchema,
    haveVersion: version.describe('Version of the cache in force; the cloud may answer with the deltas from it instead of a snapshot.'),
    ts: z.string().describe('ISO 8601 UTC.'),
  })
  .strict();

export const syncRejectReasonSchema = z
  .enum([
    // The envelope (cloud/signed-message.ts): nothing in it can be trusted.
    'oversized',
    'malformed',
    'unsigned',
    'unknown_key',
    'bad_signature',
    'payload_not_json',
    // A verified payload that is not a sync message for this gateway.
    'wrong_type',
    'wrong_gateway',
    'wrong_site',
    'invalid_payload',
    // Versions.
    'replayed',
    'version_gap',
    'delta_conflict',
    // Snapshot assembly.
    'missing_chunk',
    'chunk_mismatch',
    'chunk_conflict',
    'checksum_mismatch',
    'snapshot_timeout',
    'superseded',
    'busy',
  ])
  .describe('Why a sync message was not applied.');

export const syncStateSchema = z
  .object({
    schema: z.literal('gatehouse.sync-state/1'),
    gatewayId: z.string(),
    siteId: z.string(),
    bootId: z.string(),
    ts: z.string().describe('When this report was made, ISO 8601 UTC.'),
    version: version.describe('Cloud data version of the cache in force; 0 = never synced.'),
    syncedAt: z.string().nullable().describe('Last successful sync (snapshot, delta or import), ISO 8601 UTC; null = never.'),
    stale: z.boolean().describe('Whether decisions are being made on stale data (no sync for cloud.staleAfterHours).'),
    staleAfterHours: z.number(),
    stalePolicy: z.enum(['keep-deciding', 'always-allowed-only', 'deny-all']),
    state: z
      .enum(['idle', 'receiving', 'applying'])
      .describe('receiving: chunks of a snapshot are being staged. applying: an import or seed is being staged.'),
    receiving: z
      .object({ snapshotId: z.string(), version, chunksReceived: z.number().int().nonnegative(), chunks: z.number().int().positive() })
      .strict()
      .nullable(),
    lastRequest: z.object({ requestId: z.string(), reason: snapshotRequestReasonSchema, at: z.string() }).strict().nullable(),
    rejected: z.record(z.string(), z.number().int().nonnegative()).describe('Messages rejected since the daemon started, by reason.'),
  })
  .strict();

export type SnapshotChunk = z.infer<typeof snapshotChunkSchema>;
export type SnapshotPart = z.infer<typeof snapshotPartSchema>;
export type DeltaOp = z.infer<typeof deltaOpSchema>;
export type Delta = z.infer<typeof deltaSchema>;
export type DeltaInput = z.input<typeof deltaSchema>;
export type SnapshotRequestReason = z.infer<typeof snapshotRequestReasonSchema>;
export type SyncRequest = z.infer<typeof syncRequestSchema>;
export type SyncRejectReason = z.infer<typeof syncRejectReasonSchema>;
export type SyncState = z.infer<typeof syncStateSchema>;
