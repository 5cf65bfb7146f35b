/**
 * One OSDP line (RS-485 port) and the PDs on it: a half-duplex multi-drop bus
 * with exactly one command outstanding. The scheduler gives the bus to the PD
 * with a queued command first (a door strike should not wait for a poll
 * round), otherwise polls round-robin. A reply must arrive within the reply
 * timeout plus the command's own transmit time; frames without the reply flag
 * are our own echo on a 2-wire line and are dropped.
 *
 * The port is opened by the first user and closed by the last, like the
 * Modbus bus; a lost port resets every PD and tells every user.
 */
import { performanceClock, type MonotonicClock } from '../serial/clock.js';
import { Listeners } from '../serial/listeners.js';
import type { DriverLogger } from '../serial/logger.js';
import type { OpenSerialPort, SerialPortTarget } from '../serial/open-serial-port.js';
import { PortSession } from '../serial/port-session.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { KeypadData, RawCardData } from './commands.js';
import type { OsdpFrame } from './frame.js';
import { OsdpFrameParser } from './frame-parser.js';
import type { OsdpKeyStore } from './key-store.js';
import { PdLink, type PdLinkCounters, type SecureChannelMode } from './pd-link.js';

export interface OsdpBusSettings {
  readonly id: string;
  readonly path: string;
  readonly baudRate: number;
  readonly secureChannel: SecureChannelMode;
  readonly installMode: boolean;
  readonly crc: boolean;
  readonly mark: boolean;
  /** Least time between two polls of the same PD. */
  readonly pollIntervalMs: number;
  /** Reply timeout on top of the command's transmit time (spec: 200 ms). */
  readonly replyTimeoutMs: number;
  readonly offlineAfterMs: number;
  readonly reconnectMs: number;
}

export const OSDP_BUS_DEFAULTS = {
  baudRate: 9600,
  secureChannel: 'preferred',
  installMode: false,
  crc: true,
  mark: true,
  pollIntervalMs: 50,
  replyTimeoutMs: 200,
  offlineAfterMs: 8_000,
  reconnectMs: 1_000,
} as const;

/** A driver using one PD of the bus. */
export interface OsdpBusUser {
  /** The port was lost or the PD went offline: the driver reports a fault. */
  lost(error: Error): void;
}

/** Listeners for one PD's news, fanned out to every driver using it. */
export class PdHub {
  readonly card: Listeners<RawCardData>;
  readonly keypad: Listeners<KeypadData>;
  readonly inputs: Listeners<readonly boolean[]>;
  readonly localStatus: Listeners<{ readonly tamper: boolean; readonly power: boolean }>;
  /** Last input levels reported, for a driver that subscribes after the PD came online. */
  lastInputs: readonly boolean[] | null = null;

  constructor(name: string, logger: DriverLogger) {
    this.card = new Listeners(name, logger, 'card');
    this.keypad = new Listeners(name, logger, 'keypad');
    this.inputs = new Listeners(name, logger, 'input');
    this.localStatus = new Listeners(name, logger, 'local status');
  }
}

interface PdEntry {
  readonly link: PdLink;
  readonly hub: PdHub;
  readonly users: Set<OsdpBusUser>;
  /** Exponentially smoothed time between two turns of this PD while online: the poll cycle. */
  cycleMs: number;
  lastTurnAt: number;
}

interface Waiter {
  readonly address: number;
  readonly resolve: (frame: OsdpFrame | null) => void;
}

export interface OsdpBusOptions {
  readonly settings: OsdpBusSettings;
  readonly openPort: OpenSerialPort;
  readonly logger: DriverLogger;
  readonly keyStore: OsdpKeyStore | null;
  readonly presenceCheckMs?: number;
  readonly clock?: MonotonicClock;
}

/** Transmit time of `bytes` at `baudRate`, 10 bits per character (8N1). */
export const wireTimeMs = (bytes: number, baudRate: number): number => (bytes * 10_000) / baudRate;

export class OsdpBus {
  readonly settings: OsdpBusSettings;
  readonly #o: OsdpBusOptions;
  readonly #clock: MonotonicClock;
  readonly #pds = new Map<number, PdEntry>();
  readonly #lifecycle = new SerialQueue();
  readonly #parser: OsdpFrameParser;
  readonly #counters = { exchanges: 0, echoes: 0, strayReplies: 0, portOpens: 0 };
  readonly #onlineWaiters = new Set<() => void>();
  #session: PortSession | undefined;
  #waiter: Waiter | undefined;
  #wake: (() => void) | undefined;
  #cursor = 0;

  constructor(options: OsdpBusOptions) {
    this.settings = options.settings;
    this.#o = options;
    this.#clock = options.clock ?? performanceClock;
    this.#parser = new OsdpFrameParser({ clock: this.#clock });
  }

  get target(): SerialPortTarget {
    return { path: this.settings.path, baudRate: this.settings.baudRate };
  }

  /** Adds a driver using the PD at `address`, opening the port if needed. */
  attach(address: number, user: OsdpBusUser): Promise<PdHub> {
    return this.#lifecycle.run(async () => {
      if (this.#session === undefined) await this.#open();
      const entry = this.#entry(address);
      entry.users.add(user);
      this.#wake?.();
      return entry.hub;
    });
  }

  /** Removes a driver; a PD nobody uses is no longer polled, and the last one out closes the port. */
  detach(address: number, user: OsdpBusUser): Promise<void> {
    return this.#lifecycle.run(async () => {
      const entry = this.#pds.get(address);
      if (entry !== undefined) {
        entry.users.delete(user);
        if (entry.users.size === 0) entry.link.reset('not in use');
      }
      if ([...this.#pds.values()].every((pd) => pd.users.size === 0)) await this.#close();
    });
  }

  link(address: number): PdLink | undefined {
    return this.#pds.get(address)?.link;
  }

  /** Resolves once the PD is online; rejects with the reason it is not after `timeoutMs`. */
  async waitOnline(address: number, timeoutMs: number): Promise<void> {
    const entry = this.#entry(address);
    if (entry.link.state === 'online') return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (entry.link.state !== 'online') return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`OSDP PD ${address} on bus ${this.settings.id} is not online: ${entry.link.stateReason}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#onlineWaiters.delete(check);
      };
      this.#onlineWaiters.add(check);
    });
  }

  /** Queues a command for a PD and wakes the scheduler; resolves with the PD's (decrypted) reply. */
  send(address: number, code: number, data: Buffer): Promise<OsdpFrame & { plain: Buffer }> {
    const entry = this.#entry(address);
    const reply = entry.link.send(code, data);
    this.#wake?.();
    return reply;
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.#parser.counters(), ...this.#counters };
  }

  pdCounters(address: number): (PdLinkCounters & { pollCycleMs: number }) | undefined {
    const entry = this.#pds.get(address);
    return entry === undefined ? undefined : { ...entry.link.counters(), pollCycleMs: Math.round(entry.cycleMs * 10) / 10 };
  }

  #entry(address: number): PdEntry {
    let entry = this.#pds.get(address);
    if (entry === undefined) {
      const name = `osdp:${this.settings.id}/${address}`;
      const hub = new PdHub(name, this.#o.logger);
      const users = new Set<OsdpBusUser>();
      const link = new PdLink(
        {
          busId: this.settings.id,
          address,
          secureChannel: this.settings.secureChannel,
          installMode: this.settings.installMode,
          crc: this.settings.crc,
          mark: this.settings.mark,
          pollIntervalMs: this.settings.pollIntervalMs,
          offlineAfterMs: this.settings.offlineAfterMs,
          reconnectMs: this.settings.reconnectMs,
          keyStore: this.#o.keyStore,
          logger: this.#o.logger,
        },
        {
          card: (data) => hub.card.emit(data),
          keypad: (data) => hub.keypad.emit(data),
          inputs: (levels) => {
            hub.lastInputs = levels;
            hub.inputs.emit(levels);
          },
          localStatus: (status) => hub.localStatus.emit(status),
          online: () => undefined,
          offline: (reason) => {
            const error = new Error(`OSDP PD ${address} on bus ${this.settings.id} went offline: ${reason}`);
            for (const user of [...users]) user.lost(error);
          },
        },
      );
      entry = { link, hub, users, cycleMs: 0, lastTurnAt: Number.NaN };
      this.#pds.set(address, entry);
    }
    return entry;
  }

  async #open(): Promise<void> {
    const { openPort, presenceCheckMs, logger } = this.#o;
    this.#parser.reset();
    const session: PortSession = await PortSession.open({
      target: this.target,
      openPort,
      onData: (chunk) => this.#onData(chunk),
      onFault: (error) => this.#portLost(session, error),
      ...(presenceCheckMs === undefined ? {} : { presenceCheckMs }),
    });
    this.#session = session;
    this.#counters.portOpens += 1;
    logger.info({ bus: this.settings.id, path: this.settings.path, baudRate: this.settings.baudRate }, 'OSDP bus opened');
    void this.#run(session);
  }

  async #close(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    this.#settleWaiter(null);
    this.#wake?.();
    await session.close();
    this.#o.logger.info({ bus: this.settings.id }, 'OSDP bus closed');
  }

  #portLost(session: PortSession, error: Error): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#o.logger.warn({ bus: this.settings.id, err: error.message }, 'OSDP bus port lost');
    this.#settleWaiter(null);
    this.#wake?.();
    for (const entry of this.#pds.values()) {
      entry.link.reset('bus port lost');
      for (const user of [...entry.users]) user.lost(error);
    }
  }

  /** The scheduler: one exchange at a time for as long as this port session lives. */
  async #run(session: PortSession): Promise<void> {
    while (this.#session === session) {
      const now = this.#clock.now();
      const entry = this.#pick(now);
      if (entry === undefined) {
        await this.#sleep(this.#idleMs(now));
        continue;
      }
      await this.#exchange(session, entry);
      // Two character times of idle line before the next transmission.
      await this.#sleep(Math.max(1, wireTimeMs(2, this.settings.baudRate)));
    }
  }

  /** A PD with a queued command first, then round-robin among those due. */
  #pick(now: number): PdEntry | undefined {
    const active = [...this.#pds.values()].filter((pd) => pd.users.size > 0);
    if (active.length === 0) return undefined;
    for (const preferQueued of [true, false]) {
      for (let step = 0; step < active.length; step += 1) {
        const index = (this.#cursor + step) % active.length;
        const entry = active[index] as PdEntry;
        if (preferQueued && !entry.link.hasQueuedCommands) continue;
        if (!entry.link.wantsTurn(now)) continue;
        this.#cursor = index + 1;
        return entry;
      }
    }
    return undefined;
  }

  #idleMs(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#pds.values()) if (entry.users.size > 0) next = Math.min(next, entry.link.nextTurnAt);
    return Math.max(1, Math.min(250, next - now));
  }

  async #exchange(session: PortSession, entry: PdEntry): Promise<void> {
    const startedAt = this.#clock.now();
    // Only polls measure the cycle: a queued command is an extra turn, and the next poll's interval spans it.
    if (!entry.link.hasQueuedCommands) this.#measureCycle(entry, startedAt);
    const wire = entry.link.nextFrame();
    this.#parser.reset();
    this.#counters.exchanges += 1;
    const reply = new Promise<OsdpFrame | null>((resolve) => {
      this.#waiter = { address: entry.link.address, resolve };
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await session.write(wire);
      timer = setTimeout(() => this.#settleWaiter(null), this.settings.replyTimeoutMs + wireTimeMs(wire.length, this.settings.baudRate));
      const frame = await reply;
      if (this.#session !== session) return;
      const now = this.#clock.now();
      if (frame === null) entry.link.onTimeout(now);
      else entry.link.onReply(frame, now);
      for (const check of [...this.#onlineWaiters]) check();
    } catch (error) {
      // The port fault watch reports the loss; the loop ends with the session.
      this.#o.logger.debug({ bus: this.settings.id, err: error instanceof Error ? error.message : String(error) }, 'OSDP write failed');
      this.#settleWaiter(null);
    } finally {
      clearTimeout(timer);
      this.#waiter = undefined;
    }
  }

  #measureCycle(entry: PdEntry, now: number): void {
    if (entry.link.state !== 'online') {
      entry.lastTurnAt = Number.NaN;
      return;
    }
    if (!Number.isNaN(entry.lastTurnAt)) {
      const interval = now - entry.lastTurnAt;
      entry.cycleMs = entry.cycleMs === 0 ? interval : entry.cycleMs * 0.8 + interval * 0.2;
    }
    entry.lastTurnAt = now;
  }

  #onData(chunk: Buffer): void {
    for (const frame of this.#parser.push(chunk)) {
      if (!frame.reply) {
        // Our own command, heard back on a 2-wire line (or another CP): never a reply.
        this.#counters.echoes += 1;
        continue;
      }
      const waiter = this.#waiter;
      if (waiter === undefined || frame.address !== waiter.address) {
        this.#counters.strayReplies += 1;
        continue;
      }
      this.#settleWaiter(frame);
    }
  }

  #settleWaiter(frame: OsdpFrame | null): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve(frame);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}
