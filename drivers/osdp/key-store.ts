/**
 * Per-PD Secure Channel Base Keys, kept in a JSON file next to the database
 * (mode 0600). Writes are atomic (temp file, fsync, rename, fsync of the
 * directory) so a power cut leaves the old or the new file, never half of one:
 * losing a key means re-installing the reader.
 *
 * A key handed to a PD by KEYSET is first stored as `pending`, and promoted
 * only after the PD acknowledged it; if the acknowledgement or the promotion
 * is lost, the next handshake tries the pending key too. Keys never reach a
 * log: only fingerprints do.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PdKeys {
  readonly current: Buffer | null;
  readonly pending: Buffer | null;
}

interface StoredEntry {
  scbk?: string;
  pending?: string;
  updatedAt: string;
}

interface StoredFile {
  format: 'gatehouse.osdp-keys/1';
  pds: Record<string, StoredEntry>;
}

/** First 8 hex digits of SHA-256: enough to tell keys apart in a log, useless to an attacker. */
export const keyFingerprint = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

const isKeyHex = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);

export class OsdpKeyStore {
  readonly #path: string;
  #file: StoredFile;

  constructor(path: string) {
    this.#path = path;
    this.#file = OsdpKeyStore.#load(path);
  }

  get path(): string {
    return this.#path;
  }

  keys(pd: string): PdKeys {
    const entry = this.#file.pds[pd];
    return {
      current: isKeyHex(entry?.scbk) ? Buffer.from(entry.scbk, 'hex') : null,
      pending: isKeyHex(entry?.pending) ? Buffer.from(entry.pending, 'hex') : null,
    };
  }

  /** Before KEYSET: remember the key about to be given to the PD. */
  setPending(pd: string, key: Buffer): void {
    const entry = this.#file.pds[pd];
    this.#write(pd, { ...(entry?.scbk === undefined ? {} : { scbk: entry.scbk }), pending: key.toString('hex'), updatedAt: new Date().toISOString() });
  }

  /** After the PD proved it holds `key` (KEYSET acknowledged, or a handshake with the pending key). */
  promote(pd: string, key: Buffer): void {
    this.#write(pd, { scbk: key.toString('hex'), updatedAt: new Date().toISOString() });
  }

  #write(pd: string, entry: StoredEntry): void {
    const next: StoredFile = { ...this.#file, pds: { ...this.#file.pds, [pd]: entry } };
    const temp = `${this.#path}.tmp-${process.pid}`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(next, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.#path);
    const dir = openSync(dirname(this.#path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.#file = next;
  }

  static #load(path: string): StoredFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { format: 'gatehouse.osdp-keys/1', pds: {} };
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || (parsed as { format?: unknown }).format !== 'gatehouse.osdp-keys/1') {
      throw new Error(`${path} is not a gatehouse OSDP key file`);
    }
    const pds = (parsed as { pds?: unknown }).pds;
    return { format: 'gatehouse.osdp-keys/1', pds: typeof pds === 'object' && pds !== null ? (pds as Record<string, StoredEntry>) : {} };
  }
}
