/**
 * The journal event of an executed remote command (topic events/command), so
 * operators see remote unlocks, lockdowns and check-outs in the cloud next to
 * card reads. It shares the journal, the seq numbering and the delivery
 * guarantees of access events.
 */
import { z } from 'zod';
import { commandActionSchema } from './link-messages.js';

export const commandEventSchema = z
  .object({
    schema: z.literal('gatehouse.command/1'),
    eventId: z.string().describe('UUIDv7, unique per event; the cloud deduplicates by it.'),
    bootId: z.string().describe('Random id of the daemon run that executed the command.'),
    seq: z.number().int().positive().describe('Per-gateway sequence number, shared with access events.'),
    ts: z.string().describe('When the gateway executed the command, ISO 8601 UTC with milliseconds.'),
    siteId: z.string(),
    gatewayId: z.string(),
    cmdId: z.string().describe('The command executed; also in the cmd/response answers.'),
    keyId: z.string().describe('Id of the cloud key that signed the command.'),
    issuedAt: z.string().describe("The command's issuedAt, as the cloud sent it."),
    action: commandActionSchema,
    doorId: z.string().nullable().describe('Door acted on; null for actions without a door.'),
    doorMode: z
      .enum(['normal', 'locked-down', 'unlocked'])
      .nullable()
      .describe('Mode of the door after a lockdown or release; null for other actions.'),
    unlockMs: z.number().int().nonnegative().describe('How long the door was unlocked (door.unlock); 0 otherwise.'),
    personId: z.string().nullable().describe('Person checked out (person.checkout); null otherwise.'),
    checkin: z.enum(['checked_out', 'none']).describe('checked_out: the command closed a check-in session (a check-out by the operator).'),
    sessionId: z.string().nullable().describe('Check-in session closed by this event.'),
  })
  .strict();

export type CommandEvent = z.infer<typeof commandEventSchema>;
