import { SecretValue } from '../../daemon/runtime/secret.js';
import { formatUid, isRandomUid, type UidCardFormat } from '../card-format/uid-number.js';
import { performanceClock, type MonotonicClock } from '../serial/clock.js';
import { FloodGuard, rejectionUnits } from '../serial/flood-guard.js';
import { Listeners } from '../serial/listeners.js';
import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { openSerialPort, type OpenSerialPort } from '../serial/open-serial-port.js';
import { PortSession } from '../serial/port-session.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { PresentedCredential, ReaderDriver } from '../types.js';
import {
  LIST_ONE_TYPE_A,
  PN532_COMMAND,
  RELEASE_ALL,
  SAM_NORMAL_MODE,
  decodeFirmwareVersion,
  decodeInListPassiveTarget,
  decodeStatus,
  maxRetries,
  type InListResult,
} from './commands.js';
import { WAKE_UP } from './frame.js';
import { Pn532FrameParser } from './frame-parser.js';
import { Pn532Link, emptyLinkCounters, type Pn532LinkCounters } from './link.js';
import { PresenceTracker } from './presence.js';

export interface Pn532ReaderOptions {
  readonly deviceId: string;
  readonly path: string;
  readonly baudRate?: number;
  readonly cardFormat: UidCardFormat;
  /** Pause between the end of one poll and the next InListPassiveTarget. */
  readonly pollIntervalMs?: number;
  /** Empty polls in a row after which a card counts as removed (and is read again when it comes back). */
  readonly removalPolls?: number;
  /** MxRtyPassiveActivation: how often the PN532 looks for a card per poll (0..254, never 255 = forever). */
  readonly activationRetries?: number;
  readonly ackTimeoutMs?: number;
  readonly responseTimeoutMs?: number;
  /** Tries per command before the poll counts as failed. */
  readonly commandAttempts?: number;
  /** Failed polls in a row after which the reader reports a fault and the supervisor reopens it. */
  readonly maxFailedPolls?: number;
  readonly logger?: DriverLogger;
  readonly clock?: MonotonicClock;
  readonly openPort?: OpenSerialPort;
  /** How often the device node is checked for an unplug serialport missed. */
  readonly presenceCheckMs?: number;
}

export const PN532_DEFAULTS = {
  baudRate: 115_200,
  pollIntervalMs: 100,
  removalPolls: 3,
  activationRetries: 2,
  ackTimeoutMs: 100,
  responseTimeoutMs: 1_000,
  commandAttempts: 3,
  maxFailedPolls: 3,
} as const;

/** Wake-up plus SAMConfiguration tries: five zeros are sometimes not enough to wake a PN532 (libnfc). */
const WAKE_ATTEMPTS = 3;
const PN532_IC = 0x32;
const RANDOM_UID_KEY = 'random';

/** One open(): the port, its command link and poll loop, torn down together. */
class Session {
  stopped = false;
  faulted = false;
  loop: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;

  constructor(
    readonly port: PortSession,
    readonly link: Pn532Link,
  ) {}

  /** Waits `ms` or until stop(). */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  stop(reason: string): void {
    this.stopped = true;
    this.link.close(reason);
    this.#wake?.();
  }
}

/**
 * PN532 NFC reader (ISO 14443 type A: MIFARE Classic, Ultralight, NTAG,
 * DESFire) on HSU. open() wakes the chip, configures it and starts polling;
 * each card is read once per presentation and mapped to the configured
 * number format. The boards have no LED or buzzer reachable over HSU, so
 * there is no feedback().
 */
export class Pn532Reader implements ReaderDriver {
  readonly deviceId: string;
  readonly #path: string;
  readonly #baudRate: number;
  readonly #cardFormat: UidCardFormat;
  readonly #pollIntervalMs: number;
  readonly #activationRetries: number;
  readonly #ackTimeoutMs: number;
  readonly #responseTimeoutMs: number;
  readonly #commandAttempts: number;
  readonly #maxFailedPolls: number;
  readonly #presenceCheckMs: number | undefined;
  readonly #logger: DriverLogger;
  readonly #openPort: OpenSerialPort;
  readonly #parser = new Pn532FrameParser();
  readonly #presence: PresenceTracker<string>;
  readonly #flood: FloodGuard;
  readonly #reads: Listeners<PresentedCredential>;
  readonly #faults: Listeners<Error>;
  readonly #lifecycle = new SerialQueue();
  readonly #linkCounters: Pn532LinkCounters = emptyLinkCounters();
  readonly #counters = {
    readsEmitted: 0,
    cardsRemoved: 0,
    randomUidsIgnored: 0,
    unmappableUids: 0,
    malformedResponses: 0,
    releaseErrors: 0,
    failedPolls: 0,
    faults: 0,
  };
  #session: Session | undefined;
  #rejectedUnits = 0;

  constructor(options: Pn532ReaderOptions) {
    this.deviceId = options.deviceId;
    this.#path = options.path;
    this.#baudRate = options.baudRate ?? PN532_DEFAULTS.baudRate;
    this.#cardFormat = options.cardFormat;
    this.#pollIntervalMs = options.pollIntervalMs ?? PN532_DEFAULTS.pollIntervalMs;
    this.#activationRetries = options.activationRetries ?? PN532_DEFAULTS.activationRetries;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? PN532_DEFAULTS.ackTimeoutMs;
    this.#responseTimeoutMs = options.responseTimeoutMs ?? PN532_DEFAULTS.responseTimeoutMs;
    this.#commandAttempts = options.commandAttempts ?? PN532_DEFAULTS.commandAttempts;
    this.#maxFailedPolls = options.maxFailedPolls ?? PN532_DEFAULTS.maxFailedPolls;
    this.#presenceCheckMs = options.presenceCheckMs;
    this.#logger = options.logger ?? silentLogger;
    this.#openPort = options.openPort ?? openSerialPort;
    this.#presence = new PresenceTracker(options.removalPolls ?? PN532_DEFAULTS.removalPolls);
    this.#flood = new FloodGuard({ deviceId: this.deviceId, logger: this.#logger, clock: options.clock ?? performanceClock });
    this.#reads = new Listeners(this.deviceId, this.#logger, 'read');
    this.#faults = new Listeners(this.deviceId, this.#logger, 'fault');
    maxRetries(this.#activationRetries); // validates now rather than at the first open
  }

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#session !== undefined && !this.#session.faulted) return;
      await this.#closeSession();
      await this.#openSession();
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(() => this.#closeSession());
  }

  onFault(listener: (error: Error) => void): void {
    this.#faults.add(listener);
  }

  onRead(listener: (credential: PresentedCredential) => void): void {
    this.#reads.add(listener);
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.#parser.counters(), ...this.#linkCounters, ...this.#counters, ...this.#flood.counters() };
  }

  async #openSession(): Promise<void> {
    this.#parser.reset();
    this.#presence.reset();
    const port = await PortSession.open({
      target: { path: this.#path, baudRate: this.#baudRate },
      openPort: this.#openPort,
      onData: (chunk) => this.#onData(chunk),
      // Port events arrive on later ticks, by which time `session` below exists.
      onFault: (error) => this.#fault(session, error),
      ...(this.#presenceCheckMs === undefined ? {} : { presenceCheckMs: this.#presenceCheckMs }),
    });
    const link = new Pn532Link(
      this.#parser,
      {
        write: (bytes) => port.write(bytes),
        ackTimeoutMs: this.#ackTimeoutMs,
        responseTimeoutMs: this.#responseTimeoutMs,
        attempts: this.#commandAttempts,
      },
      this.#linkCounters,
    );
    const session = new Session(port, link);
    try {
      await this.#initialise(session);
    } catch (error) {
      session.stop('open failed');
      await port.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `PN532 on ${this.#path} did not initialise: ${reason} (is it in HSU mode, SEL0 and SEL1 off, at ${this.#baudRate} baud?)`,
        { cause: error },
      );
    }
    if (session.faulted) throw new Error(`PN532 on ${this.#path} was lost while initialising`);
    this.#session = session;
    session.loop = this.#poll(session);
    this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader opened');
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    session.stop('reader closed');
    await session.loop;
    await session.port.close();
    this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader closed');
  }

  /** Wake-up, SAMConfiguration (the first command after power-up), firmware check, finite activation retries. */
  async #initialise(session: Session): Promise<void> {
    const { link, port } = session;
    for (let attempt = 1; ; attempt += 1) {
      await port.write(WAKE_UP);
      try {
        await link.command(PN532_COMMAND.samConfiguration, SAM_NORMAL_MODE, 1);
        break;
      } catch (error) {
        if (attempt >= WAKE_ATTEMPTS || session.stopped) throw error;
      }
    }
    const firmware = decodeFirmwareVersion(await link.command(PN532_COMMAND.getFirmwareVersion));
    if (firmware === undefined) throw new Error('malformed GetFirmwareVersion response');
    const fields = { deviceId: this.deviceId, ic: firmware.ic, version: `${firmware.version}.${firmware.revision}` };
    if (firmware.ic !== PN532_IC) this.#logger.warn(fields, 'not a PN532 (IC 0x32); trying anyway');
    else this.#logger.debug(fields, 'PN532 firmware');
    await link.command(PN532_COMMAND.rfConfiguration, maxRetries(this.#activationRetries));
  }

  async #poll(session: Session): Promise<void> {
    let failedPolls = 0;
    // A listed card stays selected and ignores the next poll until released. A poll whose answer
    // was lost may have selected one too, so release before polling again whenever in doubt.
    let mayHoldTarget = false;
    while (!session.stopped) {
      try {
        if (mayHoldTarget) await this.#release(session);
        mayHoldTarget = true;
        // One try only: a retry right away would meet the card the lost try selected and see an empty field.
        const params = await session.link.command(PN532_COMMAND.inListPassiveTarget, LIST_ONE_TYPE_A, 1);
        const result = decodeInListPassiveTarget(params);
        if (result.kind === 'malformed') {
          this.#counters.malformedResponses += 1;
          this.#flood.reject();
          throw new Error('malformed InListPassiveTarget response');
        }
        if (result.kind === 'target') await this.#release(session);
        mayHoldTarget = false;
        if (session.stopped) break;
        failedPolls = 0;
        this.#observe(result);
      } catch (error) {
        if (session.stopped) break;
        failedPolls += 1;
        this.#counters.failedPolls += 1;
        const message = error instanceof Error ? error.message : String(error);
        this.#logger.debug({ deviceId: this.deviceId, err: message, failedPolls }, 'poll failed');
        if (failedPolls >= this.#maxFailedPolls) {
          this.#fault(session, new Error(`PN532 on ${this.#path} stopped answering: ${message}`));
          break;
        }
      }
      await session.sleep(this.#pollIntervalMs);
    }
  }

  async #release(session: Session): Promise<void> {
    const status = decodeStatus(await session.link.command(PN532_COMMAND.inRelease, RELEASE_ALL));
    if (status !== 0) this.#counters.releaseErrors += 1;
  }

  #observe(result: Exclude<InListResult, { kind: 'malformed' }>): void {
    if (result.kind === 'none') {
      if (this.#presence.observe(undefined).removed !== undefined) this.#counters.cardsRemoved += 1;
      return;
    }
    const { uid } = result.target;
    // A random UID changes on every activation; one key for all of them keeps a held phone one presentation.
    const random = isRandomUid(uid);
    const change = this.#presence.observe(random ? RANDOM_UID_KEY : uid.toString('hex'));
    if (change.removed !== undefined) this.#counters.cardsRemoved += 1;
    if (change.presented === undefined) return;
    if (random) {
      this.#counters.randomUidsIgnored += 1;
      this.#logger.debug({ deviceId: this.deviceId }, 'random UID ignored: not an identity');
      return;
    }
    const number = formatUid(uid, this.#cardFormat);
    if (number === undefined) {
      this.#counters.unmappableUids += 1;
      this.#logger.warn(
        { deviceId: this.deviceId, uidBytes: uid.length, cardFormat: this.#cardFormat },
        'card UID cannot be rendered in the configured card format',
      );
      return;
    }
    this.#counters.readsEmitted += 1;
    this.#logger.debug({ deviceId: this.deviceId, uidBytes: uid.length }, 'card read');
    this.#reads.emit({ kind: 'card', number: new SecretValue(number) });
  }

  #onData(chunk: Buffer): void {
    if (!this.#flood.admit(chunk.length)) {
      // Dropped bytes leave a gap: a frame held from before it cannot be completed by bytes after it.
      this.#parser.reset();
      return;
    }
    this.#parser.write(chunk);
    const { badLength, badChecksum, garbageBytes } = this.#parser.counters();
    const units = rejectionUnits(badLength + badChecksum, garbageBytes);
    this.#flood.reject(units - this.#rejectedUnits);
    this.#rejectedUnits = units;
  }

  /** Reports a lost or unresponsive device once per open; the supervisor closes and reopens it. */
  #fault(session: Session, error: Error): void {
    if (session.faulted) return;
    session.faulted = true;
    session.stop(error.message);
    if (this.#session !== session) return; // still initialising: open() reports it
    this.#counters.faults += 1;
    this.#logger.warn({ deviceId: this.deviceId, path: this.#path, err: error.message }, 'reader lost');
    this.#faults.emit(error);
  }
}
