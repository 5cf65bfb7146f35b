/**
 * What the scanner child process tells the daemon over IPC. The daemon
 * validates every message: a child that misbehaves (or a noble bug that
 * corrupts a frame) is a fault of that child, never of the daemon.
 */
import { z } from 'zod';
import type { BleAdvertisement } from './frames.js';

const hexString = (max: number) => z.string().regex(/^[0-9a-f]*$/).max(max);
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const dbm = int(-128, 127);

const frameSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ibeacon'), fields: z.object({ uuid: z.string().max(36), major: int(0, 0xffff), minor: int(0, 0xffff), measuredPower: dbm }).strict() }).strict(),
  z.object({ kind: z.literal('eddystone-uid'), fields: z.object({ txPower: dbm, namespace: hexString(20), instance: hexString(12) }).strict() }).strict(),
  z.object({ kind: z.literal('eddystone-url'), fields: z.object({ txPower: dbm, url: z.string().max(200) }).strict() }).strict(),
  z
    .object({
      kind: z.literal('eddystone-tlm'),
      fields: z.object({ batteryMv: int(0, 0xffff).nullable(), temperatureC: z.number().nullable(), advCount: int(0, 0xffffffff), uptimeS: z.number().nonnegative() }).strict(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('altbeacon'),
      fields: z
        .object({ manufacturerId: int(0, 0xffff), beaconId: hexString(40), id1: z.string().max(36), id2: int(0, 0xffff), id3: int(0, 0xffff), refRssi: dbm, reserved: int(0, 255) })
        .strict(),
    })
    .strict(),
  z.object({ kind: z.literal('manufacturer'), fields: z.object({ companyId: int(0, 0xffff), data: hexString(600) }).strict() }).strict(),
  z.object({ kind: z.literal('tap'), fields: z.object({ keyId: hexString(8), counter: int(0, 0xffffffff), mac: hexString(16) }).strict() }).strict(),
]);

const advertisementSchema = z.intersection(frameSchema, z.object({ address: z.string().max(64), rssi: dbm, at: z.number() }));

export type UnavailableReason = 'no-adapter' | 'powered-off' | 'unauthorized' | 'busy' | 'no-library' | 'timeout';

export const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('scanning') }).strict(),
  z.object({ type: z.literal('advertisement'), ad: advertisementSchema }).strict(),
  z.object({ type: z.literal('malformed'), error: z.string().max(500) }).strict(),
  z
    .object({
      type: z.literal('unavailable'),
      reason: z.enum(['no-adapter', 'powered-off', 'unauthorized', 'busy', 'no-library', 'timeout']),
      message: z.string().max(2000),
    })
    .strict(),
]);

export type WorkerMessage =
  | { readonly type: 'scanning' }
  | { readonly type: 'advertisement'; readonly ad: BleAdvertisement }
  | { readonly type: 'malformed'; readonly error: string }
  | { readonly type: 'unavailable'; readonly reason: UnavailableReason; readonly message: string };

/** Null for anything that is not a well-formed worker message. */
export function parseWorkerMessage(value: unknown): WorkerMessage | null {
  const parsed = workerMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Exit code of a worker that found the adapter unusable (after an 'unavailable' message): not a crash. */
export const EXIT_UNAVAILABLE = 3;
