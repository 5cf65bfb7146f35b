/**
 * One-time pairing codes from `gatehouse kiosk pair`. Kept in memory only
 * (a restart voids them, which is the safe direction) and as hashes, so not
 * even a heap dump of the daemon shows an unused code.
 */
import { createHash, randomInt } from 'node:crypto';

export interface IssuedCode {
  readonly code: string;
  readonly expiresAt: number;
}

interface Pending {
  readonly name: string;
  readonly expiresAt: number;
}

/** Eight digits: typed on the kiosk's own keypad; 10^8 against a per-address rate limit and a few minutes' validity. */
export const PAIRING_CODE_DIGITS = 8;
/** Codes outstanding at once; issuing more drops the oldest. */
const MAX_PENDING = 10;

const hashCode = (code: string): string => createHash('sha256').update(code).digest('hex');

export class PairingCodes {
  readonly #validMs: number;
  readonly #pending = new Map<string, Pending>();

  constructor(validMs: number) {
    this.#validMs = validMs;
  }

  issue(name: string, at: number): IssuedCode {
    this.#expire(at);
    let code: string;
    do {
      code = String(randomInt(0, 10 ** PAIRING_CODE_DIGITS)).padStart(PAIRING_CODE_DIGITS, '0');
    } while (this.#pending.has(hashCode(code)));
    const expiresAt = at + this.#validMs;
    this.#pending.set(hashCode(code), { name, expiresAt });
    while (this.#pending.size > MAX_PENDING) {
      const oldest = this.#pending.keys().next().value;
      if (oldest === undefined) break;
      this.#pending.delete(oldest);
    }
    return { code, expiresAt };
  }

  /** Use a code up: the kiosk name it was issued for, or null when unknown, used or expired. */
  redeem(code: string, at: number): string | null {
    this.#expire(at);
    const key = hashCode(code.replace(/[\s-]/g, ''));
    const pending = this.#pending.get(key);
    if (pending === undefined) return null;
    this.#pending.delete(key);
    return pending.name;
  }

  #expire(at: number): void {
    for (const [key, p] of this.#pending) if (p.expiresAt <= at) this.#pending.delete(key);
  }
}
