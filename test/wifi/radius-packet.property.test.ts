/**
 * The RADIUS codec against garbage and round trips: whatever arrives on the
 * port, decoding either yields a packet or throws RadiusFormatError; a decoded
 * packet re-encodes to the same bytes; hidden passwords and signatures round-trip
 * and any flipped byte is detected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../daemon/runtime/secret.js';
import {
  hidePassword,
  signReply,
  signRequest,
  unhidePassword,
  verifyAccountingRequest,
  verifyReply,
  verifyRequestMessageAuthenticator,
} from '../../daemon/wifi/radius-auth.js';
import { Attr, RadiusCode, RadiusFormatError, decodePacket, encodePacket, type RadiusPacket } from '../../daemon/wifi/radius-packet.js';
import { fcOptions } from '../support/fast-check.js';

const secret = new SecretValue('a-shared-secret-of-some-length');

/** Attribute types without a fixed size in the codec: any 1..253 byte value is valid. */
const freeType = fc.integer({ min: 0, max: 255 }).filter((t) => ![2, 4, 26, 27, 28, 40, 42, 43, 49, 52, 53, 80, 85].includes(t));
const attributeArb = fc.oneof(
  fc.record({ type: freeType, value: fc.uint8Array({ minLength: 0, maxLength: 60 }).map((b) => Buffer.from(b)) }),
  fc.record({ type: fc.constant(26), value: fc.uint8Array({ minLength: 5, maxLength: 40 }).map((b) => Buffer.from(b)) }),
  fc.record({ type: fc.constantFrom(27, 28, 40), value: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b)) }),
);
const packetArb: fc.Arbitrary<RadiusPacket> = fc.record({
  code: fc.integer({ min: 0, max: 255 }),
  identifier: fc.integer({ min: 0, max: 255 }),
  authenticator: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
  attributes: fc.array(attributeArb, { maxLength: 20 }),
});

const decodesOrTypedError = (bytes: Uint8Array): void => {
  try {
    decodePacket(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(RadiusFormatError);
  }
};

describe('RADIUS packet codec (properties)', () => {
  it('garbage never throws anything but RadiusFormatError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), decodesOrTypedError), fcOptions(2_000));
  });

  it('a header with a plausible length and random attribute bytes: a packet or a RadiusFormatError', () => {
    const arb = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -4, max: 4 })).map(([code, body, skew]) => {
      const buf = Buffer.alloc(20 + body.length);
      buf[0] = code;
      buf.writeUInt16BE(Math.max(0, Math.min(0xffff, 20 + body.length + skew)), 2);
      Buffer.from(body).copy(buf, 20);
      return buf;
    });
    fc.assert(fc.property(arb, decodesOrTypedError), fcOptions(2_000));
  });

  it('round-trips: encode then decode gives the packet back, and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        const bytes = encodePacket(packet);
        const decoded = decodePacket(bytes);
        expect(decoded).toEqual({ ...packet, attributes: packet.attributes.map((a) => ({ type: a.type, value: Buffer.from(a.value) })) });
        expect(encodePacket(decoded).equals(bytes)).toBe(true);
        // Padding past the Length field is ignored.
        expect(decodePacket(Buffer.concat([bytes, Buffer.alloc(7, 0xee)]))).toEqual(decoded);
      }),
      fcOptions(500),
    );
  });

  it('a truncated valid packet is refused with RadiusFormatError', () => {
    fc.assert(
      fc.property(packetArb, fc.nat(), (packet, cut) => {
        const bytes = encodePacket(packet);
        if (bytes.length <= 20) return;
        const short = bytes.subarray(0, 20 + (cut % (bytes.length - 20)));
        expect(() => decodePacket(short)).toThrow(RadiusFormatError);
      }),
      fcOptions(300),
    );
  });

  it('hides and recovers any password of up to 128 bytes (without trailing NULs)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 128 }).filter((b) => b[b.length - 1] !== 0),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (password, auth) => {
          const hidden = hidePassword(Buffer.from(password), secret, Buffer.from(auth));
          expect(hidden.length % 16).toBe(0);
          expect(unhidePassword(hidden, secret, Buffer.from(auth)).equals(Buffer.from(password))).toBe(true);
          expect(unhidePassword(hidden, new SecretValue('another-secret-entirely'), Buffer.from(auth)).equals(Buffer.from(password))).toBe(false);
        },
      ),
      fcOptions(300),
    );
  });

  it('RFC 2865 §7.1 vector: "arctangent" hidden with secret xyzzy5461', () => {
    const auth = Buffer.from('0f403f9473978057bd83d5cb98f4227a', 'hex');
    const hidden = hidePassword(Buffer.from('arctangent'), new SecretValue('xyzzy5461'), auth);
    expect(hidden.toString('hex')).toBe('0dbe708d93d413ce3196e43f782a0aee');
  });

  it('signed requests and replies verify; any flipped byte is refused or detected', () => {
    const requestArb = fc.record({
      code: fc.constantFrom(RadiusCode.AccessRequest, RadiusCode.AccountingRequest),
      identifier: fc.integer({ min: 0, max: 255 }),
      authenticator: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
      attributes: fc.array(attributeArb, { maxLength: 8 }),
    });
    fc.assert(
      fc.property(requestArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (packet, at, flip) => {
        const bytes = signRequest(packet, secret);
        const request = decodePacket(bytes);
        const verify = (p: RadiusPacket) =>
          p.code === RadiusCode.AccountingRequest ? verifyAccountingRequest(p, secret) : verifyRequestMessageAuthenticator(p, secret);
        expect(verify(request)).toBe(true);
        const replyCode = request.code === RadiusCode.AccountingRequest ? RadiusCode.AccountingResponse : RadiusCode.AccessAccept;
        const reply = signReply(request, replyCode, [{ type: Attr.ReplyMessage, value: Buffer.from('hello') }], secret);
        const decodedReply = decodePacket(reply);
        expect(decodedReply.attributes[0]?.type).toBe(Attr.MessageAuthenticator);
        expect(verifyReply(decodedReply, request, secret)).toBe(true);

        const tampered = Buffer.from(bytes);
        const i = at % tampered.length;
        tampered[i] = (tampered[i] ?? 0) ^ flip;
        let forged: RadiusPacket;
        try {
          forged = decodePacket(tampered);
        } catch (error) {
          expect(error).toBeInstanceOf(RadiusFormatError);
          return;
        }
        // Every byte (header included) is covered by the MAC or the accounting authenticator.
        expect(verify(forged)).toBe(false);
      }),
      fcOptions(500),
    );
  });
});
