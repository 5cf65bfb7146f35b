/**
 * The first checks every sync message passes, before anything looks at its
 * content: the signed envelope (cloud/signed-message.ts, through inbound.ts
 * so an unsigned message is named as such), then whether the verified payload
 * is the type this topic carries, for this gateway and site, and matches its
 * schema. Never throws.
 */
import type { z } from 'zod';
import { openSigned } from '../cloud/inbound.js';
import { SIGNED_SCHEMA, type CloudKeyring } from '../cloud/signed-message.js';
import { snapshotChunkSchema, type SyncRejectReason } from './messages.js';

export type Verified<T> = { readonly ok: true; readonly msg: T } | { readonly ok: false; readonly reason: SyncRejectReason; readonly detail: string };

export interface Addressing {
  readonly keyring: CloudKeyring | null;
  readonly maxMessageBytes: number;
  readonly gatewayId: string;
  readonly siteId: string;
}

export function verifySyncMessage<S extends z.ZodType>(to: Addressing, raw: Buffer, type: 'sync.snapshot' | 'sync.delta', schema: S): Verified<z.infer<S>> {
  if (to.keyring === null) return { ok: false, reason: 'unknown_key', detail: 'no cloud.publicKeys configured: signed data cannot be verified' };
  const opened = openSigned(to.keyring, raw, to.maxMessageBytes);
  if (!opened.ok) return { ok: false, reason: opened.reason, detail: opened.detail };
  const p = opened.payload;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return { ok: false, reason: 'invalid_payload', detail: 'the signed payload is not a JSON object' };
  const field = (name: string): string | null => {
    const value = (p as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : null;
  };
  // Addressing before the schema: "for another gateway" is the more useful answer.
  const claimedType = field('type');
  if (claimedType !== null && claimedType !== type) {
    return { ok: false, reason: 'wrong_type', detail: `a ${JSON.stringify(claimedType.slice(0, 40))} message where ${type} belongs` };
  }
  const gatewayId = field('gatewayId');
  if (gatewayId !== null && gatewayId !== to.gatewayId) {
    return { ok: false, reason: 'wrong_gateway', detail: `addressed to gateway ${JSON.stringify(gatewayId.slice(0, 63))}` };
  }
  const siteId = field('siteId');
  if (siteId !== null && siteId !== to.siteId) {
    return { ok: false, reason: 'wrong_site', detail: `addressed to site ${JSON.stringify(siteId.slice(0, 63))}` };
  }
  const parsed = schema.safeParse(p);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // Paths and zod's messages name fields and limits, never the offending value.
    return { ok: false, reason: 'invalid_payload', detail: `${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, msg: parsed.data };
}

/**
 * Run the checks once on throwaway input, so that the first chunk of a
 * snapshot costs what every later one does. Code runs cold the first time
 * (V8 compiles a function when it is first called, zod builds an object
 * schema's fast path at its first parse, OpenSSL sets up Ed25519 at its
 * first verification): the first chunk of a 100k apply took 12 ms on the
 * event loop, the next ones 2 (bench/sync-apply.ts). Called when a snapshot
 * is asked for, while the cloud prepares it. Changes nothing, counts
 * nothing, never throws.
 */
export function warmSyncVerification(to: Addressing): void {
  const keyId = to.keyring?.keyIds[0];
  if (keyId === undefined) return;
  const payload = {
    type: 'sync.snapshot',
    gatewayId: to.gatewayId,
    siteId: to.siteId,
    snapshotId: 'warm-up',
    version: 1,
    requestId: null,
    issuedAt: new Date(0).toISOString(),
    chunk: 0,
    chunks: 1,
    checksum: `sha256:${'0'.repeat(64)}`,
    data: '{}',
  };
  // A signature of zeros: every step up to the signature's check, which fails.
  const envelope = { schema: SIGNED_SCHEMA, keyId, payload: Buffer.from(JSON.stringify(payload)).toString('base64'), sig: Buffer.alloc(64).toString('base64') };
  try {
    verifySyncMessage(to, Buffer.from(JSON.stringify(envelope)), 'sync.snapshot', snapshotChunkSchema);
    snapshotChunkSchema.safeParse(payload);
  } catch {
    // Only a warm-up: the real message meets the same code, and its own error handling.
  }
}
