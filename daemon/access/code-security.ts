/**
 * What the access pipeline adds for typed codes (PINs, visitor codes), kept
 * apart from the card path: keystroke assembly settings, the guessing guard,
 * the duress scheme and the alarm journal.
 */
import type { GatehouseConfig } from '../config/schema.js';
import { realPinOf, type DuressScheme } from '../engine/duress.js';
import type { GuessingPolicy } from '../engine/lockout.js';
import type { CandidateContext, CandidateRead, CredentialCache } from '../store/cache.js';
import type { CredentialHasher } from '../store/credential-hash.js';
import { GuessGuard } from './guess-guard.js';
import type { KeypadEntryOptions } from './keypad-entry.js';
import { SecurityAlarms, type SecurityAlarmsOptions } from './security-alarms.js';

export interface CodeSecurity {
  readonly entry: KeypadEntryOptions;
  readonly guard: GuessGuard;
  readonly duress: DuressScheme;
  readonly alarms: SecurityAlarms;
}

/** The guard's source id of a keypad reader. RADIUS and the kiosk use `radius:<client>` and `kiosk:<id>`. */
export const keypadSource = (readerId: string): string => `keypad:${readerId}`;

/** The guard's source id for codes typed at any access source: keypads by reader, other channels by their source id. */
export const guessSourceOf = (source: { readonly channel: string; readonly id: string }): string =>
  source.channel === 'door' ? keypadSource(source.id) : source.id.startsWith(`${source.channel}:`) ? source.id : `${source.channel}:${source.id}`;

/**
 * The cached credentials whose duress code `typed` is, if any. Only asked
 * after `typed` itself matched nothing, so a real PIN always wins over a
 * duress variant that happens to equal it.
 */
export function duressCandidates(
  scheme: DuressScheme,
  typed: string,
  hasher: CredentialHasher,
  cache: CredentialCache,
  context: CandidateContext,
): CandidateRead | null {
  const pin = realPinOf(scheme, typed);
  return pin === null ? null : cache.read(hasher.lookupOf('keypad', pin), context);
}

/** The guessing policy of config `guessing` (seconds) in the guard's milliseconds. */
export function guessingPolicyOf(config: GatehouseConfig['guessing']): GuessingPolicy {
  return {
    attempts: config.attempts,
    windowMs: config.windowS * 1000,
    lockoutMs: config.lockoutS * 1000,
    growthFactor: config.growthFactor,
    maxLockoutMs: config.maxLockoutS * 1000,
    resetAfterMs: config.resetAfterS * 1000,
  };
}

/** Build the code security of a site from its config; lockouts are journaled from the start. */
export function createCodeSecurity(config: Pick<GatehouseConfig, 'keypad' | 'guessing'>, alarms: SecurityAlarmsOptions): CodeSecurity {
  const guard = new GuessGuard(guessingPolicyOf(config.guessing));
  const journal = new SecurityAlarms(alarms);
  journal.watch(guard);
  return {
    entry: { interDigitTimeoutMs: config.keypad.interDigitTimeoutMs, maxDigits: config.keypad.maxDigits },
    guard,
    duress: config.keypad.duress.scheme,
    alarms: journal,
  };
}
