/**
 * Payloads of the OSDP commands the CP sends and the replies it reads
 * (SIA OSDP v2.2 §6-§7). Decoders return undefined for a payload that is too
 * short instead of throwing: a PD's bytes are input, not trusted.
 */
import { KEYSET_TYPE_SCBK, LED_COLOUR, OUT_CTRL } from './constants.js';

export interface PdIdentity {
  /** IEEE OUI, e.g. 0x0A0B0C. */
  readonly vendor: number;
  readonly model: number;
  readonly version: number;
  readonly serial: number;
  readonly firmware: { readonly major: number; readonly minor: number; readonly build: number };
}

export function decodePdid(data: Buffer): PdIdentity | undefined {
  if (data.length < 12) return undefined;
  return {
    vendor: data.readUIntLE(0, 3),
    model: data[3] ?? 0,
    version: data[4] ?? 0,
    serial: data.readUInt32LE(5),
    firmware: { major: data[9] ?? 0, minor: data[10] ?? 0, build: data[11] ?? 0 },
  };
}

export interface PdCapability {
  readonly function: number;
  readonly compliance: number;
  readonly count: number;
}

export function decodePdcap(data: Buffer): PdCapability[] {
  const caps: PdCapability[] = [];
  for (let offset = 0; offset + 3 <= data.length; offset += 3) {
    caps.push({ function: data[offset] ?? 0, compliance: data[offset + 1] ?? 0, count: data[offset + 2] ?? 0 });
  }
  return caps;
}

export interface RawCardData {
  readonly reader: number;
  /** 0 = raw bits, 1 = Wiegand P/data/P. */
  readonly format: number;
  readonly bitCount: number;
  /** MSB first, left-justified. */
  readonly bits: Buffer;
}

export function decodeRaw(data: Buffer): RawCardData | undefined {
  if (data.length < 4) return undefined;
  const bitCount = data.readUInt16LE(2);
  const byteCount = Math.ceil(bitCount / 8);
  if (bitCount === 0 || data.length < 4 + byteCount) return undefined;
  return { reader: data[0] ?? 0, format: data[1] ?? 0, bitCount, bits: Buffer.from(data.subarray(4, 4 + byteCount)) };
}

export interface KeypadData {
  readonly reader: number;
  /** Key codes as sent: '0'-'9' as ASCII, '*' = 0x7F, '#' = 0x0D. */
  readonly keys: Buffer;
}

export function decodeKeypad(data: Buffer): KeypadData | undefined {
  if (data.length < 2) return undefined;
  const count = data[1] ?? 0;
  if (data.length < 2 + count) return undefined;
  return { reader: data[0] ?? 0, keys: Buffer.from(data.subarray(2, 2 + count)) };
}

/** Keys as characters: digits stay, 0x7F → '*', 0x0D → '#', anything else (F1-F4, noise) is dropped. */
export function keypadCharacters(keys: Buffer): string {
  let text = '';
  for (const key of keys) {
    if (key >= 0x30 && key <= 0x39) text += String.fromCharCode(key);
    else if (key === 0x7f || key === 0x2a) text += '*';
    else if (key === 0x0d || key === 0x23) text += '#';
  }
  return text;
}

export interface ComSettings {
  readonly address: number;
  readonly baudRate: number;
}

export function encodeComset(settings: ComSettings): Buffer {
  const data = Buffer.alloc(5);
  data[0] = settings.address;
  data.writeUInt32LE(settings.baudRate, 1);
  return data;
}

export function decodeCom(data: Buffer): ComSettings | undefined {
  if (data.length < 5) return undefined;
  return { address: data[0] ?? 0, baudRate: data.readUInt32LE(1) };
}

export type LedColour = keyof typeof LED_COLOUR;

/** A temporary LED pattern: `colour` for `durationMs`, then back to the permanent state. */
export interface LedFlash {
  readonly reader?: number;
  readonly led?: number;
  readonly colour: LedColour;
  readonly durationMs: number;
  /** The permanent colour, set at the same time (steady: on=1, off=0, as libosdp requires). */
  readonly idleColour: LedColour;
}

const tenths = (ms: number): number => Math.max(1, Math.min(0xffff, Math.round(ms / 100)));

export function encodeLed(flash: LedFlash): Buffer {
  const data = Buffer.alloc(14);
  data[0] = flash.reader ?? 0;
  data[1] = flash.led ?? 0;
  // Temporary: set and start timer, steady colour for the duration.
  data[2] = 2;
  data[3] = 1;
  data[4] = 0;
  data[5] = LED_COLOUR[flash.colour];
  data[6] = LED_COLOUR.off;
  data.writeUInt16LE(tenths(flash.durationMs), 7);
  // Permanent: set, steady idle colour.
  data[9] = 1;
  data[10] = 1;
  data[11] = 0;
  data[12] = LED_COLOUR[flash.idleColour];
  data[13] = LED_COLOUR.off;
  return data;
}

export interface BuzzerPattern {
  readonly reader?: number;
  readonly onMs: number;
  readonly offMs: number;
  readonly count: number;
}

export function encodeBuz(pattern: BuzzerPattern): Buffer {
  // Tone 2 = the PD's default tone.
  return Buffer.from([pattern.reader ?? 0, 2, tenths(pattern.onMs), Math.min(0xff, Math.round(pattern.offMs / 100)), pattern.count]);
}

/** OUT: `on` for `pulseMs` (temporary), or permanently on/off when no pulse is given. */
export function encodeOut(output: number, on: boolean, pulseMs?: number): Buffer {
  const data = Buffer.alloc(4);
  data[0] = output;
  if (on && pulseMs !== undefined) {
    data[1] = OUT_CTRL.TEMPORARY_ON;
    data.writeUInt16LE(tenths(pulseMs), 2);
  } else {
    data[1] = on ? OUT_CTRL.PERMANENT_ON : OUT_CTRL.PERMANENT_OFF;
  }
  return data;
}

export function encodeKeyset(scbk: Buffer): Buffer {
  return Buffer.concat([Buffer.from([KEYSET_TYPE_SCBK, scbk.length]), scbk]);
}
