/**
 * One OSDP packet, bytes <-> fields:
 *
 *   [FF] 53 ADDR LEN_LSB LEN_MSB CTRL [SCB_LEN SCB_TYPE SCB_DATA..] CODE DATA.. [MAC0..3] CKSUM | CRC_LSB CRC_MSB
 *
 * The MARK byte is outside LEN and the check. The MAC is computed by the
 * secure channel layer over SOM..last data byte with LEN already final, so the
 * encoder hands it exactly those bytes.
 */
import { CTRL_CRC, CTRL_SCB, CTRL_SQN_MASK, OSDP_MARK, OSDP_MAX_PACKET, OSDP_REPLY_FLAG, OSDP_SOM, SCS } from './constants.js';
import { osdpChecksum, osdpCrc16 } from './check.js';

export type Sqn = 0 | 1 | 2 | 3;

export interface SecurityBlock {
  readonly type: number;
  readonly data: Buffer;
}

export interface OsdpPacket {
  /** 0x00-0x7F without the reply flag. */
  readonly address: number;
  readonly reply: boolean;
  readonly sqn: Sqn;
  readonly crc: boolean;
  readonly scb: SecurityBlock | null;
  readonly code: number;
  /** As on the wire: still encrypted inside a secure session. */
  readonly data: Buffer;
}

export interface OsdpFrame extends OsdpPacket {
  /** The packet without MARK, SOM through the last check byte. */
  readonly bytes: Buffer;
  /** The first 4 MAC bytes when the SCB carries a MAC, else null. */
  readonly mac: Buffer | null;
  /** SOM through the last data byte: what the MAC covers. */
  readonly macInput: Buffer;
}

/** SCB types 0x15-0x18 carry a 4-byte MAC before the check field. */
export const scbHasMac = (scb: SecurityBlock | null): boolean => scb !== null && scb.type >= SCS.CMD_MAC && scb.type <= SCS.REPLY_ENC;

export const nextSqn = (sqn: Sqn): Sqn => (sqn === 3 ? 1 : ((sqn + 1) as Sqn));

export interface EncodeOptions {
  /** Computes the 16-byte MAC over SOM..data; required when the SCB type carries a MAC. */
  readonly mac?: (macInput: Buffer) => Buffer;
  readonly mark?: boolean;
}

export interface EncodedFrame {
  /** What goes on the wire, MARK included when asked for. */
  readonly wire: Buffer;
  /** The full 16-byte MAC, kept for chaining; null without one. */
  readonly fullMac: Buffer | null;
}

export function encodeFrame(packet: OsdpPacket, options: EncodeOptions = {}): EncodedFrame {
  const withMac = scbHasMac(packet.scb);
  const scbBytes = packet.scb === null ? 0 : 2 + packet.scb.data.length;
  const bodyLength = 5 + scbBytes + 1 + packet.data.length;
  const total = bodyLength + (withMac ? 4 : 0) + (packet.crc ? 2 : 1);
  if (total > OSDP_MAX_PACKET) throw new RangeError(`OSDP packet of ${total} bytes exceeds ${OSDP_MAX_PACKET}`);
  const out = Buffer.alloc(total);
  out[0] = OSDP_SOM;
  out[1] = (packet.address & 0x7f) | (packet.reply ? OSDP_REPLY_FLAG : 0);
  out.writeUInt16LE(total, 2);
  out[4] = (packet.sqn & CTRL_SQN_MASK) | (packet.crc ? CTRL_CRC : 0) | (packet.scb === null ? 0 : CTRL_SCB);
  let offset = 5;
  if (packet.scb !== null) {
    out[offset] = 2 + packet.scb.data.length;
    out[offset + 1] = packet.scb.type;
    packet.scb.data.copy(out, offset + 2);
    offset += scbBytes;
  }
  out[offset] = packet.code;
  packet.data.copy(out, offset + 1);
  offset = bodyLength;
  let fullMac: Buffer | null = null;
  if (withMac) {
    if (options.mac === undefined) throw new Error('a secure channel packet needs a MAC function');
    fullMac = options.mac(out.subarray(0, bodyLength));
    fullMac.copy(out, offset, 0, 4);
    offset += 4;
  }
  if (packet.crc) out.writeUInt16LE(osdpCrc16(out, 0, offset), offset);
  else out[offset] = osdpChecksum(out, 0, offset);
  const wire = options.mark === true ? Buffer.concat([Buffer.from([OSDP_MARK]), out]) : out;
  return { wire, fullMac };
}

export type FrameRejection = 'length' | 'check' | 'scb';

export type DecodeResult = { readonly ok: true; readonly frame: OsdpFrame } | { readonly ok: false; readonly reason: FrameRejection };

/**
 * Decodes one complete packet (SOM first, no MARK, exactly LEN bytes).
 * Validates the check field and the inner layout; never throws.
 */
export function decodeFrame(bytes: Buffer): DecodeResult {
  if (bytes.length < 7 || bytes[0] !== OSDP_SOM || bytes.readUInt16LE(2) !== bytes.length) return { ok: false, reason: 'length' };
  const ctrl = bytes[4] ?? 0;
  const crc = (ctrl & CTRL_CRC) !== 0;
  const checkLength = crc ? 2 : 1;
  const checkAt = bytes.length - checkLength;
  if (checkAt < 6) return { ok: false, reason: 'length' };
  const valid = crc ? osdpCrc16(bytes, 0, checkAt) === bytes.readUInt16LE(checkAt) : osdpChecksum(bytes, 0, checkAt) === bytes[checkAt];
  if (!valid) return { ok: false, reason: 'check' };
  let offset = 5;
  let scb: SecurityBlock | null = null;
  if ((ctrl & CTRL_SCB) !== 0) {
    const scbLength = bytes[offset] ?? 0;
    if (scbLength < 2 || offset + scbLength >= checkAt) return { ok: false, reason: 'scb' };
    scb = { type: bytes[offset + 1] ?? 0, data: Buffer.from(bytes.subarray(offset + 2, offset + scbLength)) };
    offset += scbLength;
  }
  const macLength = scbHasMac(scb) ? 4 : 0;
  const dataEnd = checkAt - macLength;
  if (offset >= dataEnd) return { ok: false, reason: scb === null ? 'length' : 'scb' };
  const address = bytes[1] ?? 0;
  return {
    ok: true,
    frame: {
      address: address & 0x7f,
      reply: (address & OSDP_REPLY_FLAG) !== 0,
      sqn: (ctrl & CTRL_SQN_MASK) as Sqn,
      crc,
      scb,
      code: bytes[offset] ?? 0,
      data: Buffer.from(bytes.subarray(offset + 1, dataEnd)),
      bytes: Buffer.from(bytes),
      mac: macLength === 0 ? null : Buffer.from(bytes.subarray(dataEnd, checkAt)),
      macInput: Buffer.from(bytes.subarray(0, dataEnd)),
    },
  };
}
