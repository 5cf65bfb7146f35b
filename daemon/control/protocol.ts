/**
 * The local control socket's protocol: one JSON request line, one JSON
 * response line, then the server closes. Requests are validated like any
 * inbound message: a bad one gets an error reply and changes nothing.
 */
import { z } from 'zod';

export const controlRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('status') }).strict(),
  z
    .object({
      op: z.literal('sim'),
      kind: z.enum(['card', 'keypad']),
      value: z.string().min(1).max(64),
      reader: z.string().max(64).optional(),
    })
    .strict(),
  z
    .object({
      op: z.literal('sim-input'),
      door: z.string().min(1).max(64),
      input: z.enum(['contact', 'rex']),
      action: z.enum(['open', 'closed', 'press']),
    })
    .strict(),
  z.object({ op: z.literal('events'), limit: z.number().int().min(1).max(1000).default(20) }).strict(),
  // The daemon reads the file itself (it may be far larger than a request line)
  // and answers at once; progress and outcome are polled with sync-status.
  z
    .object({
      op: z.literal('sync-import'),
      path: z.string().min(2).max(4096).startsWith('/', 'an absolute path: the daemon does not share the caller\'s working directory'),
      force: z.boolean().default(false),
    })
    .strict(),
  z.object({ op: z.literal('sync-status') }).strict(),
  z.object({ op: z.literal('sync-request') }).strict(),
  // Technician tools. tail streams one JSON line per decision until the client hangs up.
  z.object({ op: z.literal('tail') }).strict(),
  // The value is hashed by the daemon and never echoed back or logged.
  z.object({ op: z.literal('lookup'), kind: z.enum(['card', 'keypad']), value: z.string().min(1).max(64) }).strict(),
  z.object({ op: z.literal('outbox'), limit: z.number().int().min(0).max(1000).default(20) }).strict(),
  z.object({ op: z.literal('outbox-retry') }).strict(),
  z.object({ op: z.literal('relay-test'), door: z.string().min(1).max(64) }).strict(),
  z
    .object({
      op: z.literal('kiosk-pair'),
      name: z.string().trim().min(1).max(64).regex(/^[\p{L}\p{N} ._-]+$/u, 'letters, digits, spaces, dots, dashes and underscores'),
    })
    .strict(),
  z.object({ op: z.literal('kiosk-list') }).strict(),
  z.object({ op: z.literal('kiosk-revoke'), id: z.string().min(1).max(64) }).strict(),
]);

export type ControlRequest = z.infer<typeof controlRequestSchema>;

export type ControlResponse = { ok: true; data: unknown } | { ok: false; error: string };

/** Longest request line accepted; anything longer is refused without parsing. */
export const MAX_REQUEST_BYTES = 16 * 1024;

export function parseControlRequest(line: string): { ok: true; request: ControlRequest } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: 'request is not valid JSON' };
  }
  const parsed = controlRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    return { ok: false, error: `invalid request${path === '' ? '' : ` at ${path}`}: ${issue?.message ?? 'unknown'}` };
  }
  return { ok: true, request: parsed.data };
}
