/**
 * Who a visitor can name as their host: active members and contacts of the
 * data in force, by name only. A search needs two characters and returns a
 * handful, so the kiosk never holds the member list.
 */
import type { Db } from '../store/database.js';

export interface Host {
  readonly id: string;
  readonly name: string;
}

export const MIN_HOST_QUERY = 2;
export const MAX_HOSTS = 10;

export class HostDirectory {
  readonly #stmts;

  constructor(db: Db) {
    this.#stmts = {
      search: db.prepare<[string, number], Host>(`
        SELECT id, name FROM people
        WHERE kind IN ('member', 'contact') AND status = 'active' AND name <> '' AND instr(lower(name), ?) > 0
        ORDER BY lower(name), id LIMIT ?`),
      byId: db.prepare<[string], Host>(`SELECT id, name FROM people WHERE id = ? AND kind IN ('member', 'contact') AND status = 'active'`),
      nameOf: db.prepare<[string], { name: string }>(`SELECT name FROM people WHERE id = ?`),
    };
  }

  /** Hosts whose name contains `query` (case-insensitive); empty below MIN_HOST_QUERY characters. */
  search(query: string): Host[] {
    const q = query.trim().toLowerCase();
    if (q.length < MIN_HOST_QUERY) return [];
    return this.#stmts.search.all(q, MAX_HOSTS);
  }

  host(id: string): Host | null {
    return this.#stmts.byId.get(id) ?? null;
  }

  /** Display name of anyone in the data in force (for the welcome screen). */
  nameOf(personId: string): string | null {
    return this.#stmts.nameOf.get(personId)?.name ?? null;
  }
}
