/**
 * The shared-secret cryptography of RADIUS: User-Password hiding (RFC 2865
 * §5.2), the Response Authenticator (§3), the Accounting-Request
 * authenticator (RFC 2866 §3) and Message-Authenticator (HMAC-MD5, RFC 3579
 * §3.2). Since BlastRADIUS (CVE-2024-3596) an Access-Request without a valid
 * Message-Authenticator is refused, and every reply carries one as its FIRST
 * attribute, so a forged prefix cannot be chosen to collide the MD5 of the
 * Response Authenticator.
 *
 * Secrets arrive as SecretValue and are revealed only into a hash.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretValue } from '../runtime/secret.js';
import {
  AUTHENTICATOR_LENGTH,
  Attr,
  RadiusCode,
  RadiusFormatError,
  encodePacket,
  type RadiusAttribute,
  type RadiusPacket,
} from './radius-packet.js';

const ZERO_AUTHENTICATOR = Buffer.alloc(AUTHENTICATOR_LENGTH);

const md5 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('md5');
  for (const p of parts) hash.update(p);
  return hash.digest();
};

const secretBytes = (secret: SecretValue): Buffer => Buffer.from(secret.reveal(), 'utf8');

const equal = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/** RFC 2865 §5.2: the cleartext password of a User-Password value. Throws RadiusFormatError. */
export function unhidePassword(hidden: Buffer, secret: SecretValue, requestAuthenticator: Buffer): Buffer {
  if (hidden.length < 16 || hidden.length > 128 || hidden.length % 16 !== 0) {
    throw new RadiusFormatError('User-Password is not 16..128 bytes in blocks of 16');
  }
  const key = secretBytes(secret);
  const out = Buffer.alloc(hidden.length);
  let previous = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const block = hidden.subarray(i, i + 16);
    const pad = md5(key, previous);
    for (let j = 0; j < 16; j++) out[i + j] = (block[j] ?? 0) ^ (pad[j] ?? 0);
    previous = block;
  }
  // The cleartext was padded with NULs to a multiple of 16.
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/** RFC 2865 §5.2: hide a password (clients; tests). At most 128 bytes. */
export function hidePassword(password: Buffer, secret: SecretValue, requestAuthenticator: Buffer): Buffer {
  if (password.length > 128) throw new RadiusFormatError('a User-Password holds at most 128 bytes');
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(padded);
  const key = secretBytes(secret);
  const out = Buffer.alloc(padded.length);
  let previous = requestAuthenticator;
  for (let i = 0; i < padded.length; i += 16) {
    const pad = md5(key, previous);
    for (let j = 0; j < 16; j++) out[i + j] = (padded[i + j] ?? 0) ^ (pad[j] ?? 0);
    previous = out.subarray(i, i + 16);
  }
  return out;
}

/** Replace the Message-Authenticator value (if any) with 16 zero bytes, as its HMAC is computed. */
const withZeroedMessageAuthenticator = (attributes: readonly RadiusAttribute[]): RadiusAttribute[] =>
  attributes.map((a) => (a.type === Attr.MessageAuthenticator ? { type: a.type, value: ZERO_AUTHENTICATOR } : a));

const hmac = (secret: SecretValue, bytes: Buffer): Buffer => createHmac('md5', secretBytes(secret)).update(bytes).digest();

/**
 * Whether a request's Message-Authenticator is right. Access-Request: over
 * the packet as sent; Accounting-Request: with a zero authenticator (as
 * FreeRADIUS and RFC 5080 §2.2.1 compute it). False when it is absent.
 */
export function verifyRequestMessageAuthenticator(request: RadiusPacket, secret: SecretValue): boolean {
  const value = request.attributes.find((a) => a.type === Attr.MessageAuthenticator)?.value;
  if (value === undefined) return false;
  const bytes = encodePacket({
    ...request,
    authenticator: request.code === RadiusCode.AccountingRequest ? ZERO_AUTHENTICATOR : request.authenticator,
    attributes: withZeroedMessageAuthenticator(request.attributes),
  });
  return equal(hmac(secret, bytes), value);
}

/** RFC 2866 §3: MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret). */
export function accountingRequestAuthenticator(request: RadiusPacket, secret: SecretValue): Buffer {
  return md5(encodePacket({ ...request, authenticator: ZERO_AUTHENTICATOR }), secretBytes(secret));
}

export const verifyAccountingRequest = (request: RadiusPacket, secret: SecretValue): boolean =>
  equal(accountingRequestAuthenticator(request, secret), request.authenticator);

/**
 * The authenticator field while a reply's Message-Authenticator is computed:
 * the request's for access replies (RFC 3579 §3.2), zeros for an
 * Accounting-Response (as FreeRADIUS verifies it, like accounting requests).
 */
const macVector = (code: number, requestAuthenticator: Buffer): Buffer =>
  code === RadiusCode.AccountingResponse ? ZERO_AUTHENTICATOR : requestAuthenticator;

/**
 * A reply to `request`, signed: Message-Authenticator first (HMAC-MD5 over
 * the reply, see macVector), then the Response
 * Authenticator MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
 */
export function signReply(request: RadiusPacket, code: number, attributes: readonly RadiusAttribute[], secret: SecretValue): Buffer {
  const unsigned: RadiusPacket = {
    code,
    identifier: request.identifier,
    authenticator: macVector(code, request.authenticator),
    attributes: [{ type: Attr.MessageAuthenticator, value: ZERO_AUTHENTICATOR }, ...attributes.filter((a) => a.type !== Attr.MessageAuthenticator)],
  };
  const bytes = encodePacket(unsigned);
  hmac(secret, bytes).copy(bytes, 20 + 2);
  request.authenticator.copy(bytes, 4);
  md5(bytes, secretBytes(secret)).copy(bytes, 4);
  return bytes;
}

/** Whether a reply's Response Authenticator (and Message-Authenticator, if present) match the request (clients; tests). */
export function verifyReply(reply: RadiusPacket, request: RadiusPacket, secret: SecretValue): boolean {
  const withRequestAuth = { ...reply, authenticator: request.authenticator };
  if (!equal(md5(encodePacket(withRequestAuth), secretBytes(secret)), reply.authenticator)) return false;
  const ma = reply.attributes.find((a) => a.type === Attr.MessageAuthenticator)?.value;
  if (ma === undefined) return true;
  const forMac = { ...reply, authenticator: macVector(reply.code, request.authenticator), attributes: withZeroedMessageAuthenticator(reply.attributes) };
  return equal(hmac(secret, encodePacket(forMac)), ma);
}

/**
 * Build a signed request (clients; tests): an Access-Request gets a
 * Message-Authenticator first; an Accounting-Request gets its computed
 * authenticator. `authenticator` is the random Request Authenticator of an
 * Access-Request.
 */
export function signRequest(packet: RadiusPacket, secret: SecretValue): Buffer {
  if (packet.code === RadiusCode.AccountingRequest) {
    const attributes = packet.attributes;
    return encodePacket({ ...packet, attributes, authenticator: accountingRequestAuthenticator({ ...packet, attributes }, secret) });
  }
  const attributes = [{ type: Attr.MessageAuthenticator, value: ZERO_AUTHENTICATOR }, ...packet.attributes.filter((a) => a.type !== Attr.MessageAuthenticator)];
  const bytes = encodePacket({ ...packet, attributes });
  hmac(secret, bytes).copy(bytes, 20 + 2);
  return bytes;
}
