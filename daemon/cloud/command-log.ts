/**
 * The at-most-once record of remote commands (table cloud_commands). A
 * command id is claimed before anything is executed, in the same transaction
 * as the effect where the effect is a database change; a second claim of the
 * same id fails, and that is the whole replay protection.
 */
import type { Db } from '../store/database.js';
import type { CommandRejectReason, CommandStatus } from './link-messages.js';

/**
 * How long a row outlives its command's expiry. Far more than the clock-skew
 * allowance: if the system clock is set back after a row is pruned, a replay
 * of that command must still find it.
 */
export const COMMAND_RECORD_GRACE_MS = 24 * 60 * 60 * 1000;

export interface CommandRecord {
  readonly cmdId: string;
  readonly action: string;
  readonly keyId: string;
  readonly receivedAt: number;
  readonly expiresAt: number;
  readonly status: CommandStatus;
  readonly reason: string | null;
  readonly eventId: string | null;
}

interface Row {
  cmd_id: string;
  type: string;
  key_id: string;
  received_at: number;
  expires_at: number;
  status: CommandStatus;
  reason: string | null;
  event_id: string | null;
}

export class CommandLog {
  readonly #stmts;

  constructor(db: Db) {
    this.#stmts = {
      claim: db.prepare(
        `INSERT INTO cloud_commands (cmd_id, type, key_id, received_at, expires_at, status) VALUES (?, ?, ?, ?, ?, 'accepted')
         ON CONFLICT (cmd_id) DO NOTHING`,
      ),
      finish: db.prepare(`UPDATE cloud_commands SET status = ?, reason = ?, event_id = ? WHERE cmd_id = ?`),
      get: db.prepare<[string], Row>(`SELECT * FROM cloud_commands WHERE cmd_id = ?`),
      prune: db.prepare(`DELETE FROM cloud_commands WHERE expires_at < ?`),
      count: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM cloud_commands`),
    };
  }

  /** Records a command as accepted; false when its id was seen before (nothing is written then). */
  claim(command: { cmdId: string; action: string; keyId: string; receivedAt: number; expiresAt: number }): boolean {
    const { cmdId, action, keyId, receivedAt, expiresAt } = command;
    return this.#stmts.claim.run(cmdId, action, keyId, receivedAt, expiresAt).changes === 1;
  }

  finish(cmdId: string, status: Exclude<CommandStatus, 'accepted'>, reason: CommandRejectReason | null, eventId: string | null): void {
    this.#stmts.finish.run(status, reason, eventId, cmdId);
  }

  get(cmdId: string): CommandRecord | undefined {
    const r = this.#stmts.get.get(cmdId);
    if (r === undefined) return undefined;
    return {
      cmdId: r.cmd_id,
      action: r.type,
      keyId: r.key_id,
      receivedAt: r.received_at,
      expiresAt: r.expires_at,
      status: r.status,
      reason: r.reason,
      eventId: r.event_id,
    };
  }

  /** Deletes rows whose command expired more than COMMAND_RECORD_GRACE_MS before `now`. */
  prune(now: number): number {
    return this.#stmts.prune.run(now - COMMAND_RECORD_GRACE_MS).changes;
  }

  count(): number {
    return this.#stmts.count.get()?.n ?? 0;
  }
}
