/**
 * The emulator's own packet code, written from the spec (SIA OSDP v2.2 §5),
 * deliberately separate from drivers/osdp so a shared mistake cannot make
 * both sides agree on wrong bytes. Only numeric constants are shared.
 */
import { OSDP_SOM } from '../../../drivers/osdp/constants.js';

/** CRC-16/AUG-CCITT, bit by bit. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0x1d0f;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function checksum(bytes: Uint8Array): number {
  return (256 - (bytes.reduce((sum, byte) => sum + byte, 0) % 256)) % 256;
}

export interface Command {
  readonly raw: Buffer;
  readonly addr: number;
  readonly sqn: number;
  readonly useCrc: boolean;
  readonly scbType: number | null;
  readonly scbData: Buffer;
  readonly code: number;
  readonly data: Buffer;
  readonly mac: Buffer | null;
  /** SOM..end of data. */
  readonly signed: Buffer;
}

/** Splits a received byte stream into commands; bad packets are skipped one byte at a time. */
export class CommandSplitter {
  #pending = Buffer.alloc(0);
  badPackets = 0;

  feed(chunk: Buffer): { command: Command; hadMark: boolean }[] {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const out: { command: Command; hadMark: boolean }[] = [];
    for (;;) {
      const som = this.#pending.indexOf(OSDP_SOM);
      if (som < 0) {
        this.#pending = Buffer.alloc(0);
        return out;
      }
      const hadMark = som > 0 && this.#pending[som - 1] === 0xff;
      this.#pending = this.#pending.subarray(som);
      if (this.#pending.length < 4) return out;
      const len = this.#pending[2]! | (this.#pending[3]! << 8);
      if (len < 7 || len > 1440) {
        this.#pending = this.#pending.subarray(1);
        continue;
      }
      if (this.#pending.length < len) return out;
      const packet = Buffer.from(this.#pending.subarray(0, len));
      const command = parse(packet);
      if (command === null) {
        this.badPackets += 1;
        this.#pending = this.#pending.subarray(1);
        continue;
      }
      this.#pending = this.#pending.subarray(len);
      out.push({ command, hadMark });
    }
  }
}

function parse(packet: Buffer): Command | null {
  const ctrl = packet[4]!;
  const useCrc = (ctrl & 4) === 4;
  const body = packet.subarray(0, packet.length - (useCrc ? 2 : 1));
  if (useCrc ? crc16(body) !== packet.readUInt16LE(packet.length - 2) : checksum(body) !== packet[packet.length - 1]) return null;
  let at = 5;
  let scbType: number | null = null;
  let scbData = Buffer.alloc(0);
  if (ctrl & 8) {
    const scbLen = packet[5]!;
    if (scbLen < 2 || 5 + scbLen >= body.length) return null;
    scbType = packet[6]!;
    scbData = Buffer.from(packet.subarray(7, 5 + scbLen));
    at = 5 + scbLen;
  }
  const hasMac = scbType !== null && scbType >= 0x15;
  const end = body.length - (hasMac ? 4 : 0);
  if (at >= end) return null;
  return {
    raw: packet,
    addr: packet[1]!,
    sqn: ctrl & 3,
    useCrc,
    scbType,
    scbData,
    code: packet[at]!,
    data: Buffer.from(packet.subarray(at + 1, end)),
    mac: hasMac ? Buffer.from(packet.subarray(end, body.length)) : null,
    signed: Buffer.from(packet.subarray(0, end)),
  };
}

export interface ReplySpec {
  readonly addr: number;
  readonly sqn: number;
  readonly useCrc: boolean;
  readonly scb?: { type: number; data: Buffer };
  readonly code: number;
  readonly data: Buffer;
}

/** Builds a reply; `sign` returns the 16-byte MAC for SOM..data when the SCB type needs one. */
export function buildReply(spec: ReplySpec, sign?: (signed: Buffer) => Buffer): { bytes: Buffer; fullMac: Buffer | null } {
  const scb = spec.scb === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([2 + spec.scb.data.length, spec.scb.type]), spec.scb.data]);
  const needsMac = spec.scb !== undefined && spec.scb.type >= 0x15;
  const length = 5 + scb.length + 1 + spec.data.length + (needsMac ? 4 : 0) + (spec.useCrc ? 2 : 1);
  const ctrl = (spec.sqn & 3) | (spec.useCrc ? 4 : 0) | (spec.scb === undefined ? 0 : 8);
  const signed = Buffer.concat([Buffer.from([OSDP_SOM, spec.addr | 0x80, length & 0xff, length >> 8, ctrl]), scb, Buffer.from([spec.code]), spec.data]);
  let fullMac: Buffer | null = null;
  let body = signed;
  if (needsMac) {
    if (sign === undefined) throw new Error('MAC needed');
    fullMac = sign(signed);
    body = Buffer.concat([signed, fullMac.subarray(0, 4)]);
  }
  const check = spec.useCrc ? Buffer.from([crc16(body) & 0xff, crc16(body) >> 8]) : Buffer.from([checksum(body)]);
  return { bytes: Buffer.concat([body, check]), fullMac };
}
