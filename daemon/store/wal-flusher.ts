/**
 * Durability of committed transactions without an fsync on the event loop.
 *
 * The daemon's connection commits with synchronous=NORMAL (database.ts): in
 * WAL mode a commit is then a write() of its frames into the WAL, which is in
 * the kernel's page cache the moment COMMIT returns. That survives the
 * process being killed; only a power cut or a kernel crash can take it back
 * (SQLite then recovers the WAL up to the last frame that reached the disk,
 * so the file stays consistent and only the newest transactions are gone).
 *
 * flush() makes everything committed so far survive a power cut too: an
 * fdatasync of the WAL file on libuv's thread pool, so the event loop, which
 * carries card reads, never waits for the disk. Requests that arrive while a
 * sync runs share the next one (group commit): at any moment at most one
 * sync runs and at most one waits. The journal publishes an event only once
 * a flush that began after its commit has finished (journal.ts).
 *
 * fsync works on the file, not on the descriptor: the kernel writes every
 * dirty page of the WAL, whichever connection (the staging worker's too)
 * wrote it. The WAL keeps its inode for as long as a connection is open
 * (a checkpoint restarts or truncates it in place); if it was replaced
 * anyway, the flush opens the new one.
 *
 * The cache's generation file has a WAL of its own, and which file is in
 * force changes with every snapshot: a flusher for it is given a function
 * that names the file in force at each flush (sync-service.ts).
 */
import { constants, type FileHandle, open, stat } from 'node:fs/promises';
import { fdatasyncSync, openSync, closeSync, existsSync } from 'node:fs';

export interface Durability {
  /** Resolves once everything committed before the call is on disk; rejects when the disk refused. */
  flush(): Promise<void>;
  /** The same, blocking: for start-up, before the event loop carries reads. */
  flushSync(): void;
}

export class WalFlusher implements Durability {
  /** The WAL to sync now; null when there is no file (an in-memory store). */
  readonly #walPath: () => string | null;
  #handle: FileHandle | null = null;
  #ino = -1;
  /** The sync running now, if any. */
  #running: Promise<void> | null = null;
  /** The sync that starts when the running one ends: every request made meanwhile shares it. */
  #next: Promise<void> | null = null;
  #closed = false;
  /** fdatasync calls made, for status and tests. */
  syncs = 0;

  /** `dbPath`: the database file (not ':memory:'), or a function naming the one in force; its WAL is `<dbPath>-wal`. */
  constructor(dbPath: string | (() => string | null)) {
    const pathOf = typeof dbPath === 'string' ? () => dbPath : dbPath;
    this.#walPath = () => {
      const path = pathOf();
      return path === null ? null : `${path}-wal`;
    };
  }

  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the WAL flusher is closed'));
    // A sync already running may have begun before the caller's commit: the caller needs the next one.
    if (this.#running === null) return this.#start();
    this.#next ??= this.#running.then(
      () => this.#followUp(),
      () => this.#followUp(),
    );
    return this.#next;
  }

  flushSync(): void {
    // Without a WAL there is nothing committed that is not in the database file already.
    const walPath = this.#walPath();
    if (walPath === null || !existsSync(walPath)) return;
    const fd = openSync(walPath, constants.O_RDONLY);
    try {
      fdatasyncSync(fd);
      this.syncs++;
    } finally {
      closeSync(fd);
    }
  }

  /** Waits for the syncs in hand, then lets go of the file. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([this.#running, this.#next]);
    await this.#handle?.close().catch(() => undefined);
    this.#handle = null;
  }

  #followUp(): Promise<void> {
    this.#next = null;
    return this.#start();
  }

  #start(): Promise<void> {
    const run = this.#sync().finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run;
  }

  async #sync(): Promise<void> {
    const handle = await this.#file();
    if (handle === null) return;
    await handle.datasync();
    this.syncs++;
  }

  /** The open WAL, reopened when the path no longer names the file held; null when there is no WAL (as flushSync). */
  async #file(): Promise<FileHandle | null> {
    const walPath = this.#walPath();
    if (walPath === null) return null;
    const current = await stat(walPath).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    });
    if (current === null) return null;
    if (this.#handle !== null && current.ino === this.#ino) return this.#handle;
    await this.#handle?.close().catch(() => undefined);
    this.#handle = await open(walPath, constants.O_RDONLY);
    this.#ino = (await this.#handle.stat()).ino;
    return this.#handle;
  }
}
