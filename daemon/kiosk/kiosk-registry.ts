/**
 * Paired kiosks. A tablet proves it was paired with a random bearer token;
 * only the token's SHA-256 is stored, so a copy of the database pairs nothing.
 * A high-entropy token needs no salt or slow hash: it cannot be guessed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../store/database.js';

export interface KioskRecord {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly lastSeenAt: number | null;
  readonly revokedAt: number | null;
}

export type Authentication =
  | { readonly ok: true; readonly kiosk: KioskRecord }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'revoked' };

interface KioskRow {
  id: string;
  name: string;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
}

const toRecord = (r: KioskRow): KioskRecord => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  revokedAt: r.revoked_at,
});

const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Tokens are 32 random bytes in base64url: 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Last-seen is written at most this often per kiosk: not a database write per request. */
const TOUCH_INTERVAL_MS = 60_000;

export class KioskRegistry {
  readonly #stmts;

  constructor(db: Db) {
    this.#stmts = {
      insert: db.prepare(`INSERT INTO kiosks (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`),
      byHash: db.prepare<[Buffer], KioskRow>(`SELECT id, name, created_at, last_seen_at, revoked_at FROM kiosks WHERE token_hash = ?`),
      list: db.prepare<[], KioskRow>(`SELECT id, name, created_at, last_seen_at, revoked_at FROM kiosks ORDER BY created_at, id`),
      revoke: db.prepare(`UPDATE kiosks SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
      exists: db.prepare<[string], { id: string }>(`SELECT id FROM kiosks WHERE id = ?`),
      touch: db.prepare(`UPDATE kiosks SET last_seen_at = ? WHERE id = ?`),
    };
  }

  /** Register a kiosk and return its token: the only time the token exists outside the tablet. */
  create(name: string, at: number): { kiosk: KioskRecord; token: string } {
    const token = randomBytes(32).toString('base64url');
    const id = `k-${randomBytes(4).toString('hex')}`;
    this.#stmts.insert.run(id, name, hashToken(token), at);
    return { kiosk: { id, name, createdAt: at, lastSeenAt: null, revokedAt: null }, token };
  }

  authenticate(token: string | null, at: number): Authentication {
    if (token === null || token === '') return { ok: false, reason: 'missing' };
    if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'invalid' };
    const row = this.#stmts.byHash.get(hashToken(token));
    if (row === undefined) return { ok: false, reason: 'invalid' };
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    if (row.last_seen_at === null || at - row.last_seen_at >= TOUCH_INTERVAL_MS) {
      this.#stmts.touch.run(at, row.id);
      row.last_seen_at = at;
    }
    return { ok: true, kiosk: toRecord(row) };
  }

  list(): KioskRecord[] {
    return this.#stmts.list.all().map(toRecord);
  }

  /** Revoke a kiosk; false when there is no such kiosk. Revoking twice keeps the first time. */
  revoke(id: string, at: number): boolean {
    if (this.#stmts.exists.get(id) === undefined) return false;
    this.#stmts.revoke.run(at, id);
    return true;
  }
}
