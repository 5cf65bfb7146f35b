import { ACK_FRAME, NACK_FRAME, TFI_PN532_TO_HOST, encodeCommand } from './frame.js';
import type { Pn532FrameParser, Pn532Packet } from './frame-parser.js';

export interface Pn532LinkOptions {
  /** Writes bytes to the port; rejects when they cannot be sent. */
  readonly write: (bytes: Uint8Array) => Promise<void>;
  /** The PN532 acknowledges within a few ms; silence longer than this means it did not get the command. */
  readonly ackTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** Tries per command; each failed try is aborted before the next. */
  readonly attempts: number;
}

export type Pn532LinkCounters = {
  commands: number;
  ackTimeouts: number;
  responseTimeouts: number;
  /** Responses that arrived without their ACK (lost on the wire); accepted. */
  acksMissing: number;
  nacksSent: number;
  abortsSent: number;
  applicationErrors: number;
  /** Valid frames that answered no pending command (late or stray). */
  strayFrames: number;
};

export function emptyLinkCounters(): Pn532LinkCounters {
  return { commands: 0, ackTimeouts: 0, responseTimeouts: 0, acksMissing: 0, nacksSent: 0, abortsSent: 0, applicationErrors: 0, strayFrames: 0 };
}

export type Pn532FailureKind = 'no-ack' | 'no-response' | 'application-error' | 'closed';

export class Pn532CommandError extends Error {
  override readonly name = 'Pn532CommandError';

  constructor(
    readonly failure: Pn532FailureKind,
    message: string,
  ) {
    super(message);
  }
}

/** NACKs per try: a corrupted response is asked for again, but not forever. */
const MAX_NACKS_PER_TRY = 2;

interface PendingCommand {
  readonly responseCode: number;
  acked: boolean;
  nacks: number;
  readonly resolve: (params: Buffer) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One command at a time to a PN532: frame, wait for ACK, wait for the
 * response, with recovery. A lost ACK or response is a timeout; the command
 * is then aborted (ACK to the PN532) and sent again. A corrupted response
 * after the ACK is asked for again with NACK. A response whose ACK went missing is accepted:
 * the PN532 clearly got the command. Frames are matched by response code, so
 * a late answer to another command is ignored.
 */
export class Pn532Link {
  readonly #parser: Pn532FrameParser;
  readonly #options: Pn532LinkOptions;
  readonly #counters: Pn532LinkCounters;
  readonly #onPacket = (packet: Pn532Packet) => this.#handle(packet);
  #pending: PendingCommand | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed: Error | undefined;

  constructor(parser: Pn532FrameParser, options: Pn532LinkOptions, counters: Pn532LinkCounters = emptyLinkCounters()) {
    this.#parser = parser;
    this.#options = options;
    this.#counters = counters;
    parser.on('data', this.#onPacket);
  }

  /** Sends a command and resolves with the response parameters (after the response code). */
  async command(code: number, params: Uint8Array = new Uint8Array(0), attempts = this.#options.attempts): Promise<Buffer> {
    this.#counters.commands += 1;
    let lastError: Error = new Pn532CommandError('no-ack', 'no attempt made');
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        return await this.#try(code, params);
      } catch (error) {
        if (!(error instanceof Pn532CommandError) || error.failure === 'closed' || error.failure === 'application-error') throw error;
        lastError = error;
        await this.#abort();
      }
    }
    throw lastError;
  }

  /** Rejects the running command and every later one; used on close and on fault. */
  close(reason = 'PN532 link closed'): void {
    if (this.#closed !== undefined) return;
    this.#closed = new Pn532CommandError('closed', reason);
    this.#parser.off('data', this.#onPacket);
    this.#settle(this.#closed);
  }

  #try(code: number, params: Uint8Array): Promise<Buffer> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    // Bytes held from before this command cannot complete its response (libnfc flushes the same way).
    this.#parser.reset();
    let resolve: (params: Buffer) => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const result = new Promise<Buffer>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    const pending: PendingCommand = { responseCode: code + 1, acked: false, nacks: 0, resolve, reject };
    this.#pending = pending;
    this.#options.write(encodeCommand(code, params)).then(
      () => {
        // The ACK clock starts once the bytes are out; the answer may already be in.
        if (this.#pending === pending && !pending.acked) this.#arm('no-ack', this.#options.ackTimeoutMs, code);
      },
      (error: unknown) => {
        if (this.#pending === pending) this.#settle(error instanceof Error ? error : new Error(String(error)));
      },
    );
    return result;
  }

  #handle(packet: Pn532Packet): void {
    const pending = this.#pending;
    if (pending === undefined) {
      if (packet.kind === 'frame') this.#counters.strayFrames += 1;
      return;
    }
    switch (packet.kind) {
      case 'ack':
        if (pending.acked) return;
        pending.acked = true;
        this.#arm('no-response', this.#options.responseTimeoutMs, pending.responseCode - 1);
        return;
      case 'nack':
        return;
      case 'error':
        this.#counters.applicationErrors += 1;
        this.#settle(new Pn532CommandError('application-error', `PN532 rejected command 0x${hex(pending.responseCode - 1)} (application error frame)`));
        return;
      case 'corrupt':
        // Before the ACK a NACK would fetch the previous command's response; let the ACK timeout handle it.
        if (!pending.acked || pending.nacks >= MAX_NACKS_PER_TRY) return;
        pending.nacks += 1;
        this.#counters.nacksSent += 1;
        this.#options.write(NACK_FRAME).catch(() => undefined);
        return;
      case 'frame':
        if (packet.tfi !== TFI_PN532_TO_HOST || packet.data[0] !== pending.responseCode) {
          this.#counters.strayFrames += 1;
          return;
        }
        if (!pending.acked) this.#counters.acksMissing += 1;
        this.#settle(undefined, packet.data.subarray(1));
        return;
    }
  }

  #arm(failure: 'no-ack' | 'no-response', timeoutMs: number, code: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#counters[failure === 'no-ack' ? 'ackTimeouts' : 'responseTimeouts'] += 1;
      const what = failure === 'no-ack' ? 'no ACK' : 'no response';
      this.#settle(new Pn532CommandError(failure, `${what} to command 0x${hex(code)} within ${timeoutMs} ms`));
    }, timeoutMs);
  }

  #settle(error: Error | undefined, params?: Buffer): void {
    const pending = this.#pending;
    this.#pending = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (pending === undefined) return;
    if (error !== undefined) pending.reject(error);
    else pending.resolve(Buffer.from(params ?? []));
  }

  /** ACK from the host aborts whatever the PN532 is still doing (e.g. an endless InListPassiveTarget). */
  async #abort(): Promise<void> {
    if (this.#closed !== undefined) return;
    this.#counters.abortsSent += 1;
    try {
      await this.#options.write(ACK_FRAME);
    } catch {
      // The next try's write fails the same way and reports it.
    }
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0').toUpperCase();
}
