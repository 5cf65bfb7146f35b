/**
 * One emulated Peripheral Device, written from the spec: sequence numbers
 * with a cached last reply, ID/CAP, card (RAW) and keypad reports, inputs,
 * outputs, tamper/power, COMSET, and the Secure Channel with SCBK-D install
 * mode and KEYSET. Faults for tests: stay silent, drop replies, corrupt the
 * check field, send a wrong MAC.
 */
import { randomBytes } from 'node:crypto';
import { SCBK_D } from '../../../drivers/osdp/constants.js';
import { cryptogram, decrypt, encrypt, mac, rmacI, sessionKeys, type PdSessionKeys } from './crypto.js';
import { buildReply, crc16, type Command } from './wire.js';

export interface EmulatedPdOptions {
  readonly address: number;
  /** The PD's own SCBK; without one it only knows SCBK-D. */
  readonly scbk?: Buffer | null;
  /** Accept SCBK-D (default: when there is no own key). */
  readonly installMode?: boolean;
  /** Report and support the secure channel (default true). */
  readonly secureChannel?: boolean;
  readonly inputs?: number;
  readonly outputs?: number;
  readonly serial?: number;
}

export interface OutputChange {
  readonly output: number;
  readonly on: boolean;
  readonly ctrl: number;
  readonly timerMs: number;
}

interface Handshake {
  keys: PdSessionKeys;
  rndA: Buffer;
  rndB: Buffer;
}

interface Session {
  keys: PdSessionKeys;
  /** Full MAC of our last reply (RMAC-I at first); the next command chains from it. */
  lastReplyMac: Buffer;
}

const SECURE_SETUP = new Set([0x61, 0x62, 0x6e, 0x76, 0x77]);

export class EmulatedPd {
  address: number;
  scbk: Buffer | null;
  installMode: boolean;
  readonly secureCapable: boolean;
  readonly inputs: boolean[];
  readonly outputs: boolean[];
  readonly serial: number;
  tamper = false;
  power = false;
  /** Faults, consumed one reply at a time. */
  readonly faults = { silent: false, dropReplies: 0, corruptCheck: 0, wrongMac: 0 };
  /** Every command handled, data decrypted: what the CP asked for. */
  readonly received: { code: number; data: Buffer; secure: boolean }[] = [];
  readonly outputChanges: OutputChange[] = [];
  readonly stats = { handshakes: 0, keysets: 0, macFailures: 0, replays: 0, nakSequence: 0, plaintextInSession: 0 };
  #events: { code: number; data: Buffer }[] = [];
  #lastSqn: number | null = null;
  #last: { command: Buffer; reply: Buffer } | null = null;
  #handshake: Handshake | null = null;
  #session: Session | null = null;

  constructor(options: EmulatedPdOptions) {
    this.address = options.address;
    this.scbk = options.scbk ?? null;
    this.installMode = options.installMode ?? this.scbk === null;
    this.secureCapable = options.secureChannel ?? true;
    this.inputs = Array.from({ length: options.inputs ?? 2 }, () => false);
    this.outputs = Array.from({ length: options.outputs ?? 2 }, () => false);
    this.serial = options.serial ?? 0x11223344 + options.address;
  }

  get inSession(): boolean {
    return this.#session !== null;
  }

  /** A card read as RAW bits (format 1 = Wiegand), MSB first and left-justified. */
  presentCard(bits: bigint, bitCount: number, format = 1): void {
    const bytes = Math.ceil(bitCount / 8);
    const value = bits << BigInt(bytes * 8 - bitCount);
    const data = Buffer.alloc(4 + bytes);
    data[1] = format;
    data.writeUInt16LE(bitCount, 2);
    for (let i = 0; i < bytes; i += 1) data[4 + i] = Number((value >> BigInt((bytes - 1 - i) * 8)) & 0xffn);
    this.#events.push({ code: 0x50, data });
  }

  /** Keys as typed: digits, '*' (sent as 0x7F) and '#' (0x0D). */
  typeKeys(keys: string): void {
    const codes = [...keys].map((key) => (key === '*' ? 0x7f : key === '#' ? 0x0d : key.charCodeAt(0)));
    this.#events.push({ code: 0x53, data: Buffer.from([0, codes.length, ...codes]) });
  }

  setInput(index: number, active: boolean): void {
    this.inputs[index] = active;
    this.#events.push({ code: 0x49, data: Buffer.from(this.inputs.map((level) => (level ? 1 : 0))) });
  }

  setLocalStatus(tamper: boolean, power: boolean): void {
    this.tamper = tamper;
    this.power = power;
    this.#events.push({ code: 0x48, data: Buffer.from([tamper ? 1 : 0, power ? 1 : 0]) });
  }

  /** Power loss: sequence and session state are gone, the key and settings stay. */
  powerCycle(): void {
    this.#lastSqn = null;
    this.#last = null;
    this.#handshake = null;
    this.#session = null;
  }

  /** Handles one command for this address; returns the reply bytes to send, or null for silence. */
  handle(command: Command): Buffer | null {
    if (this.faults.silent) return null;
    const replay = this.#last !== null && command.sqn !== 0 && command.sqn === this.#lastSqn && command.raw.equals(this.#last.command);
    let reply: Buffer;
    if (replay && this.#last !== null) {
      this.stats.replays += 1;
      reply = this.#last.reply;
    } else {
      const fresh = this.#process(command);
      reply = fresh.reply;
      this.#last = { command: command.raw, reply };
      fresh.after?.();
    }
    return this.#applyFaults(reply);
  }

  #applyFaults(reply: Buffer): Buffer | null {
    if (this.faults.dropReplies > 0) {
      this.faults.dropReplies -= 1;
      return null;
    }
    const out = Buffer.from(reply);
    if (this.faults.corruptCheck > 0) {
      this.faults.corruptCheck -= 1;
      out[out.length - 1] = out[out.length - 1]! ^ 0x5a;
      return out;
    }
    if (this.faults.wrongMac > 0 && (out[4]! & 8) !== 0 && out[6]! >= 0x15) {
      this.faults.wrongMac -= 1;
      const macAt = out.length - 2 - 4;
      out[macAt] = out[macAt]! ^ 0xff;
      const crc = crc16(out.subarray(0, out.length - 2));
      out[out.length - 2] = crc & 0xff;
      out[out.length - 1] = crc >> 8;
    }
    return out;
  }

  #process(command: Command): { reply: Buffer; after?: () => void } {
    const plainReply = (code: number, data: Buffer = Buffer.alloc(0), scb?: { type: number; data: Buffer }) =>
      buildReply({ addr: this.address, sqn: command.sqn, useCrc: command.useCrc, code, data, ...(scb === undefined ? {} : { scb }) }).bytes;
    const nak = (reason: number) => plainReply(0x41, Buffer.from([reason]));

    if (command.sqn === 0) {
      // SQN 0: the CP starts over; any session is gone.
      this.#lastSqn = null;
      this.#session = null;
    } else if (this.#lastSqn === null || command.sqn !== (this.#lastSqn % 3) + 1) {
      this.stats.nakSequence += 1;
      return { reply: nak(4) };
    }
    this.#lastSqn = command.sqn;

    let data = command.data;
    let secured = false;
    if (command.scbType === 0x15 || command.scbType === 0x17) {
      const session = this.#session;
      if (session === null) return { reply: nak(6) };
      const commandMac = mac(session.keys, session.lastReplyMac, command.signed);
      if (command.mac === null || !commandMac.subarray(0, 4).equals(command.mac)) {
        this.stats.macFailures += 1;
        this.#session = null;
        return { reply: nak(6) };
      }
      if (command.scbType === 0x17) {
        const plain = decrypt(session.keys, session.lastReplyMac, command.data);
        if (plain === null) {
          this.#session = null;
          return { reply: nak(6) };
        }
        data = plain;
      }
      secured = true;
      this.received.push({ code: command.code, data, secure: true });
      const result = this.#command(command, data, true);
      if (result.nak !== undefined) {
        this.#session = null;
        return { reply: nak(result.nak), ...(result.after === undefined ? {} : { after: result.after }) };
      }
      const replyData = result.data ?? Buffer.alloc(0);
      const encrypted = replyData.length > 0;
      const built = buildReply(
        {
          addr: this.address,
          sqn: command.sqn,
          useCrc: command.useCrc,
          scb: { type: encrypted ? 0x18 : 0x16, data: Buffer.alloc(0) },
          code: result.code,
          data: encrypted ? encrypt(session.keys, commandMac, replyData) : replyData,
        },
        (signed) => mac(session.keys, commandMac, signed),
      );
      session.lastReplyMac = built.fullMac!;
      return { reply: built.bytes, ...(result.after === undefined ? {} : { after: result.after }) };
    }

    if (this.#session !== null && !SECURE_SETUP.has(command.code)) {
      // Plaintext inside a session: the session ends.
      this.stats.plaintextInSession += 1;
      this.#session = null;
      return { reply: nak(6) };
    }
    this.received.push({ code: command.code, data, secure: secured });
    if (command.code === 0x76) return { reply: this.#challenge(command, plainReply, nak) };
    if (command.code === 0x77) return { reply: this.#scrypt(command, plainReply, nak) };
    const result = this.#command(command, data, false);
    if (result.nak !== undefined) return { reply: nak(result.nak) };
    return { reply: plainReply(result.code, result.data), ...(result.after === undefined ? {} : { after: result.after }) };
  }

  #challenge(command: Command, reply: (code: number, data?: Buffer, scb?: { type: number; data: Buffer }) => Buffer, nak: (r: number) => Buffer): Buffer {
    if (!this.secureCapable || command.scbType !== 0x11 || command.data.length < 8) return nak(5);
    const wantsDefault = command.scbData[0] === 0;
    const key = wantsDefault && this.installMode ? SCBK_D : (this.scbk ?? SCBK_D);
    const rndA = Buffer.from(command.data.subarray(0, 8));
    const rndB = randomBytes(8);
    const keys = sessionKeys(key, rndA);
    this.#handshake = { keys, rndA, rndB };
    this.#session = null;
    const cuid = Buffer.alloc(8);
    cuid.writeUInt32LE(this.serial, 0);
    return reply(0x76, Buffer.concat([cuid, rndB, cryptogram(keys, rndA, rndB)]), { type: 0x12, data: Buffer.from([wantsDefault ? 0 : 1]) });
  }

  #scrypt(command: Command, reply: (code: number, data?: Buffer, scb?: { type: number; data: Buffer }) => Buffer, nak: (r: number) => Buffer): Buffer {
    const handshake = this.#handshake;
    this.#handshake = null;
    if (handshake === null || command.scbType !== 0x13 || !command.data.equals(cryptogram(handshake.keys, handshake.rndB, handshake.rndA))) return nak(5);
    const initial = rmacI(handshake.keys, command.data);
    this.#session = { keys: handshake.keys, lastReplyMac: initial };
    this.stats.handshakes += 1;
    return reply(0x78, initial, { type: 0x14, data: Buffer.from([1]) });
  }

  /** Commands other than the handshake: the reply code and data, or a NAK reason. */
  #command(command: Command, data: Buffer, secure: boolean): { code: number; data?: Buffer; nak?: number; after?: () => void } {
    switch (command.code) {
      case 0x60: {
        const event = this.#events.shift();
        return event === undefined ? { code: 0x40 } : { code: event.code, data: event.data };
      }
      case 0x61: {
        const id = Buffer.alloc(12);
        id.writeUIntLE(0x0a0b0c, 0, 3);
        id[3] = 2;
        id[4] = 1;
        id.writeUInt32LE(this.serial, 5);
        id.set([1, 2, 3], 9);
        return { code: 0x45, data: id };
      }
      case 0x62: {
        const caps = [
          [1, 1, this.inputs.length],
          [2, 1, this.outputs.length],
          [3, 1, 0],
          [4, 1, 1],
          [5, 1, 1],
          [8, 1, 0],
          [9, this.secureCapable ? 1 : 0, this.secureCapable ? 1 : 0],
          [16, 2, 0],
        ];
        return { code: 0x46, data: Buffer.from(caps.flat()) };
      }
      case 0x64:
        return { code: 0x48, data: Buffer.from([this.tamper ? 1 : 0, this.power ? 1 : 0]) };
      case 0x65:
        return { code: 0x49, data: Buffer.from(this.inputs.map((level) => (level ? 1 : 0))) };
      case 0x66:
        return { code: 0x4a, data: Buffer.from(this.outputs.map((level) => (level ? 1 : 0))) };
      case 0x68:
        for (let at = 0; at + 4 <= data.length; at += 4) {
          const output = data[at]!;
          const ctrl = data[at + 1]!;
          const timerMs = (data[at + 2]! | (data[at + 3]! << 8)) * 100;
          if (output >= this.outputs.length) return { code: 0x41, nak: 9 };
          const on = ctrl === 2 || ctrl === 4 || ctrl === 5;
          if (ctrl !== 0) this.outputs[output] = on;
          this.outputChanges.push({ output, on, ctrl, timerMs });
          if (ctrl === 5) setTimeout(() => (this.outputs[output] = false), timerMs).unref();
        }
        // libosdp answers OUT with ACK; the spec says OSTATR. Both are accepted by a CP.
        return { code: 0x40 };
      case 0x69:
      case 0x6a:
      case 0x6b:
      case 0xa7:
        return { code: 0x40 };
      case 0x6e: {
        const newAddress = data[0]!;
        return { code: 0x54, data: Buffer.from(data.subarray(0, 5)), after: () => (this.address = newAddress) };
      }
      case 0x75:
        if (!secure || data[0] !== 1 || data[1] !== 16 || data.length < 18) return { code: 0x41, nak: 6 };
        return {
          code: 0x40,
          after: () => {
            this.scbk = Buffer.from(data.subarray(2, 18));
            this.installMode = false;
            this.stats.keysets += 1;
            // The PD leaves the session once the new key is set.
            this.#session = null;
          },
        };
      default:
        return { code: 0x41, nak: 3 };
    }
  }
}
