/** Request bodies of the kiosk API (docs/kiosk-api.md), validated like any inbound message. */
import { z } from 'zod';
import { MAX_QR_LENGTH } from './qr-content.js';

export const API_VERSION = 'v1';
/** Largest request body accepted; the biggest legitimate one (a registration) is well under 1 KiB. */
export const MAX_BODY_BYTES = 4096;

export const pairRequestSchema = z
  .object({
    code: z.string().min(1).max(32),
  })
  .strict();

export const checkinRequestSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('pin'), code: z.string().regex(/^\d{4,12}$/, 'a code is 4 to 12 digits') }).strict(),
  z.object({ method: z.literal('qr'), content: z.string().min(1).max(MAX_QR_LENGTH) }).strict(),
]);

export const registrationRequestSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(2, 'please give your full name')
      .max(120)
      // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
      .refine((n) => !/[\u0000-\u001f\u007f<>]/.test(n), 'the name contains characters that are not allowed'),
    email: z.string().trim().max(254).pipe(z.email('please give a valid email address')),
    hostId: z.string().min(1).max(128),
    termsAccepted: z.literal(true, 'the terms must be accepted'),
  })
  .strict();

export type CheckinRequest = z.infer<typeof checkinRequestSchema>;
export type RegistrationBody = z.infer<typeof registrationRequestSchema>;

/** The first problem of a failed parse, as one sentence for the error body. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid request';
  const path = issue.path.join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
