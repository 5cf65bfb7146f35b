import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../daemon/config/schema.js';
import { SCBK_D } from '../../../drivers/osdp/constants.js';
import { cryptogram, mac, rmacI, sessionKeys } from '../../support/osdp-pd-emulator/crypto.js';
import { buildReply, crc16 } from '../../support/osdp-pd-emulator/wire.js';
import { ANNEX_E, FRAMES } from './osdp-vectors.js';

const base = {
  site: { id: 's', timezone: 'Europe/London' },
  gateway: { id: 'g' },
  secretsFile: 'secrets.yaml',
  store: { path: 'db' },
};

describe('OSDP config', () => {
  it('accepts a bus with readers and an output, with the spec defaults filled in', () => {
    const parsed = configSchema.parse({
      ...base,
      osdp: { buses: { main: { path: '/dev/ttyUSB0' } } },
      doors: [{ id: 'front', relay: { driver: 'osdp-output', bus: 'main', address: 1 } }],
      readers: [{ id: 'r', driver: 'osdp', bus: 'main', address: 1, door: 'front', mode: 'entry' }],
    });
    expect(parsed.osdp?.buses.main).toMatchObject({ baudRate: 9600, secureChannel: 'preferred', installMode: false, replyTimeoutMs: 200, offlineAfterMs: 8000 });
  });

  it('refuses install mode on a bus that requires the secure channel, and unknown buses', () => {
    const result = configSchema.safeParse({
      ...base,
      osdp: { buses: { main: { path: '/dev/ttyUSB0', secureChannel: 'required', installMode: true } } },
      readers: [{ id: 'r', driver: 'osdp', bus: 'other', address: 1, mode: 'entry' }],
    });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((issue) => issue.message) ?? [];
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/install mode/), 'no OSDP bus "other"']));
  });
});

describe('PD emulator against the reference (its own code, same vectors)', () => {
  it('computes the Annex E cryptograms, RMAC-I and reply MAC', () => {
    const keys = sessionKeys(SCBK_D, ANNEX_E.rndA);
    expect(cryptogram(keys, ANNEX_E.rndA, ANNEX_E.rndB)).toEqual(ANNEX_E.clientCryptogram);
    expect(rmacI(keys, ANNEX_E.serverCryptogram)).toEqual(ANNEX_E.rmacI);
    const ack = buildReply({ addr: 0, sqn: 3, useCrc: true, scb: { type: 0x16, data: Buffer.alloc(0) }, code: 0x40, data: Buffer.alloc(0) }, (signed) =>
      mac(keys, ANNEX_E.pollSeq3Cmac, signed),
    );
    expect(ack.bytes).toEqual(ANNEX_E.ack);
  });

  it('builds the reference replies', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0xe5cc);
    expect(buildReply({ addr: 0, sqn: 1, useCrc: true, code: 0x40, data: Buffer.alloc(0) }).bytes).toEqual(FRAMES.ackSeq1);
    expect(buildReply({ addr: 0, sqn: 1, useCrc: true, code: 0x50, data: Buffer.from('0001 1a00 bd88eb80'.replace(/ /g, ''), 'hex') }).bytes).toEqual(FRAMES.raw26);
  });
});
