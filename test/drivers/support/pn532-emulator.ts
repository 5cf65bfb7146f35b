/**
 * A PN532 on the host side of a pty, written from NXP UM0701-02 §6.2 and the
 * hardware reference (§2), independently of the driver's own framing code. It
 * answers the commands a reader sends with the reference frames and can
 * misbehave on request: lose ACKs or whole commands, corrupt a response,
 * split or merge its writes, hang like an unconfigured InListPassiveTarget,
 * or go silent.
 */
import { delay, openRawHost, type RawHost } from './serial-host.js';

export interface EmulatedCard {
  readonly uid: readonly number[];
  /** SENS_RES (ATQA) as sent, default 00 04 (MIFARE Classic 1K). */
  readonly sensRes?: readonly [number, number];
  /** SEL_RES (SAK), default 08. */
  readonly sak?: number;
  /** ATS including its TL byte, for ISO 14443-4 cards (SAK bit 0x20). */
  readonly ats?: readonly number[];
}

export interface ReceivedCommand {
  readonly code: number;
  readonly params: readonly number[];
}

export type Delivery = 'together' | 'separate' | 'bytewise';

const ACK = [0x00, 0x00, 0xff, 0x00, 0xff, 0x00];
const ERROR_FRAME = [0x00, 0x00, 0xff, 0x01, 0xff, 0x7f, 0x81, 0x00];

/** A PN532→host information frame around `data` (TFI D5 included by the caller). */
export function pn532Frame(data: readonly number[]): number[] {
  const len = data.length;
  const sum = data.reduce((total, byte) => total + byte, 0);
  return [0x00, 0x00, 0xff, len, (0x100 - len) & 0xff, ...data, (0x100 - (sum & 0xff)) & 0xff, 0x00];
}

export class Pn532Emulator {
  /** The card in the field, or null. */
  card: EmulatedCard | null = null;
  /** Every valid command frame received, in order. */
  readonly commands: ReceivedCommand[] = [];
  readonly seen = { wakeUps: 0, aborts: 0, nacks: 0, badFrames: 0 };

  /** Power-up state: LowVbat until 55 arrives, then only SAMConfiguration is accepted. */
  asleep = true;
  samConfigured = false;
  /** MxRtyPassiveActivation; FF (the power-up default) makes InListPassiveTarget wait forever for a card. */
  passiveRetries = 0xff;
  /** Real cards stay selected after InListPassiveTarget and ignore the next poll until released. */
  selected = false;

  delivery: Delivery = 'together';
  /** Ignore the next n commands entirely: no ACK, no response (the command was lost). */
  dropCommands = 0;
  /** Send the next n responses without their ACK. */
  dropAcks = 0;
  /** Carry out the next n commands and ACK them, but lose their responses. */
  loseResponses = 0;
  /** Send the next n responses with a wrong DCS; a NACK gets the good one. */
  corruptResponses = 0;
  /** Report an empty field for the next n polls although a card is there (a resting card missing a poll). */
  missPolls = 0;
  /** Answer nothing at all (a wedged chip). */
  silent = false;
  /** Make up a new random UID (08 xx xx xx) on every activation, like a phone. */
  randomUid = false;

  readonly #host: RawHost;
  #buffer: number[] = [];
  #lastResponse: number[] | undefined;
  #hanging = false;
  #randomCounter = 0;

  private constructor(host: RawHost) {
    this.#host = host;
    host.onData((chunk) => this.#receive(chunk));
  }

  static async attach(hostPath: string): Promise<Pn532Emulator> {
    return new Pn532Emulator(await openRawHost(hostPath, 115_200));
  }

  /** Sends raw bytes to the reader (garbage, stray frames). */
  inject(bytes: readonly number[]): Promise<void> {
    return this.#host.write(Uint8Array.from(bytes));
  }

  count(code: number): number {
    return this.commands.filter((command) => command.code === code).length;
  }

  close(): Promise<void> {
    return this.#host.close();
  }

  #receive(chunk: Buffer): void {
    let bytes = [...chunk];
    if (this.asleep) {
      const wake = bytes.indexOf(0x55);
      if (wake < 0) return;
      this.asleep = false;
      this.seen.wakeUps += 1;
      bytes = bytes.slice(wake);
    }
    this.#buffer.push(...bytes);
    this.#parse();
  }

  #parse(): void {
    for (;;) {
      let start = -1;
      for (let i = 0; i + 1 < this.#buffer.length; i += 1) {
        if (this.#buffer[i] === 0x00 && this.#buffer[i + 1] === 0xff) {
          start = i;
          break;
        }
      }
      if (start < 0) {
        this.#buffer = this.#buffer.slice(-1);
        return;
      }
      this.#buffer = this.#buffer.slice(start);
      if (this.#buffer.length < 4) return;
      const [, , len = 0, lcs = 0] = this.#buffer;
      if (len === 0x00 && lcs === 0xff) {
        this.#buffer = this.#buffer.slice(4);
        this.#onAbort();
        continue;
      }
      if (len === 0xff && lcs === 0x00) {
        this.#buffer = this.#buffer.slice(4);
        this.#onNack();
        continue;
      }
      if (((len + lcs) & 0xff) !== 0 || len < 2) {
        this.seen.badFrames += 1;
        this.#buffer = this.#buffer.slice(1);
        continue;
      }
      if (this.#buffer.length < 4 + len + 1) return;
      const body = this.#buffer.slice(4, 4 + len);
      const dcs = this.#buffer[4 + len] ?? 0;
      const sum = body.reduce((total, byte) => total + byte, dcs);
      if ((sum & 0xff) !== 0 || body[0] !== 0xd4) {
        this.seen.badFrames += 1;
        this.#buffer = this.#buffer.slice(1);
        continue;
      }
      this.#buffer = this.#buffer.slice(4 + len + 1);
      this.#onCommand(body[1] ?? 0, body.slice(2));
    }
  }

  #onAbort(): void {
    this.seen.aborts += 1;
    this.#hanging = false;
  }

  #onNack(): void {
    this.seen.nacks += 1;
    if (this.silent || this.#lastResponse === undefined) return;
    void this.#send(this.#lastResponse);
  }

  #onCommand(code: number, params: number[]): void {
    if (this.silent) return;
    if (this.dropCommands > 0) {
      this.dropCommands -= 1;
      return;
    }
    // In LowVbat the first command must be SAMConfiguration; anything else goes unanswered.
    if (!this.samConfigured && code !== 0x14) return;
    this.commands.push({ code, params });
    const response = this.#respond(code, params);
    let ack = ACK;
    if (this.dropAcks > 0) {
      this.dropAcks -= 1;
      ack = [];
    }
    if (response === undefined) {
      void this.#send(ack);
      return;
    }
    this.#lastResponse = response;
    if (this.loseResponses > 0) {
      this.loseResponses -= 1;
      void this.#send(ack);
      return;
    }
    let sent = response;
    if (this.corruptResponses > 0) {
      this.corruptResponses -= 1;
      sent = [...response];
      sent[sent.length - 2] = ((sent[sent.length - 2] ?? 0) + 1) & 0xff;
    }
    void this.#deliver(ack, sent);
  }

  /** The response frame, or undefined while the command keeps running (an endless InListPassiveTarget). */
  #respond(code: number, params: number[]): number[] | undefined {
    switch (code) {
      case 0x14:
        this.samConfigured = true;
        return pn532Frame([0xd5, 0x15]);
      case 0x02:
        return pn532Frame([0xd5, 0x03, 0x32, 0x01, 0x06, 0x07]);
      case 0x32:
        if (params[0] === 0x05 && params.length === 4) this.passiveRetries = params[3] ?? 0xff;
        return pn532Frame([0xd5, 0x33]);
      case 0x4a:
        return this.#listPassiveTarget();
      case 0x52:
      case 0x44:
        this.selected = false;
        return pn532Frame([0xd5, code + 1, 0x00]);
      default:
        return ERROR_FRAME;
    }
  }

  #listPassiveTarget(): number[] | undefined {
    const card = this.card;
    const answers = card !== null && !this.selected && this.missPolls === 0;
    if (card !== null && this.missPolls > 0) this.missPolls -= 1;
    if (!answers || card === null) {
      if (this.passiveRetries === 0xff) {
        this.#hanging = true;
        return undefined;
      }
      return pn532Frame([0xd5, 0x4b, 0x00]);
    }
    this.selected = true;
    const uid = this.randomUid ? [0x08, 0x5a, 0x10, (this.#randomCounter += 1) & 0xff] : [...card.uid];
    const [sens0, sens1] = card.sensRes ?? [0x00, 0x04];
    return pn532Frame([0xd5, 0x4b, 0x01, 0x01, sens0, sens1, card.sak ?? 0x08, uid.length, ...uid, ...(card.ats ?? [])]);
  }

  async #deliver(ack: readonly number[], response: readonly number[]): Promise<void> {
    switch (this.delivery) {
      case 'together':
        await this.#send([...ack, ...response]);
        return;
      case 'separate':
        await this.#send(ack);
        await delay(5);
        await this.#send(response);
        return;
      case 'bytewise':
        for (const byte of [...ack, ...response]) {
          await this.#send([byte]);
          await delay(1);
        }
        return;
    }
  }

  #send(bytes: readonly number[]): Promise<void> {
    if (bytes.length === 0) return Promise.resolve();
    return this.#host.write(Uint8Array.from(bytes));
  }

  /** True while an InListPassiveTarget waits for a card that is not there (retries = forever). */
  get hanging(): boolean {
    return this.#hanging;
  }
}
