import { describe, expect, it } from 'vitest';
import { osdpChecksum, osdpCrc16 } from '../../../drivers/osdp/check.js';
import { CMD, REPLY, SCS } from '../../../drivers/osdp/constants.js';
import { decodeFrame, encodeFrame, nextSqn, type OsdpFrame, type OsdpPacket } from '../../../drivers/osdp/frame.js';
import { FRAMES, hex } from './osdp-vectors.js';

const decoded = (bytes: Buffer): OsdpFrame => {
  const result = decodeFrame(bytes);
  if (!result.ok) throw new Error(`rejected: ${result.reason}`);
  return result.frame;
};

const packet = (fields: Partial<OsdpPacket> & Pick<OsdpPacket, 'code'>): OsdpPacket => ({
  address: 0,
  reply: false,
  sqn: 0,
  crc: true,
  scb: null,
  data: Buffer.alloc(0),
  ...fields,
});

describe('OSDP check characters', () => {
  it('CRC-16/AUG-CCITT: check value and the Annex E examples', () => {
    expect(osdpCrc16(Buffer.from('123456789'))).toBe(0xe5cc);
    expect(osdpCrc16(hex('53 7F 0D 00 04 6E 00 80 25 00 00'))).toBe(0x386e);
    expect(osdpCrc16(hex('53 00 09 00 04 61 00'))).toBe(0x66c0);
  });

  it('checksum: the Annex E examples', () => {
    expect(osdpChecksum(hex('53 7F 0C 00 00 6E 00 80 25 00 00'))).toBe(0x0f);
    expect(osdpChecksum(hex('53 00 08 00 00 61 00'))).toBe(0x44);
  });
});

describe('OSDP frame codec', () => {
  it('decodes every reference frame and re-encodes it byte for byte', () => {
    for (const [name, bytes] of Object.entries(FRAMES)) {
      const frame = decoded(bytes);
      expect(encodeFrame(frame).wire.toString('hex'), name).toBe(bytes.toString('hex'));
    }
  });

  it('encodes the commands of the reference', () => {
    expect(encodeFrame(packet({ code: CMD.ID, data: hex('00') })).wire).toEqual(FRAMES.idAddr0Seq0);
    expect(encodeFrame(packet({ code: CMD.POLL, sqn: 1 })).wire).toEqual(FRAMES.pollSeq1);
    expect(encodeFrame(packet({ code: CMD.POLL, sqn: 1, crc: false })).wire).toEqual(FRAMES.pollSeq1Checksum);
    expect(encodeFrame(packet({ code: CMD.POLL, address: 0x65 })).wire).toEqual(FRAMES.pollAddr65);
    expect(encodeFrame(packet({ code: CMD.OUT, sqn: 3, data: hex('00 05 14 00') })).wire).toEqual(FRAMES.outSeq3);
    expect(encodeFrame(packet({ code: CMD.BUZ, sqn: 2, data: hex('00 02 05 05 03') })).wire).toEqual(FRAMES.buzSeq2);
  });

  it('puts the MARK byte in front only when asked, outside LEN and CRC', () => {
    const { wire } = encodeFrame(packet({ code: CMD.POLL }), { mark: true });
    expect(wire).toEqual(Buffer.concat([hex('FF'), FRAMES.pollSeq0]));
  });

  it('reads the fields of replies: reply flag, SQN, check mode, data', () => {
    const raw = decoded(FRAMES.raw26);
    expect(raw).toMatchObject({ address: 0, reply: true, sqn: 1, crc: true, scb: null, code: REPLY.RAW });
    expect(raw.data).toEqual(hex('00 01 1A 00 BD 88 EB 80'));
    const ack = decoded(FRAMES.ackChecksumAddr65Seq1);
    expect(ack).toMatchObject({ address: 0x65, reply: true, sqn: 1, crc: false, code: REPLY.ACK });
  });

  it('rejects a flipped bit, a wrong LEN and a security block that overruns the packet', () => {
    const corrupt = Buffer.from(FRAMES.pdid);
    corrupt[8] = (corrupt[8] ?? 0) ^ 0x01;
    expect(decodeFrame(corrupt)).toEqual({ ok: false, reason: 'check' });
    expect(decodeFrame(FRAMES.pdid.subarray(0, 19))).toEqual({ ok: false, reason: 'length' });
    const badScb = encodeFrame(packet({ code: CMD.POLL, scb: { type: SCS.CHLNG, data: hex('00') } })).wire;
    badScb[5] = 0x20;
    // Re-check the CRC so only the SCB length is wrong.
    const crcFixed = Buffer.from(badScb);
    crcFixed.writeUInt16LE(osdpCrc16(crcFixed, 0, crcFixed.length - 2), crcFixed.length - 2);
    expect(decodeFrame(crcFixed)).toEqual({ ok: false, reason: 'scb' });
  });

  it('advances SQN 0 → 1 → 2 → 3 → 1, never back to 0', () => {
    expect([nextSqn(0), nextSqn(1), nextSqn(2), nextSqn(3)]).toEqual([1, 2, 3, 1]);
  });
});
