/**
 * The daemon's connection goes first when it wants to write.
 *
 * While a snapshot is staged, a second connection (the staging worker's)
 * writes to the same file, and SQLite has one writer at a time. A daemon
 * write that finds the lock taken would sleep in SQLite's busy handler
 * (1 ms, then 2, 5, 10 ... ms) with the event loop stopped. Instead, two
 * shared counters:
 *   - WANT, raised by every write of the daemon's connection for its
 *     duration: the worker ends its transaction at the next row when it
 *     sees it, and begins none while it is up;
 *   - HOLD, set by the worker from before its BEGIN to after its COMMIT: a
 *     daemon write waits on it (Atomics.wait) for exactly as long as the
 *     worker needs to finish, then takes the lock without a busy retry.
 *
 * Every transaction of the daemon's connection is also made IMMEDIATE (the
 * write lock is taken at BEGIN): with two writing connections, a deferred
 * transaction that reads before it writes gets SQLITE_BUSY at once, without
 * the busy handler, when the other one wrote meanwhile.
 *
 * All of it is done once, where the connection is opened (database.ts), by
 * wrapping db.transaction() and the run() of every statement that writes,
 * so that no call site can forget it.
 */
import type Database from 'better-sqlite3';

type Db = Database.Database;

const WANT = 0;
const HOLD = 1;
/** Longest wait for the worker's commit; beyond it (a stuck or dead worker) SQLite's busy handler takes over. */
const MAX_WAIT_MS = 100;

const gates = new WeakMap<Db, SharedArrayBuffer>();

/** The shared counters of a connection opened by openDatabase(); null for any other (it does not announce its writes). */
export function writeGateOf(db: Db): SharedArrayBuffer | null {
  return gates.get(db) ?? null;
}

export function announceWrites(db: Db): void {
  const buffer = new SharedArrayBuffer(8);
  const gate = new Int32Array(buffer);
  gates.set(db, buffer);
  const flagged =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      Atomics.add(gate, WANT, 1);
      try {
        const until = performance.now() + MAX_WAIT_MS;
        for (let left = MAX_WAIT_MS; Atomics.load(gate, HOLD) !== 0 && left > 0; left = until - performance.now()) Atomics.wait(gate, HOLD, 1, left);
        return fn(...args);
      } finally {
        Atomics.sub(gate, WANT, 1);
        Atomics.notify(gate, WANT);
      }
    };

  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = transaction(fn);
    const immediate = flagged((...args: unknown[]) => tx.immediate(...args));
    return Object.assign(immediate, {
      default: immediate,
      deferred: flagged((...args: unknown[]) => tx.deferred(...args)),
      immediate,
      exclusive: flagged((...args: unknown[]) => tx.exclusive(...args)),
    });
  }) as Db['transaction'];

  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (!statement.reader) {
      const run = statement.run.bind(statement);
      const announced = flagged(run);
      // Inside a transaction the gate is taken already.
      statement.run = (...params: unknown[]) => (db.inTransaction ? run(...params) : announced(...params));
    }
    return statement;
  }) as Db['prepare'];
}

/** The worker's side of the gate. */
export class WriteGate {
  readonly #gate: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#gate = new Int32Array(buffer);
  }

  /** Whether the daemon wants to write (end the transaction now). */
  get wanted(): boolean {
    return Atomics.load(this.#gate, WANT) !== 0;
  }

  /** Before BEGIN: wait while the daemon writes, then hold (blocks the thread; the daemon's writes are short). */
  enter(): void {
    for (;;) {
      Atomics.store(this.#gate, HOLD, 1);
      const want = Atomics.load(this.#gate, WANT);
      if (want === 0) return;
      this.leave();
      Atomics.wait(this.#gate, WANT, want, MAX_WAIT_MS);
    }
  }

  /** After COMMIT (or ROLLBACK). */
  leave(): void {
    Atomics.store(this.#gate, HOLD, 0);
    Atomics.notify(this.#gate, HOLD);
  }
}
