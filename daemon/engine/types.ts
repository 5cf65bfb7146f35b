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
export type CredentialKind = 'card' | 'pin' | 'visitor_code';
export type EntitlementKind = 'plan' | 'day_pass' | 'time_pass' | 'visitor_token';
export type DoorMode = 'normal' | 'locked-down' | 'unlocked';
export type Weekday = keyof WeeklySchedule;
/** What decisions do once the cache is stale (config cloud.stalePolicy). */
export type StalePolicy = 'keep-deciding' | 'always-allowed-only' | 'deny-all';

export interface PersonFacts {
  readonly id: string;
  readonly kind: PersonKind;
  readonly status: PersonStatus;
  /** Member of the always-allowed group (site staff). */
  readonly alwaysAllowed: boolean;
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
  /** Remaining minutes of a time pass; null = not metered. */
  readonly minutesLeft: number | null;
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
}

export interface ReaderPolicy {
  readonly id: string;
  readonly mode: ReaderMode;
}

export interface DoorPolicy {
  readonly id: string;
  readonly pulseMs: number;
  /** Unlock time for people who need more time (accessibility); absent: the door has none, use pulseMs. */
  readonly extendedPulseMs?: number | undefined;
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

/** Wall-clock time at the site, already converted to the site's time zone. */
export interface SiteLocalTime {
  readonly weekday: Weekday;
  /** Minutes since local midnight, 0..1439. */
  readonly minuteOfDay: number;
}

export interface DecisionInput {
  /** Epoch ms of the read. */
  readonly at: number;
  readonly local: SiteLocalTime;
  readonly reader: ReaderPolicy;
  readonly door: DoorPolicy | null;
  /** Every cached credential whose keyed hash matched. Usually zero or one. */
  readonly candidates: readonly Candidate[];
  readonly cache: CacheFacts;
}

export type Effect =
  | { readonly type: 'unlock'; readonly doorId: string; readonly ms: number }
  | { readonly type: 'check-in'; readonly personId: string }
  | { readonly type: 'check-out'; readonly personId: string; readonly sessionId: string };

export type CheckinOutcome = 'checked_in' | 'checked_out' | 'failed' | 'none';

export interface Decision {
  readonly outcome: 'granted' | 'denied';
  readonly reason: DecisionReason;
  /** Null when the credential is unknown or ambiguous. */
  readonly person: PersonFacts | null;
  readonly checkin: CheckinOutcome;
  readonly effects: readonly Effect[];
}
