import { describe, expect, it } from 'vitest';
import { CMD, SCBK_D, SCS } from '../../../drivers/osdp/constants.js';
import { decodeFrame, encodeFrame, type OsdpFrame } from '../../../drivers/osdp/frame.js';
import {
  clientCryptogram,
  computeMac,
  decryptData,
  deriveSessionKeys,
  encryptData,
  initialRmac,
  serverCryptogram,
} from '../../../drivers/osdp/secure-channel.js';
import { ANNEX_E, hex } from './osdp-vectors.js';

const keys = deriveSessionKeys(SCBK_D, ANNEX_E.rndA);

const decoded = (bytes: Buffer): OsdpFrame => {
  const result = decodeFrame(bytes);
  if (!result.ok) throw new Error(`rejected: ${result.reason}`);
  return result.frame;
};

describe('OSDP secure channel: Annex E vectors', () => {
  it('derives S-ENC, S-MAC1 and S-MAC2 from SCBK-D and RND.A', () => {
    expect(keys.enc).toEqual(ANNEX_E.sEnc);
    expect(keys.mac1).toEqual(ANNEX_E.sMac1);
    expect(keys.mac2).toEqual(ANNEX_E.sMac2);
  });

  it('computes the client and server cryptograms and RMAC-I', () => {
    expect(clientCryptogram(keys, ANNEX_E.rndA, ANNEX_E.rndB)).toEqual(ANNEX_E.clientCryptogram);
    const server = serverCryptogram(keys, ANNEX_E.rndA, ANNEX_E.rndB);
    expect(server).toEqual(ANNEX_E.serverCryptogram);
    expect(initialRmac(keys, server)).toEqual(ANNEX_E.rmacI);
  });

  it('builds the SCRYPT frame and reads the RMAC_I frame of the Annex E session', () => {
    const scrypt = encodeFrame({
      address: 0,
      reply: false,
      sqn: 2,
      crc: true,
      scb: { type: SCS.SCRYPT, data: hex('00') },
      code: CMD.SCRYPT,
      data: ANNEX_E.serverCryptogram,
    });
    expect(scrypt.wire).toEqual(ANNEX_E.scryptSeq2);
    expect(decoded(ANNEX_E.rmacIFrame).data).toEqual(ANNEX_E.rmacI);
  });

  it('chains MACs: POLL seq 3 under RMAC-I, its ACK under the C-MAC', () => {
    const poll = encodeFrame(
      { address: 0, reply: false, sqn: 3, crc: true, scb: { type: SCS.CMD_MAC, data: Buffer.alloc(0) }, code: CMD.POLL, data: Buffer.alloc(0) },
      { mac: (input) => computeMac(keys, ANNEX_E.rmacI, input) },
    );
    expect(poll.wire).toEqual(ANNEX_E.pollSeq3);
    expect(poll.fullMac).toEqual(ANNEX_E.pollSeq3Cmac);
    const ack = decoded(ANNEX_E.ack);
    expect(computeMac(keys, ANNEX_E.pollSeq3Cmac, ack.macInput).subarray(0, 4)).toEqual(ack.mac);
  });

  it('decrypts the encrypted BUZ command and encrypts it back to the same bytes', () => {
    const ack = decoded(ANNEX_E.ack);
    const rmac = computeMac(keys, ANNEX_E.pollSeq3Cmac, ack.macInput);
    const buz = decoded(ANNEX_E.buzSeq1);
    expect(computeMac(keys, rmac, buz.macInput).subarray(0, 4)).toEqual(buz.mac);
    const plain = decryptData(keys, rmac, buz.data);
    expect(plain).toEqual(hex('00 02 05 05 03'));
    expect(encryptData(keys, rmac, hex('00 02 05 05 03'))).toEqual(buz.data);
  });

  it('pads with 80 00.. always when encrypting: 16 data bytes become 32', () => {
    expect(encryptData(keys, ANNEX_E.rmacI, Buffer.alloc(16, 7))).toHaveLength(32);
    expect(decryptData(keys, ANNEX_E.rmacI, encryptData(keys, ANNEX_E.rmacI, Buffer.alloc(16, 7)))).toEqual(Buffer.alloc(16, 7));
    expect(decryptData(keys, ANNEX_E.rmacI, Buffer.alloc(15))).toBeUndefined();
  });
});
