/**
 * What Gatehouse publishes, as zod schemas. They type the producers, validate
 * in tests, and are rendered to JSON Schema in docs/mqtt-contract.md so a
 * cloud team can implement its side from the document alone.
 */
import { z } from 'zod';

export const decisionReasonSchema = z.enum([
  'granted',
  'unknown_credential',
  'ambiguous_credential',
  'credential_not_valid',
  'person_inactive',
  'no_valid_pass',
  'outside_schedule',
  'door_locked_down',
  'cache_stale',
]);

export const accessEventSchema = z
  .object({
    schema: z.literal('gatehouse.access/1'),
    eventId: z.string().describe('UUIDv7, unique per event; the cloud deduplicates by it.'),
    bootId: z.string().describe('Random id of the daemon run that decided.'),
    seq: z
      .number()
      .int()
      .positive()
      .describe('Per-gateway sequence number, increasing across reboots; a gap that persists means lost events.'),
    ts: z.string().describe('Decision time, ISO 8601 UTC with milliseconds.'),
    siteId: z.string(),
    gatewayId: z.string(),
    readerId: z.string(),
    doorId: z.string().nullable(),
    credential: z
      .object({
        kind: z.enum(['card', 'keypad']),
        fingerprint: z.string().describe('First 8 hex digits of the keyed hash: correlates reads, reveals nothing.'),
      })
      .strict(),
    person: z
      .object({ id: z.string(), kind: z.enum(['member', 'contact', 'visitor']) })
      .strict()
      .nullable()
      .describe('Whose credential it was; null when unknown or ambiguous.'),
    decision: z
      .object({
        outcome: z.enum(['granted', 'denied']),
        reason: decisionReasonSchema,
      })
      .strict(),
    checkin: z
      .enum(['checked_in', 'checked_out', 'failed', 'none'])
      .describe('Effect on presence: failed = a check-in attempt without a valid pass (the platform\'s "failed check-in").'),
    sessionId: z.string().nullable().describe('Check-in session opened or closed by this event.'),
    unlockMs: z.number().int().nonnegative().describe('How long the door was unlocked; 0 when it was not.'),
    cache: z
      .object({
        version: z.number().int().nonnegative().describe('Cloud data version of the cache the decision was made on; 0 = never synced.'),
        syncedAt: z.string().nullable().describe('Last successful sync before the decision, ISO 8601 UTC; null = never.'),
        ageS: z.number().int().nonnegative().nullable().describe('Seconds from syncedAt to the decision; null = never synced.'),
        stale: z.boolean().describe('Whether the decision was made on stale data (no sync for cloud.staleAfterHours).'),
      })
      .strict(),
  })
  .strict();

export const gatewayStatusSchema = z
  .object({
    schema: z.literal('gatehouse.status/1'),
    state: z
      .enum(['online', 'offline'])
      .describe('online: published on every connect. offline: graceful stop, or the Last Will published by the broker.'),
    gatewayId: z.string(),
    siteId: z.string(),
    bootId: z.string().describe('Random id of the daemon run; a new value on online means the gateway restarted.'),
    version: z.string().describe('Gatehouse software version.'),
    ts: z
      .string()
      .describe('ISO 8601 UTC. For the Last Will: when the connection carrying it was opened, not when it was published.'),
  })
  .strict();

export const doorEventSchema = z
  .object({
    schema: z.literal('gatehouse.door/1'),
    eventId: z.string().describe('UUIDv7, unique per event; the cloud deduplicates by it.'),
    bootId: z.string().describe('Random id of the daemon run that saw the event.'),
    seq: z.number().int().positive().describe('Per-gateway sequence number, shared with access and command events.'),
    ts: z.string().describe('When the gateway saw the event, ISO 8601 UTC with milliseconds.'),
    siteId: z.string(),
    gatewayId: z.string(),
    doorId: z.string(),
    event: z
      .enum(['forced-open', 'held-open-prealarm', 'held-open', 'closed-after-alarm', 'rex', 'mode-changed', 'input-fault'])
      .describe(
        'forced-open: the contact opened while locked, without a grant or REX. held-open-prealarm / held-open: an authorised opening lasts heldOpenS - preAlarmS / heldOpenS. closed-after-alarm: the door closed after one of those alarms. rex: the request-to-exit input was pressed. mode-changed: see mode. input-fault: the contact or REX input was lost (see input).',
      ),
    mode: z.enum(['normal', 'unlocked', 'locked-down']).describe('Door mode when the event happened (the new mode for mode-changed).'),
    alarm: z
      .enum(['forced-open', 'held-open-prealarm', 'held-open'])
      .nullable()
      .describe('The alarm raised, or for closed-after-alarm the alarm that ended; null for other events.'),
    input: z.enum(['contact', 'rex']).nullable().describe('The input that failed (input-fault); null for other events.'),
    openS: z
      .number()
      .int()
      .nonnegative()
      .nullable()
      .describe('Seconds the door had been open (held-open alarms, closed-after-alarm), when known.'),
  })
  .strict();

export type DoorEvent = z.infer<typeof doorEventSchema>;
export type DecisionReason = z.infer<typeof decisionReasonSchema>;
export type AccessEvent = z.infer<typeof accessEventSchema>;
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;
