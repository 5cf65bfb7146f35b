/**
 * BLE in the daemon: one supervised scanner child per adapter, presence
 * check-in from the members' beacons, and phone taps at readers.
 *
 *   scanner child ─► frame ─┬─ beacon ─► PresenceTracker ─► arrival ─► pipeline (no door) ─► check-in
 *                           │                             └► inactivity ─► AutoCheckout
 *                           └─ tap token ─► RSSI gate ─► TapVerifier ─► pipeline (the reader's door)
 *
 * Presence never opens a door: its source has no door, and the pipeline
 * refuses beacon credentials at any source that has one. Timing uses a
 * monotonic clock, so a wall-clock jump neither checks people out nor keeps
 * them in; only the token's time step is wall-clock by nature.
 */
import { beaconIdOf } from '../../drivers/ble/beacon-id.js';
import type { BleAdvertisement } from '../../drivers/ble/frames.js';
import { BleScanner } from '../../drivers/ble/scanner.js';
import type { AccessPipeline, AccessSource } from '../access/access-pipeline.js';
import type { AutoCheckout } from '../access/auto-checkout.js';
import type { BleConfig, BleReaderConfig } from '../config/schema.js';
import type { CredentialHasher } from '../store/credential-hash.js';
import type { CheckinSessions } from '../store/sessions.js';
import type { Logger } from '../runtime/logger.js';
import { Supervisor, type DeviceStatus } from '../runtime/supervisor.js';
import { PresenceTracker } from './presence-tracker.js';
import type { TapRejection, TapVerifier } from './tap-verifier.js';

export interface BleServiceOptions {
  readonly config: BleConfig;
  readonly pipeline: AccessPipeline;
  readonly hasher: CredentialHasher;
  readonly sessions: CheckinSessions;
  readonly autoCheckout: AutoCheckout;
  readonly verifier: TapVerifier;
  readonly logger: Logger;
  /** A module the scanner children load instead of @stoprocent/noble (tests). */
  readonly nobleModule?: string | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Monotonic milliseconds (presence and inactivity). */
  readonly monotonic?: () => number;
  /** Wall-clock epoch ms (token time steps). */
  readonly now?: () => number;
  /** How often inactivity and silence are evaluated (at most every second). */
  readonly tickMs?: number;
}

export interface BleCounters {
  arrivals: number;
  checkins: number;
  failedCheckins: number;
  unknownBeacons: number;
  inactivityCheckouts: number;
  tapsAccepted: number;
  tapsTooFar: number;
  tapsExpired: number;
  tapsFuture: number;
  tapsUnknownKey: number;
  tapsBadMac: number;
  tapsReplayed: number;
}

export interface BleReaderStatus {
  readonly id: string;
  readonly hciDevice: number;
  readonly door: string | null;
  readonly device: DeviceStatus;
  /** Why the adapter cannot be used and what to do; null while it scans. */
  readonly unavailable: { reason: string; fix: string } | null;
  readonly counters: Record<string, number>;
}

export interface BleStatus {
  readonly readers: BleReaderStatus[];
  readonly beaconsPresent: number;
  readonly counters: BleCounters;
}

const REJECTION_COUNTER: Record<TapRejection, keyof BleCounters> = {
  expired: 'tapsExpired',
  future: 'tapsFuture',
  unknown_key: 'tapsUnknownKey',
  bad_mac: 'tapsBadMac',
  replayed: 'tapsReplayed',
};

export class BleService {
  readonly #o: BleServiceOptions;
  readonly #readers: { config: BleReaderConfig; scanner: BleScanner; supervisor: Supervisor<BleScanner> }[] = [];
  readonly #tracker: PresenceTracker;
  readonly #monotonic: () => number;
  readonly #now: () => number;
  readonly #inactivityMs: number;
  /** Whose beacon each known beacon is (learnt from arrivals). */
  readonly #ownerOf = new Map<string, string>();
  /** People seen by their beacons: when one was last here (monotonic). */
  readonly #lastHere = new Map<string, number>();
  readonly #counters: BleCounters = {
    arrivals: 0,
    checkins: 0,
    failedCheckins: 0,
    unknownBeacons: 0,
    inactivityCheckouts: 0,
    tapsAccepted: 0,
    tapsTooFar: 0,
    tapsExpired: 0,
    tapsFuture: 0,
    tapsUnknownKey: 0,
    tapsBadMac: 0,
    tapsReplayed: 0,
  };
  #timer: NodeJS.Timeout | null = null;

  constructor(options: BleServiceOptions) {
    this.#o = options;
    this.#monotonic = options.monotonic ?? (() => performance.now());
    this.#now = options.now ?? Date.now;
    const p = options.config.presence;
    this.#inactivityMs = p.inactivityMinutes * 60_000;
    this.#tracker = new PresenceTracker({ enterRssi: p.enterRssi, exitRssi: p.exitRssi, smoothing: p.smoothing, absentAfterMs: p.absentAfterS * 1000 });
    for (const config of options.config.readers) {
      const scanner = new BleScanner({
        deviceId: `ble:${config.id}`,
        hciDevice: config.hciDevice,
        tapCompanyId: options.config.tapCompanyId,
        powerOnTimeoutMs: options.config.powerOnTimeoutS * 1000,
        nobleModule: options.nobleModule,
        env: options.env,
        logger: options.logger,
      });
      scanner.onAdvertisement((ad) => {
        try {
          this.handle(config, ad);
        } catch (error) {
          options.logger.error({ err: error, reader: config.id }, 'failed to handle a BLE advertisement');
        }
      });
      // A missing or unauthorised adapter is retried slowly; a crashed child quickly at first.
      const supervisor = new Supervisor(scanner, { logger: options.logger, minBackoffMs: 1_000, maxBackoffMs: 30_000 });
      this.#readers.push({ config, scanner, supervisor });
    }
  }

  start(): void {
    for (const r of this.#readers) r.supervisor.start();
    this.#timer = setInterval(() => this.tick(), Math.min(this.#o.tickMs ?? 1_000, 1_000));
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all(this.#readers.map((r) => r.supervisor.stop()));
  }

  /** One parsed frame heard by a reader's adapter. */
  handle(reader: BleReaderConfig, ad: BleAdvertisement): void {
    if (ad.kind === 'tap') return this.#tap(reader, ad.fields, ad.rssi);
    if (!reader.presence) return;
    const beaconId = beaconIdOf(ad);
    if (beaconId === null) return;
    const now = this.#monotonic();
    const change = this.#tracker.observe(beaconId, ad.rssi, now);
    if (change?.type === 'arrived') this.#arrive(reader, beaconId);
    const owner = this.#ownerOf.get(beaconId);
    if (owner !== undefined && this.#tracker.isPresent(beaconId)) this.#lastHere.set(owner, now);
  }

  /** Silence and inactivity; runs every second. */
  tick(now = this.#monotonic()): void {
    this.#tracker.tick(now);
    for (const [personId, lastHere] of this.#lastHere) {
      if (now - lastHere < this.#inactivityMs) continue;
      this.#lastHere.delete(personId);
      try {
        const session = this.#o.sessions.openSessionOf(personId);
        if (session !== null && this.#o.autoCheckout.checkOut(session, 'inactivity') !== null) {
          this.#counters.inactivityCheckouts++;
          this.#o.logger.info({ person: personId, session: session.id }, 'BLE inactivity: checked out');
        }
      } catch (error) {
        this.#o.logger.error({ err: error, person: personId }, 'BLE inactivity check-out failed');
      }
    }
  }

  #arrive(reader: BleReaderConfig, beaconId: string): void {
    this.#counters.arrivals++;
    const source: AccessSource = { id: reader.id, channel: 'ble', mode: 'entry', doorId: null, area: null, driver: 'ble' };
    const lookup = this.#o.hasher.lookup('ble_beacon', beaconId);
    const { pipeline } = this.#o;
    const evaluation = pipeline.evaluate(source, { kind: 'ble', lookup });
    const { decision } = evaluation;
    // The neighbours' beacons are nobody's business: not journaled.
    if (decision.reason === 'unknown_credential') {
      this.#counters.unknownBeacons++;
      return;
    }
    if (decision.person !== null) {
      this.#ownerOf.set(beaconId, decision.person.id);
      this.#lastHere.set(decision.person.id, this.#monotonic());
    }
    // Already checked in (by card, or an earlier arrival): nothing happens, nothing to record.
    if (decision.outcome === 'granted' && decision.checkin === 'none') return;
    pipeline.commit(source, evaluation);
    if (decision.checkin === 'checked_in') this.#counters.checkins++;
    if (decision.checkin === 'failed') this.#counters.failedCheckins++;
  }

  #tap(reader: BleReaderConfig, token: Extract<BleAdvertisement, { kind: 'tap' }>['fields'], rssi: number): void {
    // A phone in a pocket walking past is not a tap: it must be held at the reader.
    if (rssi < reader.tapRssi) {
      this.#counters.tapsTooFar++;
      return;
    }
    const verdict = this.#o.verifier.verify(token, this.#now());
    if (!verdict.ok) {
      this.#counters[REJECTION_COUNTER[verdict.reason]]++;
      // A held phone repeats its token many times a second: replays are expected and quiet.
      if (verdict.reason !== 'replayed') this.#o.logger.info({ reader: reader.id, reason: verdict.reason, counter: token.counter }, 'BLE tap token refused');
      return;
    }
    this.#counters.tapsAccepted++;
    const source: AccessSource = { id: reader.id, channel: 'ble', mode: reader.mode, doorId: reader.door ?? null, area: reader.area ?? null, driver: 'ble' };
    this.#o.pipeline.present(source, { kind: 'ble', lookup: verdict.lookup }, { restrictTo: (personId) => personId === verdict.personId });
  }

  status(): BleStatus {
    return {
      readers: this.#readers.map((r) => ({
        id: r.config.id,
        hciDevice: r.config.hciDevice,
        door: r.config.door ?? null,
        device: r.supervisor.status(),
        unavailable: r.scanner.unavailable(),
        counters: { ...r.scanner.counters() },
      })),
      beaconsPresent: [...this.#ownerOf.keys()].filter((b) => this.#tracker.isPresent(b)).length,
      counters: { ...this.#counters },
    };
  }
}
