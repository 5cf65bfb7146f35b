/**
 * Modbus-RTU slaves on the host side of a pty: one or more relay boards on
 * one RS-485 line, written from the Modbus-RTU spec and the hardware
 * reference (§4c) with its own table-driven CRC, independently of the driver.
 * Answers FC01 (read coils), FC02 (read discrete inputs) and FC05 (write
 * single coil) and can misbehave on request.
 */
import { delay, openRawHost, type RawHost } from './serial-host.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let crc = n;
  for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  return crc;
});

export function crcOf(bytes: readonly number[]): number {
  let crc = 0xffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0);
  return crc;
}

export function framed(bytes: readonly number[]): number[] {
  const crc = crcOf(bytes);
  return [...bytes, crc & 0xff, crc >>> 8];
}

export interface ReceivedRequest {
  readonly slave: number;
  readonly functionCode: number;
  readonly frame: readonly number[];
}

export type ReplyDelivery = 'together' | 'split' | 'bytewise';

export class ModbusSlaves {
  /** Coil states per slave address. */
  readonly coils = new Map<number, boolean[]>();
  /** Discrete input levels per slave address (wire level: true = 1). */
  readonly inputs = new Map<number, boolean[]>();
  readonly requests: ReceivedRequest[] = [];
  /** Slaves that are powered off or disconnected from the line. */
  readonly silent = new Set<number>();
  delivery: ReplyDelivery = 'together';
  /** Lose the next n replies. */
  dropReplies = 0;
  /** Flip a bit in the CRC of the next n replies. */
  corruptReplies = 0;
  /** Answer the next n FC05 requests with the opposite value (a reply that does not echo). */
  badEchoes = 0;
  /** Answer the next request with this exception code. */
  exceptionNext: number | undefined;
  /** Bytes sent on the line before the next reply (noise). */
  noiseBeforeNextReply: number[] | undefined;
  /** Send a valid reply from another slave address before the next reply. */
  strayBeforeNextReply = false;

  readonly #host: RawHost;
  #buffer: number[] = [];

  private constructor(host: RawHost, slaves: readonly number[], coilCount: number) {
    this.#host = host;
    for (const slave of slaves) this.coils.set(slave, new Array<boolean>(coilCount).fill(false));
    for (const slave of slaves) this.inputs.set(slave, new Array<boolean>(coilCount).fill(false));
    host.onData((chunk) => this.#receive(chunk));
  }

  static async attach(hostPath: string, slaves: readonly number[] = [1], coilCount = 8): Promise<ModbusSlaves> {
    return new ModbusSlaves(await openRawHost(hostPath, 9600), slaves, coilCount);
  }

  coil(slave: number, coil: number): boolean | undefined {
    return this.coils.get(slave)?.[coil];
  }

  writes(): ReceivedRequest[] {
    return this.requests.filter((request) => request.functionCode === 0x05);
  }

  close(): Promise<void> {
    return this.#host.close();
  }

  #receive(chunk: Buffer): void {
    this.#buffer.push(...chunk);
    for (;;) {
      if (this.#buffer.length < 2) return;
      const functionCode = this.#buffer[1] ?? 0;
      let length: number;
      if (functionCode >= 0x01 && functionCode <= 0x06) length = 8;
      else if (functionCode === 0x0f || functionCode === 0x10) {
        if (this.#buffer.length < 7) return;
        length = 9 + (this.#buffer[6] ?? 0);
      } else {
        this.#buffer.shift();
        continue;
      }
      if (this.#buffer.length < length) return;
      const frame = this.#buffer.slice(0, length);
      const crc = crcOf(frame.slice(0, -2));
      if (frame[length - 2] !== (crc & 0xff) || frame[length - 1] !== crc >>> 8) {
        this.#buffer.shift();
        continue;
      }
      this.#buffer = this.#buffer.slice(length);
      void this.#handle(frame);
    }
  }

  async #handle(frame: number[]): Promise<void> {
    const [slave = 0, functionCode = 0] = frame;
    this.requests.push({ slave, functionCode, frame });
    const coils = this.coils.get(slave);
    // Broadcast (0) is carried out by nobody here and answered by nobody anywhere.
    if (coils === undefined || this.silent.has(slave)) return;
    const reply = this.#reply(frame, coils, this.inputs.get(slave) ?? []);
    if (this.dropReplies > 0) {
      this.dropReplies -= 1;
      return;
    }
    if (this.corruptReplies > 0) {
      this.corruptReplies -= 1;
      reply[reply.length - 1] = (reply[reply.length - 1] ?? 0) ^ 0x01;
    }
    if (this.noiseBeforeNextReply !== undefined) {
      await this.#host.write(Uint8Array.from(this.noiseBeforeNextReply));
      this.noiseBeforeNextReply = undefined;
    }
    if (this.strayBeforeNextReply) {
      this.strayBeforeNextReply = false;
      await this.#host.write(Uint8Array.from(framed([slave === 9 ? 10 : 9, 0x05, 0x00, 0x00, 0xff, 0x00])));
    }
    await this.#send(reply);
  }

  #reply(frame: readonly number[], coils: boolean[], inputs: readonly boolean[]): number[] {
    const [slave = 0, functionCode = 0, hi = 0, lo = 0, valueHi = 0, valueLo = 0] = frame;
    const address = (hi << 8) | lo;
    const exception = (code: number) => framed([slave, functionCode | 0x80, code]);
    if (this.exceptionNext !== undefined) {
      const code = this.exceptionNext;
      this.exceptionNext = undefined;
      return exception(code);
    }
    switch (functionCode) {
      case 0x05: {
        if (address >= coils.length) return exception(0x02);
        if (!((valueHi === 0xff || valueHi === 0x00) && valueLo === 0x00)) return exception(0x03);
        coils[address] = valueHi === 0xff;
        if (this.badEchoes > 0) {
          this.badEchoes -= 1;
          return framed([slave, 0x05, hi, lo, valueHi ^ 0xff, 0x00]);
        }
        return [...frame];
      }
      case 0x01:
      case 0x02: {
        const bits = functionCode === 0x01 ? coils : inputs;
        const quantity = (valueHi << 8) | valueLo;
        if (quantity < 1 || address + quantity > bits.length) return exception(0x02);
        const bytes = new Array<number>(Math.ceil(quantity / 8)).fill(0);
        for (let i = 0; i < quantity; i += 1) {
          if (bits[address + i] === true) bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (1 << (i & 7));
        }
        return framed([slave, functionCode, bytes.length, ...bytes]);
      }
      default:
        return exception(0x01);
    }
  }

  async #send(reply: readonly number[]): Promise<void> {
    switch (this.delivery) {
      case 'together':
        await this.#host.write(Uint8Array.from(reply));
        return;
      case 'split':
        await this.#host.write(Uint8Array.from(reply.slice(0, 3)));
        await delay(5);
        await this.#host.write(Uint8Array.from(reply.slice(3)));
        return;
      case 'bytewise':
        for (const byte of reply) {
          await this.#host.write(Uint8Array.of(byte));
          await delay(1);
        }
        return;
    }
  }
}
