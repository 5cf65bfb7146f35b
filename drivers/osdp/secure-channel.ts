/**
 * OSDP Secure Channel cryptography (AES-128, SIA OSDP v2.2 Annex D/E), pure
 * functions over node:crypto. Session state (which MAC chains into which)
 * lives in the CP's PD link; this file only knows the algorithms.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export interface SessionKeys {
  readonly enc: Buffer;
  readonly mac1: Buffer;
  readonly mac2: Buffer;
}

const BLOCK = 16;

function aesEcb(key: Buffer, block: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

function aesCbc(key: Buffer, iv: Buffer, data: Buffer, decrypt = false): Buffer {
  const cipher = decrypt ? createDecipheriv('aes-128-cbc', key, iv) : createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function derive(scbk: Buffer, prefix: readonly [number, number], rndA: Buffer): Buffer {
  const input = Buffer.alloc(BLOCK);
  input[0] = prefix[0];
  input[1] = prefix[1];
  rndA.copy(input, 2, 0, 6);
  return aesEcb(scbk, input);
}

/** S-ENC, S-MAC1 and S-MAC2 from the base key and the CP's random (first 6 bytes used). */
export function deriveSessionKeys(scbk: Buffer, rndA: Buffer): SessionKeys {
  if (scbk.length !== BLOCK) throw new RangeError('an SCBK is 16 bytes');
  if (rndA.length < 6) throw new RangeError('RND.A needs at least 6 bytes');
  return { enc: derive(scbk, [0x01, 0x82], rndA), mac1: derive(scbk, [0x01, 0x01], rndA), mac2: derive(scbk, [0x01, 0x02], rndA) };
}

/** What the PD sends to prove it holds the key: AES(S-ENC, RND.A || RND.B). */
export function clientCryptogram(keys: SessionKeys, rndA: Buffer, rndB: Buffer): Buffer {
  return aesEcb(keys.enc, Buffer.concat([rndA.subarray(0, 8), rndB.subarray(0, 8)]));
}

/** What the CP sends back: AES(S-ENC, RND.B || RND.A). */
export function serverCryptogram(keys: SessionKeys, rndA: Buffer, rndB: Buffer): Buffer {
  return aesEcb(keys.enc, Buffer.concat([rndB.subarray(0, 8), rndA.subarray(0, 8)]));
}

/** The initial R-MAC that seeds the MAC chain. */
export function initialRmac(keys: SessionKeys, serverCrypt: Buffer): Buffer {
  return aesEcb(keys.mac2, aesEcb(keys.mac1, serverCrypt));
}

/** Appends 80 00.. to a multiple of 16; an aligned input is left alone (MAC rule). */
function padForMac(data: Buffer): Buffer {
  if (data.length % BLOCK === 0) return data;
  const padded = Buffer.alloc(Math.ceil((data.length + 1) / BLOCK) * BLOCK);
  data.copy(padded);
  padded[data.length] = 0x80;
  return padded;
}

/**
 * The full 16-byte MAC: AES-CBC under S-MAC1 over all blocks but the last,
 * the last one under S-MAC2 continuing the chain. `iv` is the previous MAC of
 * the other side (RMAC-I for the first command).
 */
export function computeMac(keys: SessionKeys, iv: Buffer, message: Buffer): Buffer {
  const padded = padForMac(message);
  const leading = padded.subarray(0, padded.length - BLOCK);
  let chain = iv;
  if (leading.length > 0) chain = aesCbc(keys.mac1, iv, leading).subarray(leading.length - BLOCK);
  return aesCbc(keys.mac2, chain, padded.subarray(padded.length - BLOCK));
}

export const invert = (block: Buffer): Buffer => Buffer.from(block.map((byte) => ~byte & 0xff));

/** Encrypts data bytes: always 80 then zeros to a multiple of 16; IV = NOT of the other side's last MAC. */
export function encryptData(keys: SessionKeys, otherMac: Buffer, data: Buffer): Buffer {
  const padded = Buffer.alloc(Math.floor(data.length / BLOCK + 1) * BLOCK);
  data.copy(padded);
  padded[data.length] = 0x80;
  return aesCbc(keys.enc, invert(otherMac), padded);
}

/** Decrypts and strips the 80 00.. padding; undefined when the length or the padding is wrong. */
export function decryptData(keys: SessionKeys, otherMac: Buffer, encrypted: Buffer): Buffer | undefined {
  if (encrypted.length === 0 || encrypted.length % BLOCK !== 0) return undefined;
  const plain = aesCbc(keys.enc, invert(otherMac), encrypted, true);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0x00) end -= 1;
  if (end < 0 || plain[end] !== 0x80 || plain.length - end > BLOCK) return undefined;
  return plain.subarray(0, end);
}
