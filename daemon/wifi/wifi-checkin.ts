/**
 * Wi-Fi check-in: what a verified RADIUS request means.
 *
 *   Access-Request (PAP: email + PIN or visitor code, Calling-Station-Id)
 *     ─► per-user rate limit and lockout ─► pipeline.evaluate (the engine,
 *        restricted to the person with that email) ─► device limit
 *     ─► Access-Reject: journaled now (a failed check-in when it is one)
 *     ─► Access-Accept: the evaluation waits for the device to connect
 *   Accounting-Start ─► commit: check-in journaled, device session opened
 *   Interim-Update   ─► activity
 *   Stop             ─► device session closed
 *   no activity of any device for wifiIdleMinutes ─► check-out (inactivity)
 *
 * Why the check-in waits for Accounting-Start: an Access-Accept only says the
 * controller may let the device on; the device may never associate (wrong
 * network, portal closed). The platform checks people in "when they connect",
 * which the controller reports with Accounting-Start. Controllers without
 * accounting use checkInOn: access-accept.
 *
 * Inactivity is measured on the monotonic clock, in memory: a wall-clock jump
 * can neither check people out nor keep them in. After a restart every open
 * device gets a full inactivity period from the restart.
 */
import { v7 as uuidv7 } from 'uuid';
import type { AccessPipeline, AccessSource, Evaluation } from '../access/access-pipeline.js';
import type { AutoCheckout } from '../access/auto-checkout.js';
import type { GuessGuard } from '../access/guess-guard.js';
import { isWrongCode } from '../engine/lockout.js';
import type { Logger } from '../runtime/logger.js';
import { SecretValue } from '../runtime/secret.js';
import type { CredentialCache } from '../store/cache.js';
import { fingerprint, type CredentialHasher } from '../store/credential-hash.js';
import type { CheckinSessions } from '../store/sessions.js';
import type { WifiDevices } from '../store/wifi-devices.js';
import { unhidePassword } from './radius-auth.js';
import { AcctStatus, Attr, RadiusCode, attribute, integerAttribute, integerValue, textAttribute, textValue } from './radius-packet.js';
import type { RadiusReply, RadiusRequest } from './radius-server.js';
import { TokenBuckets, type BucketRate } from './token-bucket.js';
import {
  PRE_DECISION_MESSAGES,
  REPLY_MESSAGES,
  applyDeviceLimit,
  interimIntervalS,
  nextCutoff,
  normalizeMac,
  sessionTimeoutS,
  withoutCheckIn,
} from './wifi-policy.js';

export interface WifiCheckinOptions {
  readonly pipeline: AccessPipeline;
  readonly cache: CredentialCache;
  readonly hasher: CredentialHasher;
  readonly sessions: CheckinSessions;
  readonly devices: WifiDevices;
  readonly autoCheckout: AutoCheckout;
  /** Per-user wrong-code lockout (sources `wifi-user:<email fingerprint>`), next to the per-device one of the pipeline. */
  readonly userGuard: GuessGuard;
  readonly logger: Logger;
  readonly timezone: string;
  readonly checkInOn: 'accounting-start' | 'access-accept';
  readonly maxSessionTimeoutS: number;
  readonly perUser: BucketRate;
  /** Wall clock (event times, token validity). */
  readonly now?: () => number;
  /** Monotonic clock (inactivity, pending sign-ins, rate limits). */
  readonly monotonic?: () => number;
}

/** An accepted sign-in waiting for its device to connect. */
interface PendingSignIn {
  readonly personId: string;
  readonly mac: string;
  readonly source: AccessSource;
  readonly evaluation: Evaluation;
  readonly acceptedAt: number;
  committed: boolean;
}

/** How long an Access-Accept waits for its Accounting-Start. */
const PENDING_MS = 5 * 60_000;
/** The session source recorded for Wi-Fi check-ins; only these are checked out for inactivity. */
export const WIFI_SESSION_SOURCE = 'radius';

export interface WifiCounters {
  accepted: number;
  rejected: number;
  checkIns: number;
  inactivityCheckouts: number;
  accountingIgnored: number;
}

export class WifiCheckin {
  readonly #o: WifiCheckinOptions;
  readonly #now: () => number;
  readonly #mono: () => number;
  readonly #perUser: TokenBuckets;
  readonly #pending = new Map<string, PendingSignIn>();
  /** Person id -> monotonic time of their devices' last accounting activity. */
  readonly #activity = new Map<string, number>();
  readonly #counters: WifiCounters = { accepted: 0, rejected: 0, checkIns: 0, inactivityCheckouts: 0, accountingIgnored: 0 };

  constructor(options: WifiCheckinOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#mono = options.monotonic ?? (() => performance.now());
    this.#perUser = new TokenBuckets(options.perUser, this.#mono);
    // Devices still open from before a restart get a full inactivity period from now.
    const now = this.#mono();
    for (const device of options.devices.openDevices()) this.#activity.set(device.personId, now);
  }

  counters(): WifiCounters {
    return { ...this.#counters };
  }

  handle(request: RadiusRequest): RadiusReply | null {
    return request.service === 'auth' ? this.#access(request) : this.#accounting(request);
  }

  #access({ client, packet }: RadiusRequest): RadiusReply {
    const o = this.#o;
    const email = textAttribute(packet, Attr.UserName)?.trim();
    const hidden = attribute(packet, Attr.UserPassword);
    if (email === undefined || email === '' || hidden === undefined) return this.#reject(PRE_DECISION_MESSAGES.missingCredentials);
    const emailLookup = o.hasher.emailLookup(email);
    const user = fingerprint(emailLookup);
    const log = { client: client.name, user };
    if (!this.#perUser.take(user)) {
      o.logger.warn(log, 'Wi-Fi sign-in rate limited');
      return this.#reject(PRE_DECISION_MESSAGES.tooManyAttempts);
    }
    const userSource = `wifi-user:${user}`;
    if (o.userGuard.check(userSource).locked) {
      o.logger.warn(log, 'Wi-Fi sign-in refused: too many wrong codes for this user');
      return this.#reject(REPLY_MESSAGES.locked_out);
    }
    const mac = normalizeMac(textAttribute(packet, Attr.CallingStationId));
    if (mac === null) {
      o.logger.warn(log, 'Wi-Fi sign-in without a usable Calling-Station-Id');
      return this.#reject(PRE_DECISION_MESSAGES.missingDevice);
    }
    // Decoding checked the size; the code lives only in this SecretValue.
    const code = new SecretValue(unhidePassword(hidden, client.secret, packet.authenticator).toString('utf8'));

    // The device is the code source, as a keypad is: one guest's typos never lock out the whole controller.
    const source: AccessSource = { id: `wifi:${client.name}/${mac}`, channel: 'wifi', mode: 'entry', doorId: null, area: null, driver: WIFI_SESSION_SOURCE };
    const people = new Set(o.cache.peopleByEmail(emailLookup));
    const evaluated = o.pipeline.evaluate(source, { kind: 'keypad', code }, { restrictTo: (id) => people.has(id) });
    const person = evaluated.decision.person;
    const settings = o.cache.settings();
    const decision =
      person === null
        ? evaluated.decision
        : applyDeviceLimit(evaluated.decision, {
            mac,
            limit: o.devices.deviceLimitOf(person.id) ?? settings?.deviceLimit ?? null,
            connectedMacs: this.#connectedMacs(person.id),
          });
    const evaluation: Evaluation = { ...evaluated, decision };

    if (decision.outcome === 'denied' || person === null) {
      o.pipeline.commit(source, evaluation);
      if (isWrongCode(decision.reason)) o.userGuard.recordFailure(userSource);
      this.#counters.rejected++;
      return this.#reject(REPLY_MESSAGES[decision.reason]);
    }

    const pending: PendingSignIn = { personId: person.id, mac, source, evaluation, acceptedAt: this.#mono(), committed: false };
    this.#pending.set(pendingKey(person.id, mac), pending);
    if (o.checkInOn === 'access-accept') this.#commit(pending);
    this.#counters.accepted++;
    o.logger.info({ ...log, person: person.id, mac }, 'Wi-Fi sign-in accepted');
    const at = evaluation.at;
    const idleMinutes = settings?.wifiIdleMinutes ?? 15;
    return {
      code: RadiusCode.AccessAccept,
      attributes: [
        integerValue(Attr.SessionTimeout, sessionTimeoutS(at, decision.validUntil, nextCutoff(at, settings?.dailyCutoff ?? null, o.timezone), o.maxSessionTimeoutS)),
        integerValue(Attr.IdleTimeout, idleMinutes * 60),
        integerValue(Attr.AcctInterimInterval, interimIntervalS(idleMinutes)),
      ],
    };
  }

  #reject(message: string): RadiusReply {
    return { code: RadiusCode.AccessReject, attributes: [textValue(Attr.ReplyMessage, message)] };
  }

  /** MACs that count towards the device limit: connected ones and those accepted but not yet connected. */
  #connectedMacs(personId: string): string[] {
    this.#expirePending();
    const macs = new Set(this.#o.devices.openMacsOf(personId));
    for (const p of this.#pending.values()) if (p.personId === personId) macs.add(p.mac);
    return [...macs];
  }

  /** Carry out an accepted sign-in once: the check-in (unless the person is already in) and a token's first use. */
  #commit(pending: PendingSignIn): void {
    if (pending.committed) return;
    pending.committed = true;
    const o = this.#o;
    const at = this.#now();
    const alreadyIn = o.sessions.openSessionOf(pending.personId) !== null;
    const decision = alreadyIn ? withoutCheckIn(pending.evaluation.decision) : pending.evaluation.decision;
    // A second device of someone already in changes nothing worth an event.
    if (decision.effects.length === 0) return;
    const result = o.pipeline.commit(pending.source, { ...pending.evaluation, at, decision });
    if (result.decision.checkin === 'checked_in') this.#counters.checkIns++;
    this.#activity.set(pending.personId, this.#mono());
  }

  #accounting({ client, packet }: RadiusRequest): RadiusReply {
    const o = this.#o;
    const ack: RadiusReply = { code: RadiusCode.AccountingResponse, attributes: [] };
    const status = integerAttribute(packet, Attr.AcctStatusType);
    const at = this.#now();
    if (status === AcctStatus.AccountingOn || status === AcctStatus.AccountingOff) {
      // The controller (re)started: none of its device sessions survive.
      const stopped = o.devices.stopAllAt(client.name, at, status === AcctStatus.AccountingOn ? 'nas-reboot' : 'nas-off');
      o.logger.info({ client: client.name, stopped }, 'Wi-Fi controller restarted: its device sessions are closed');
      return ack;
    }
    const sessionId = textAttribute(packet, Attr.AcctSessionId);
    const mac = normalizeMac(textAttribute(packet, Attr.CallingStationId));
    if (sessionId === undefined || sessionId === '' || status === undefined) {
      this.#counters.accountingIgnored++;
      o.logger.debug({ client: client.name }, 'accounting request without Acct-Session-Id or Acct-Status-Type ignored');
      return ack;
    }
    const device = o.devices.find(client.name, sessionId);
    if (status === AcctStatus.Stop) {
      if (device !== null) {
        o.devices.stop(device.id, at, 'stop');
        this.#activity.set(device.personId, this.#mono());
      }
      return ack;
    }
    if (status !== AcctStatus.Start && status !== AcctStatus.InterimUpdate) {
      this.#counters.accountingIgnored++;
      return ack;
    }
    if (device !== null) {
      o.devices.touch(device.id, at);
      this.#activity.set(device.personId, this.#mono());
      return ack;
    }
    // A device we have not seen connect: it must follow a recent Access-Accept of the same person and MAC.
    const pending = mac === null ? undefined : this.#pendingFor(textAttribute(packet, Attr.UserName), mac);
    if (pending === undefined || mac === null) {
      this.#counters.accountingIgnored++;
      o.logger.info({ client: client.name, mac }, 'accounting for a device without a recent sign-in: not checked in');
      return ack;
    }
    this.#commit(pending);
    this.#pending.delete(pendingKey(pending.personId, mac));
    o.devices.start({ id: uuidv7(), personId: pending.personId, mac, nas: client.name, acctSessionId: sessionId, startedAt: at, lastActivityAt: at });
    this.#activity.set(pending.personId, this.#mono());
    return ack;
  }

  #pendingFor(userName: string | undefined, mac: string): PendingSignIn | undefined {
    if (userName === undefined) return undefined;
    this.#expirePending();
    for (const personId of this.#o.cache.peopleByEmail(this.#o.hasher.emailLookup(userName))) {
      const pending = this.#pending.get(pendingKey(personId, mac));
      if (pending !== undefined) return pending;
    }
    return undefined;
  }

  #expirePending(): void {
    const now = this.#mono();
    for (const [key, p] of this.#pending) if (now - p.acceptedAt > PENDING_MS) this.#pending.delete(key);
  }

  /**
   * Check out everyone checked in by the Wi-Fi whose devices have all been
   * silent for the inactivity limit. Returns how many were checked out.
   */
  checkInactivity(): number {
    const o = this.#o;
    const idleMs = (o.cache.settings()?.wifiIdleMinutes ?? 15) * 60_000;
    const mono = this.#mono();
    this.#expirePending();
    let checkedOut = 0;
    for (const [personId, last] of this.#activity) {
      if (mono - last < idleMs) continue;
      this.#activity.delete(personId);
      const at = this.#now();
      o.devices.stopAllOf(personId, at, 'inactivity');
      const session = o.sessions.openSessionOf(personId);
      // Someone checked in at a door is not checked out because their phone left the Wi-Fi.
      if (session === null || session.source !== WIFI_SESSION_SOURCE) continue;
      if (o.autoCheckout.checkOut(session, 'inactivity', at) !== null) {
        checkedOut++;
        this.#counters.inactivityCheckouts++;
        o.logger.info({ person: personId, idleMinutes: idleMs / 60_000 }, 'Wi-Fi inactivity: checked out');
      }
    }
    return checkedOut;
  }
}

const pendingKey = (personId: string, mac: string): string => `${personId}|${mac}`;
