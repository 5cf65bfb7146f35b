/**
 * The decision engine's vocabulary. Everything here is plain data: the engine
 * receives facts the shell has looked up and returns a decision plus the
 * effects the shell must carry out.
 */
import type { DecisionReason } from '../uplink/payloads.js';
import type { ReaderMode, WeeklySchedule } from '../config/schema.js';

export type { DecisionReason, ReaderMode, WeeklySchedule };

export type PersonKind = 'member' | 'contact' | 'visitor';
export type PersonStatus = 'active' | 'suspended' | 'archived';
export type CredentialKind = 'card' | 'pin' | 'visitor_code' | 'ble_beacon' | 'ble_key';
export type EntitlementKind = 'plan' | 'day_pass' | 'time_pass' | 'visitor_token';
export type DoorMode = 'normal' | 'locked-down' | 'unlocked';
/** A day of the week; schedules also have "hol" windows, used on site holidays. */
export type Weekday = Exclude<keyof WeeklySchedule, 'hol'>;
/** Where a credential was presented: a door's reader, the Wi-Fi (RADIUS), the kiosk, a BLE reader. */
export type Channel = 'door' | 'wifi' | 'kiosk' | 'ble';
export type AntiPassbackMode = 'off' | 'soft' | 'hard' | 'timed';
/** What time-based grants do while the system clock has not been synchronised since boot. */
export type UnsyncedClockPolicy = 'trust' | 'always-allowed-only' | 'deny';
/** What decisions do once the cache is stale (config cloud.stalePolicy). */
export type StalePolicy = 'keep-deciding' | 'always-allowed-only' | 'deny-all';

export interface PersonFacts {
  readonly id: string;
  readonly kind: PersonKind;
  readonly status: PersonStatus;
  /** Member of the always-allowed group (site staff). */
  readonly alwaysAllowed: boolean;
  /** Accessibility: doors stay unlocked for their extended pulse. */
  readonly extendedUnlock: boolean;
  /** Member of the lockdown override group. */
  readonly lockdownOverride: boolean;
  /** May joining the Wi-Fi check this person in. */
  readonly networkCheckin: boolean;
  /** A visitor's expected arrival, epoch ms. */
  readonly expectedArrival: number | null;
}

export interface CredentialFacts {
  readonly id: string;
  readonly kind: CredentialKind;
  readonly status: 'active' | 'revoked';
  /** Epoch ms, inclusive; null = no lower bound. */
  readonly validFrom: number | null;
  /** Epoch ms, exclusive; null = no upper bound. */
  readonly validTo: number | null;
}

export interface EntitlementFacts {
  readonly id: string;
  readonly kind: EntitlementKind;
  readonly validFrom: number | null;
  readonly validTo: number | null;
  /** Remaining minutes of a time pass after local consumption; null = not metered. */
  readonly minutesLeft: number | null;
  /** Plan limits per calendar month; null = unlimited. */
  readonly monthlyHours: number | null;
  readonly monthlyCheckins: number | null;
  /** Door ids it opens; null = every door. */
  readonly doors: readonly string[] | null;
  /** First use recorded on this gateway (visitor token start, day pass day), epoch ms; always null for plans and time passes. */
  readonly startedAt: number | null;
}

/** A person's plan usage in the current calendar month: the cloud's counters plus local check-ins since. */
export interface UsageFacts {
  readonly checkins: number;
  readonly minutes: number;
}

/** Where a person was last seen going, for the reader's area (anti-passback). */
export interface AreaPresenceFacts {
  readonly inside: boolean;
  readonly changedAt: number;
}

export interface OpenSessionFacts {
  readonly id: string;
  readonly openedAt: number;
}

/** One cached credential that matched what was presented, with its owner. */
export interface Candidate {
  readonly person: PersonFacts;
  readonly credential: CredentialFacts;
  readonly entitlements: readonly EntitlementFacts[];
  readonly openSession: OpenSessionFacts | null;
  readonly usage: UsageFacts;
  /** Null when the reader has no area or the person was never seen there. */
  readonly areaPresence: AreaPresenceFacts | null;
}

export interface AreaPolicy {
  readonly id: string;
  readonly antiPassback: AntiPassbackMode;
  /** timed: how long after entering a re-entry counts as passback. */
  readonly timedMs: number;
}

export interface ReaderPolicy {
  readonly id: string;
  readonly mode: ReaderMode;
  readonly channel: Channel;
  /** The area an entry reader leads into (and an exit reader out of). */
  readonly area: AreaPolicy | null;
}

export interface DoorPolicy {
  readonly id: string;
  readonly pulseMs: number;
  /** Pulse for people with extendedUnlock; null = same as pulseMs. */
  readonly extendedPulseMs: number | null;
  readonly mode: DoorMode;
  /** Null: the door accepts credentials at any time. */
  readonly schedule: WeeklySchedule | null;
}

/** How current the cached facts are. */
export interface CacheFacts {
  /** No successful sync for longer than cloud.staleAfterHours. */
  readonly stale: boolean;
  readonly policy: StalePolicy;
}

/** Whether the wall clock can be believed (synchronised since boot), and what to do if not. */
export interface ClockFacts {
  readonly trusted: boolean;
  readonly policy: UnsyncedClockPolicy;
}

/** The site's visitor-token rules (synced settings). */
export interface VisitorTokenPolicy {
  readonly minutes: number;
  readonly start: 'first-checkin' | 'expected-arrival';
}

/** Wall-clock time at the site, already converted to the site's time zone. */
export interface SiteLocalTime {
  readonly weekday: Weekday;
  /** Minutes since local midnight, 0..1439 (1380..1499 on the day clocks go back is not possible: it restarts). */
  readonly minuteOfDay: number;
  /** Local date, YYYY-MM-DD. */
  readonly date: string;
  /**
   * Epoch ms of the first instant of this local date, and of the next one:
   * local midnight, or where clocks skip midnight the instant they jump
   * (01:00 after 00:00 -> 01:00), or where midnight comes twice the first.
   */
  readonly dayStart: number;
  readonly dayEnd: number;
  /** Epoch ms of the first instant of the first of this month, as dayStart. */
  readonly monthStart: number;
}

export interface DecisionInput {
  /** Epoch ms of the read. */
  readonly at: number;
  readonly local: SiteLocalTime;
  /** The local date is a site holiday: schedules use their "hol" windows. */
  readonly holiday: boolean;
  readonly reader: ReaderPolicy;
  readonly door: DoorPolicy | null;
  /** Every cached credential whose keyed hash matched. Usually zero or one. */
  readonly candidates: readonly Candidate[];
  readonly cache: CacheFacts;
  readonly clock: ClockFacts;
  readonly visitorTokens: VisitorTokenPolicy;
}

export type Effect =
  | { readonly type: 'unlock'; readonly doorId: string; readonly ms: number }
  | { readonly type: 'check-in'; readonly personId: string; readonly entitlementId: string | null }
  | { readonly type: 'check-out'; readonly personId: string; readonly sessionId: string }
  /** Record the first use of a visitor token (first-check-in policy) or a day pass. */
  | { readonly type: 'start-entitlement'; readonly personId: string; readonly entitlementId: string }
  /** Anti-passback: the person is now inside (or outside) the area. */
  | { readonly type: 'area'; readonly personId: string; readonly area: string; readonly inside: boolean };

/** Something worth flagging on a decision without changing its outcome. */
export type DecisionFlag = 'anti_passback_soft' | 'anti_passback_degraded' | 'clock_untrusted' | 'extended_unlock';

export type CheckinOutcome = 'checked_in' | 'checked_out' | 'failed' | 'none';

export interface Decision {
  readonly outcome: 'granted' | 'denied';
  readonly reason: DecisionReason;
  /** Null when the credential is unknown or ambiguous. */
  readonly person: PersonFacts | null;
  readonly checkin: CheckinOutcome;
  readonly effects: readonly Effect[];
  readonly flags: readonly DecisionFlag[];
  /** Until when the grant's pass or token is valid (Wi-Fi Session-Timeout); null = open-ended or denied. */
  readonly validUntil: number | null;
}
