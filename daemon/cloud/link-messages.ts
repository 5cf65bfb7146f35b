/**
 * The cloud-to-gateway messages of the command and acknowledgement channel,
 * and the gateway's answer to a command. The first two travel as the signed
 * payload inside the envelope of signed-message.ts; the response is published
 * by the gateway, which holds no signing key, and is authenticated by the
 * broker ACL (only the gateway may publish under its own prefix).
 *
 * These schemas are the contract the cloud (and scripts/cloud-sim) builds
 * against; docs/mqtt-contract.md renders them to JSON Schema.
 */
import { z } from 'zod';

/** Parsed by Date.parse and carrying a zone, so "10:00" never means local time on one side and UTC on the other. */
const isoInstant = z
  .string()
  .max(64)
  .refine((s) => !Number.isNaN(Date.parse(s)) && /[zZ]|[+-]\d\d:\d\d$/.test(s), 'expected an ISO 8601 instant with a zone, e.g. 2026-01-01T00:00:00Z');

const cloudId = z.string().min(1).max(128);

/** Longest remote unlock: an hour covers an event set-up; longer belongs in a schedule or a lockdown release. */
export const MAX_UNLOCK_SECONDS = 3600;

/**
 * Longest validity window a command may carry. The at-most-once record of a
 * command is kept until it expires, so this also bounds how long
 * cloud_commands rows live.
 */
export const MAX_COMMAND_LIFETIME_MS = 24 * 60 * 60 * 1000;

export const commandActionSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('door.unlock'),
        doorId: cloudId,
        seconds: z.number().int().min(1).max(MAX_UNLOCK_SECONDS).describe(`How long the door stays unlocked, 1-${MAX_UNLOCK_SECONDS}.`),
      })
      .strict()
      .describe('Unlock a door for a while, as a granted card would (the relay pulse, not a mode change).'),
    z
      .object({ kind: z.literal('door.lockdown'), doorId: cloudId })
      .strict()
      .describe('Put a door in mode locked-down: relocked at once, every credential denied (door_locked_down) until door.release. Survives restarts.'),
    z
      .object({ kind: z.literal('door.release'), doorId: cloudId })
      .strict()
      .describe('Return a door to mode normal (ends a lockdown or a hold-open).'),
    z
      .object({ kind: z.literal('door.hold-open'), doorId: cloudId })
      .strict()
      .describe('Put a door in mode unlocked: held unlocked until door.release or door.lockdown. Survives restarts.'),
    z.object({ kind: z.literal('sync.resync') }).strict().describe('Ask the gateway to fetch a full snapshot of its data set.'),
    z
      .object({ kind: z.literal('person.checkout'), personId: cloudId })
      .strict()
      .describe('Close the open check-in session of a person; journals a check-out event.'),
  ])
  .describe('What to do; `kind` selects the variant.');

export const commandSchema = z
  .object({
    type: z.literal('command'),
    gatewayId: z.string().min(1).max(63).describe('The one gateway that may execute it; any other answers rejected/wrong_gateway.'),
    cmdId: cloudId.describe('Unique per command, chosen by the cloud; a second command with the same id is rejected (duplicate).'),
    issuedAt: isoInstant,
    expiresAt: isoInstant.describe(`After this instant (plus the gateway's clock-skew allowance) the command is rejected (expired). At most 24 h after issuedAt.`),
    action: commandActionSchema,
  })
  .strict()
  .refine((c) => Date.parse(c.expiresAt) > Date.parse(c.issuedAt), { message: 'expiresAt must be after issuedAt', path: ['expiresAt'] })
  .refine((c) => Date.parse(c.expiresAt) - Date.parse(c.issuedAt) <= MAX_COMMAND_LIFETIME_MS, {
    message: 'a command may be valid for at most 24 hours',
    path: ['expiresAt'],
  })
  .describe('A remote command, signed by the cloud (type "command" inside gatehouse.signed/1). Also checked: issuedAt < expiresAt <= issuedAt + 24 h.');

export const commandStatusSchema = z
  .enum(['accepted', 'done', 'rejected'])
  .describe(
    'accepted: verified and recorded, execution starts (always followed by done or rejected). done: executed. rejected: not executed, see reason.',
  );

export const commandRejectReasonSchema = z
  .enum([
    // The envelope (signed-message.ts): nothing in it can be trusted.
    'oversized',
    'malformed',
    'unsigned',
    'unknown_key',
    'bad_signature',
    'payload_not_json',
    // A verified payload that is not a command this gateway may run now.
    'invalid_command',
    'unknown_action',
    'wrong_gateway',
    'expired',
    'not_yet_valid',
    'duplicate',
    // Execution.
    'unknown_door',
    'door_locked_down',
    'unknown_person',
    'not_checked_in',
    'failed',
  ])
  .describe('Why a command was not executed.');

export const commandResponseSchema = z
  .object({
    schema: z.literal('gatehouse.cmd-response/1'),
    gatewayId: z.string(),
    cmdId: z
      .string()
      .nullable()
      .describe(
        'The command answered; null when none could be read. For envelope rejections it is read from the unverified payload, so it only correlates, it proves nothing.',
      ),
    status: commandStatusSchema,
    reason: commandRejectReasonSchema.optional().describe('Present exactly when status is rejected.'),
    detail: z.string().max(300).optional().describe('Human-readable explanation; not for machines.'),
    action: z.string().nullable().describe('action.kind of the command, when known.'),
    eventId: z.string().nullable().describe('For done: the journaled command event (topic events/command) that records the effect.'),
    ts: z.string().describe('When the gateway answered, ISO 8601 UTC.'),
  })
  .strict();

/** Most event ids one ack may name: keeps one ack's transaction and payload small. */
export const MAX_ACK_EVENT_IDS = 1000;

export const eventsAckSchema = z
  .object({
    type: z.literal('events.ack'),
    gatewayId: z.string().min(1).max(63),
    eventIds: z
      .array(z.string().min(1).max(64))
      .max(MAX_ACK_EVENT_IDS)
      .optional()
      .describe('Events the cloud has stored durably, by eventId. The preferred form: exact, order-free, replay-safe.'),
    throughSeq: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Cumulative: every event with seq <= throughSeq is stored. Send it only once every seq up to it has arrived (seq has no gaps). A value beyond the last seq the gateway assigned is ignored as a whole (its database was replaced; see bootId).',
      ),
  })
  .strict()
  .refine((a) => (a.eventIds?.length ?? 0) > 0 || a.throughSeq !== undefined, { message: 'name eventIds, throughSeq, or both' })
  .describe('The cloud confirms it stored events durably (type "events.ack" inside gatehouse.signed/1). Names a non-empty eventIds, a throughSeq, or both.');

export type CommandAction = z.infer<typeof commandActionSchema>;
export type CommandActionKind = CommandAction['kind'];
export type Command = z.infer<typeof commandSchema>;
export type CommandStatus = z.infer<typeof commandStatusSchema>;
export type CommandRejectReason = z.infer<typeof commandRejectReasonSchema>;
export type CommandResponse = z.infer<typeof commandResponseSchema>;
export type EventsAck = z.infer<typeof eventsAckSchema>;

export const commandActionKinds: readonly CommandActionKind[] = ['door.unlock', 'door.lockdown', 'door.release', 'door.hold-open', 'sync.resync', 'person.checkout'];
