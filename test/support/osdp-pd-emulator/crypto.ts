/** The emulator's Secure Channel maths, from the spec's Annex D text (not shared with the CP). */
import { createCipheriv, createDecipheriv } from 'node:crypto';

const ecb = (key: Buffer, block: Buffer): Buffer => {
  const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
};

const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((byte, i) => byte ^ b[i]!));

export interface PdSessionKeys {
  sEnc: Buffer;
  sMac1: Buffer;
  sMac2: Buffer;
}

export function sessionKeys(scbk: Buffer, rndA: Buffer): PdSessionKeys {
  const block = (b1: number) => ecb(scbk, Buffer.concat([Buffer.from([0x01, b1]), rndA.subarray(0, 6), Buffer.alloc(8)]));
  return { sEnc: block(0x82), sMac1: block(0x01), sMac2: block(0x02) };
}

/** MAC as a block-by-block chain: XOR with the running value, encrypt with S-MAC1, the last block with S-MAC2. */
export function mac(keys: PdSessionKeys, iv: Buffer, message: Buffer): Buffer {
  let padded = message;
  if (message.length % 16 !== 0) {
    padded = Buffer.alloc(message.length + 16 - (message.length % 16));
    message.copy(padded);
    padded[message.length] = 0x80;
  }
  let running = iv;
  for (let at = 0; at < padded.length; at += 16) {
    const key = at + 16 === padded.length ? keys.sMac2 : keys.sMac1;
    running = ecb(key, xor(running, padded.subarray(at, at + 16)));
  }
  return running;
}

const notOf = (block: Buffer): Buffer => Buffer.from(block.map((byte) => 0xff ^ byte));

export function encrypt(keys: PdSessionKeys, macOfOtherSide: Buffer, data: Buffer): Buffer {
  const total = (Math.floor(data.length / 16) + 1) * 16;
  const padded = Buffer.concat([data, Buffer.from([0x80]), Buffer.alloc(total - data.length - 1)]);
  const c = createCipheriv('aes-128-cbc', keys.sEnc, notOf(macOfOtherSide)).setAutoPadding(false);
  return Buffer.concat([c.update(padded), c.final()]);
}

export function decrypt(keys: PdSessionKeys, macOfOtherSide: Buffer, data: Buffer): Buffer | null {
  if (data.length % 16 !== 0 || data.length === 0) return null;
  const d = createDecipheriv('aes-128-cbc', keys.sEnc, notOf(macOfOtherSide)).setAutoPadding(false);
  const plain = Buffer.concat([d.update(data), d.final()]);
  const marker = plain.lastIndexOf(0x80);
  if (marker < 0 || plain.subarray(marker + 1).some((byte) => byte !== 0)) return null;
  return plain.subarray(0, marker);
}

export const cryptogram = (keys: PdSessionKeys, first: Buffer, second: Buffer): Buffer =>
  ecb(keys.sEnc, Buffer.concat([first.subarray(0, 8), second.subarray(0, 8)]));

export const rmacI = (keys: PdSessionKeys, serverCryptogram: Buffer): Buffer => ecb(keys.sMac2, ecb(keys.sMac1, serverCryptogram));
