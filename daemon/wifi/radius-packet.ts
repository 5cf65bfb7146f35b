/**
 * RADIUS packets (RFC 2865 access, RFC 2866 accounting) as bytes and back.
 * Pure: no sockets, no secrets (those are in radius-auth.ts). Decoding is
 * strict, because everything arriving on the port is untrusted until its
 * authenticator checks out: any length that does not add up is a
 * RadiusFormatError, never another exception. Attribute values are kept as
 * raw bytes in their original order, so a decoded packet re-encodes to the
 * same bytes (the authenticators are computed over exactly those bytes).
 * Vendor-specific attributes are passed over untouched.
 */

/** Packet codes (RFC 2865 §3, RFC 2866 §3, RFC 5997). */
export const RadiusCode = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
} as const;

/** The attribute types Gatehouse reads or writes (RFC 2865 §5, RFC 2866 §5, RFC 2869, RFC 3579). */
export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  ReplyMessage: 18,
  State: 24,
  VendorSpecific: 26,
  SessionTimeout: 27,
  IdleTimeout: 28,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  AcctStatusType: 40,
  AcctInputOctets: 42,
  AcctOutputOctets: 43,
  AcctSessionId: 44,
  AcctTerminateCause: 49,
  AcctInputGigawords: 52,
  AcctOutputGigawords: 53,
  MessageAuthenticator: 80,
  AcctInterimInterval: 85,
} as const;

/** Acct-Status-Type values (RFC 2866 §5.1, RFC 2869 §5.1). */
export const AcctStatus = { Start: 1, Stop: 2, InterimUpdate: 3, AccountingOn: 7, AccountingOff: 8 } as const;

export const HEADER_LENGTH = 20;
/** RFC 2865 §3: the largest packet. */
export const MAX_PACKET_LENGTH = 4096;
export const MAX_ATTRIBUTE_VALUE = 253;
export const AUTHENTICATOR_LENGTH = 16;

export class RadiusFormatError extends Error {
  override readonly name = 'RadiusFormatError';
}

export interface RadiusAttribute {
  readonly type: number;
  readonly value: Buffer;
}

export interface RadiusPacket {
  readonly code: number;
  readonly identifier: number;
  readonly authenticator: Buffer;
  readonly attributes: readonly RadiusAttribute[];
}

/**
 * Parse one datagram. Bytes past the Length field are padding and ignored
 * (RFC 2865 §3); a datagram shorter than its Length field, an attribute
 * running past the end, or a known attribute of the wrong size is refused.
 */
export function decodePacket(datagram: Uint8Array): RadiusPacket {
  if (datagram.length < HEADER_LENGTH) throw new RadiusFormatError(`packet of ${datagram.length} bytes is shorter than the 20-byte header`);
  const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  const length = buf.readUInt16BE(2);
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH) throw new RadiusFormatError(`Length field ${length} is outside 20..4096`);
  if (length > buf.length) throw new RadiusFormatError(`Length field ${length} exceeds the ${buf.length} bytes received`);
  const attributes: RadiusAttribute[] = [];
  let offset = HEADER_LENGTH;
  while (offset < length) {
    if (offset + 2 > length) throw new RadiusFormatError(`truncated attribute header at offset ${offset}`);
    const type = buf[offset] ?? 0;
    const attrLength = buf[offset + 1] ?? 0;
    if (attrLength < 2) throw new RadiusFormatError(`attribute ${type} at offset ${offset} has length ${attrLength}`);
    if (offset + attrLength > length) throw new RadiusFormatError(`attribute ${type} at offset ${offset} runs past the packet`);
    const value = Buffer.from(buf.subarray(offset + 2, offset + attrLength));
    checkAttributeSize(type, value);
    attributes.push({ type, value });
    offset += attrLength;
  }
  if (attributes.filter((a) => a.type === Attr.MessageAuthenticator).length > 1) {
    throw new RadiusFormatError('more than one Message-Authenticator');
  }
  return { code: buf[0] ?? 0, identifier: buf[1] ?? 0, authenticator: Buffer.from(buf.subarray(4, 20)), attributes };
}

const INTEGER_ATTRIBUTES: ReadonlySet<number> = new Set([
  Attr.SessionTimeout,
  Attr.IdleTimeout,
  Attr.AcctStatusType,
  Attr.AcctInputOctets,
  Attr.AcctOutputOctets,
  Attr.AcctTerminateCause,
  Attr.AcctInputGigawords,
  Attr.AcctOutputGigawords,
  Attr.AcctInterimInterval,
]);

function checkAttributeSize(type: number, value: Buffer): void {
  if (type === Attr.MessageAuthenticator && value.length !== AUTHENTICATOR_LENGTH) {
    throw new RadiusFormatError(`Message-Authenticator of ${value.length} bytes (expected 16)`);
  }
  if (type === Attr.NasIpAddress && value.length !== 4) throw new RadiusFormatError(`NAS-IP-Address of ${value.length} bytes`);
  if (INTEGER_ATTRIBUTES.has(type) && value.length !== 4) throw new RadiusFormatError(`integer attribute ${type} of ${value.length} bytes`);
  // Vendor-Id (4) plus at least one byte of vendor data (RFC 2865 §5.26).
  if (type === Attr.VendorSpecific && value.length < 5) throw new RadiusFormatError(`Vendor-Specific of ${value.length} bytes`);
  if (type === Attr.UserPassword && (value.length < 16 || value.length > 128 || value.length % 16 !== 0)) {
    throw new RadiusFormatError(`User-Password of ${value.length} bytes (expected 16..128, a multiple of 16)`);
  }
}

/** Serialise a packet; the Length field is computed. Throws RadiusFormatError for values that cannot be sent. */
export function encodePacket(packet: RadiusPacket): Buffer {
  if (!Number.isInteger(packet.code) || packet.code < 0 || packet.code > 255) throw new RadiusFormatError(`code ${packet.code}`);
  if (!Number.isInteger(packet.identifier) || packet.identifier < 0 || packet.identifier > 255) {
    throw new RadiusFormatError(`identifier ${packet.identifier}`);
  }
  if (packet.authenticator.length !== AUTHENTICATOR_LENGTH) throw new RadiusFormatError('authenticator must be 16 bytes');
  let length = HEADER_LENGTH;
  for (const a of packet.attributes) {
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > 255) throw new RadiusFormatError(`attribute type ${a.type}`);
    if (a.value.length > MAX_ATTRIBUTE_VALUE) throw new RadiusFormatError(`attribute ${a.type} value of ${a.value.length} bytes (max 253)`);
    checkAttributeSize(a.type, a.value);
    length += 2 + a.value.length;
  }
  if (length > MAX_PACKET_LENGTH) throw new RadiusFormatError(`packet of ${length} bytes exceeds 4096`);
  const out = Buffer.alloc(length);
  out[0] = packet.code;
  out[1] = packet.identifier;
  out.writeUInt16BE(length, 2);
  packet.authenticator.copy(out, 4);
  let offset = HEADER_LENGTH;
  for (const a of packet.attributes) {
    out[offset] = a.type;
    out[offset + 1] = a.value.length + 2;
    a.value.copy(out, offset + 2);
    offset += 2 + a.value.length;
  }
  return out;
}

/** The first value of an attribute, or undefined. */
export const attribute = (packet: RadiusPacket, type: number): Buffer | undefined => packet.attributes.find((a) => a.type === type)?.value;

/** A text attribute as UTF-8 (invalid sequences become U+FFFD), or undefined. */
export function textAttribute(packet: RadiusPacket, type: number): string | undefined {
  const value = attribute(packet, type);
  return value === undefined ? undefined : value.toString('utf8');
}

/** A 32-bit integer attribute (sizes are checked on decode), or undefined. */
export function integerAttribute(packet: RadiusPacket, type: number): number | undefined {
  const value = attribute(packet, type);
  return value === undefined || value.length !== 4 ? undefined : value.readUInt32BE(0);
}

export const textValue = (type: number, text: string): RadiusAttribute => {
  // Truncated at a character boundary: a Reply-Message must stay valid UTF-8.
  let value = Buffer.from(text, 'utf8');
  let chars = [...text];
  while (value.length > MAX_ATTRIBUTE_VALUE) {
    chars = chars.slice(0, -1);
    value = Buffer.from(chars.join(''), 'utf8');
  }
  return { type, value };
};

export const integerValue = (type: number, n: number): RadiusAttribute => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(Math.max(0, Math.min(0xffff_ffff, Math.floor(n))), 0);
  return { type, value };
};

export const codeName = (code: number): string =>
  (Object.entries(RadiusCode).find(([, c]) => c === code)?.[0] ?? `code-${code}`).replace(/([a-z])([A-Z])/g, '$1-$2');
