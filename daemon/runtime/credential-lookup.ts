/**
 * `gatehouse lookup`: whose is this card or PIN, and which passes apply?
 * The value is hashed exactly as a reader's would be and never leaves this
 * function: the answer carries a fingerprint, not the value.
 */
import type { Db } from '../store/database.js';
import type { CredentialCache } from '../store/cache.js';
import { CredentialFormatError, fingerprint, type CredentialHasher } from '../store/credential-hash.js';
import type { SecretValue } from './secret.js';

export interface LookupMatch {
  readonly person: { id: string; name: string; kind: string; status: string; alwaysAllowed: boolean };
  readonly credential: { id: string; kind: string; status: string; validFrom: string | null; validTo: string | null };
  readonly passes: { id: string; kind: string; validFrom: string | null; validTo: string | null; minutesLeft: number | null; validNow: boolean }[];
  readonly checkedInSince: string | null;
}

export interface LookupResult {
  readonly kind: 'card' | 'keypad';
  readonly fingerprint: string;
  /** 'unknown': no match; 'ambiguous': a PIN shared by several people (a reader would refuse it). */
  readonly verdict: 'known' | 'unknown' | 'ambiguous';
  readonly matches: LookupMatch[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function lookupCredential(
  deps: { db: Db; cache: CredentialCache; hasher: CredentialHasher },
  kind: 'card' | 'keypad',
  value: SecretValue,
  now: number,
): LookupResult {
  let lookup: Buffer;
  try {
    lookup = deps.hasher.lookupOf(kind, value.reveal());
  } catch (error) {
    if (error instanceof CredentialFormatError) throw new Error(`not a valid ${kind === 'card' ? 'card number' : 'PIN or code'}: ${error.message}`);
    throw error;
  }
  const nameOf = deps.db.prepare<[string], { name: string }>('SELECT name FROM people WHERE id = ?');
  const matches = deps.cache.candidates(lookup).map(
    (c): LookupMatch => ({
      person: {
        id: c.person.id,
        name: nameOf.get(c.person.id)?.name ?? '(unknown)',
        kind: c.person.kind,
        status: c.person.status,
        alwaysAllowed: c.person.alwaysAllowed,
      },
      credential: { id: c.credential.id, kind: c.credential.kind, status: c.credential.status, validFrom: iso(c.credential.validFrom), validTo: iso(c.credential.validTo) },
      passes: c.entitlements.map((e) => ({
        id: e.id,
        kind: e.kind,
        validFrom: iso(e.validFrom),
        validTo: iso(e.validTo),
        minutesLeft: e.minutesLeft,
        validNow: (e.validFrom === null || e.validFrom <= now) && (e.validTo === null || now < e.validTo) && (e.minutesLeft === null || e.minutesLeft > 0),
      })),
      checkedInSince: c.openSession === null ? null : iso(c.openSession.openedAt),
    }),
  );
  return {
    kind,
    fingerprint: fingerprint(lookup),
    verdict: matches.length === 0 ? 'unknown' : matches.length > 1 ? 'ambiguous' : 'known',
    matches,
  };
}
