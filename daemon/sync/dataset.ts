/**
 * The data set the cloud sends: people with their credentials and
 * entitlements. The same shape arrives as a full snapshot over MQTT (sync
 * issue), from `gatehouse sync import`, and as the demo seed file, and all of
 * them go through store/cache.ts applySnapshot().
 *
 * Credential values travel in plaintext inside the (signed, TLS-protected)
 * message and are hashed on arrival; they are never stored.
 */
import { z } from 'zod';

const isoInstant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)) && /[zZ]|[+-]\d\d:\d\d$/.test(s), 'expected an ISO 8601 instant with a zone, e.g. 2026-01-01T00:00:00Z');

const cloudId = z.string().min(1).max(128);

export const credentialRecordSchema = z
  .object({
    id: cloudId,
    kind: z.enum(['card', 'pin', 'visitor_code']),
    value: z.string().min(1).max(64),
    validFrom: isoInstant.nullable().default(null),
    validTo: isoInstant.nullable().default(null),
    status: z.enum(['active', 'revoked']).default('active'),
  })
  .strict();

export const entitlementRecordSchema = z
  .object({
    id: cloudId,
    kind: z.enum(['plan', 'day_pass', 'time_pass', 'visitor_token']),
    name: z.string().max(200).default(''),
    validFrom: isoInstant.nullable().default(null),
    validTo: isoInstant.nullable().default(null),
    minutesLeft: z.number().int().nonnegative().nullable().default(null),
  })
  .strict();

export const personRecordSchema = z
  .object({
    id: cloudId,
    kind: z.enum(['member', 'contact', 'visitor']),
    name: z.string().max(200),
    status: z.enum(['active', 'suspended', 'archived']),
    hostId: cloudId.nullable().default(null),
    credentials: z.array(credentialRecordSchema).max(64).default([]),
    entitlements: z.array(entitlementRecordSchema).max(256).default([]),
  })
  .strict();

export const datasetSchema = z
  .object({
    schema: z.literal('gatehouse.dataset/1'),
    version: z.number().int().nonnegative().describe('Cloud data version this set represents.'),
    people: z.array(personRecordSchema),
  })
  .strict();

export type Dataset = z.infer<typeof datasetSchema>;
export type PersonRecord = z.infer<typeof personRecordSchema>;
