/**
 * Carries out verified, addressed, unexpired commands, at most once each.
 *
 * Two shapes, by where the effect lives:
 *   - state commands (door.lockdown, door.release, door.hold-open, person.checkout): one
 *     transaction claims the command id, changes the state (doors.mode, the
 *     check-in session) and journals the event. The in-memory door follows
 *     after the commit, and after a crash the boot reads the mode back.
 *   - actuations (door.unlock, sync.resync): the claim is committed first,
 *     then the relay or the sync component acts, then the event is journaled.
 *     A crash in between leaves the row `accepted`: the command may not have
 *     happened, but it never happens twice.
 *
 * Checks that can fail (unknown door, nobody to check out) run inside the
 * claiming transaction, so a rejected command is recorded too and a replay of
 * it is answered `duplicate`.
 */
import type { DoorController } from '../access/door-controller.js';
import type { DoorMode } from '../engine/types.js';
import type { Logger } from '../runtime/logger.js';
import { durableTransaction, type Db } from '../store/database.js';
import type { Journal, JournalEntry } from '../store/journal.js';
import type { CheckinSessions } from '../store/sessions.js';
import { setDoorMode } from '../store/site-layout.js';
import type { CommandEvent } from './command-event.js';
import { CommandLog, type CommandRecord } from './command-log.js';
import type { Command, CommandAction, CommandRejectReason } from './link-messages.js';

/** The part of a door the executor uses (DoorController provides it). */
export type CommandDoor = Pick<DoorController, 'policy' | 'unlock' | 'setMode'>;

export interface CommandExecutorOptions {
  readonly db: Db;
  readonly journal: Journal;
  readonly sessions: CheckinSessions;
  readonly doors: ReadonlyMap<string, CommandDoor>;
  /** Where command events are journaled (topics.ts commandEventTopic). */
  readonly commandTopic: string;
  readonly siteId: string;
  readonly gatewayId: string;
  /** The sync component's "fetch a full snapshot" request; must return quickly. */
  readonly requestResync: (reason: string) => void;
  readonly logger: Logger;
}

export type ExecutionOutcome =
  | { readonly kind: 'done'; readonly eventId: string; readonly detail: string }
  | { readonly kind: 'rejected'; readonly reason: CommandRejectReason; readonly detail: string }
  | { readonly kind: 'duplicate'; readonly previous: CommandRecord | undefined };

type Plan =
  | { readonly kind: 'unlock'; readonly doorId: string; readonly door: CommandDoor; readonly ms: number }
  | { readonly kind: 'mode'; readonly doorId: string; readonly door: CommandDoor; readonly mode: DoorMode }
  | { readonly kind: 'resync' }
  | { readonly kind: 'checkout'; readonly personId: string; readonly sessionId: string };

type Rejection = { readonly kind: 'rejected'; readonly reason: CommandRejectReason; readonly detail: string };

/** What the claiming transaction decided. */
type Claimed =
  | Rejection
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'committed'; readonly plan: Plan; readonly entry: JournalEntry }
  | { readonly kind: 'claimed'; readonly plan: Plan };

export class CommandExecutor {
  readonly #o: CommandExecutorOptions;
  readonly #log: Logger;
  readonly #commands: CommandLog;
  readonly #personExists;
  readonly #claimTx;
  readonly #finishTx;

  constructor(options: CommandExecutorOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'commands' });
    this.#commands = new CommandLog(options.db);
    const exists = options.db.prepare<[string], { id: string }>(`SELECT id FROM people WHERE id = ?`);
    this.#personExists = (id: string) => exists.get(id) !== undefined;

    // Durable before anything moves: a claim lost to a power cut would let a replay of the command run again.
    this.#claimTx = durableTransaction(options.db, (command: Command, keyId: string, now: number): Claimed => {
      const claimed = this.#commands.claim({
        cmdId: command.cmdId,
        action: command.action.kind,
        keyId,
        receivedAt: now,
        expiresAt: Date.parse(command.expiresAt),
      });
      if (!claimed) return { kind: 'duplicate' };
      const plan = this.#plan(command.action);
      if (plan.kind === 'rejected') {
        this.#commands.finish(command.cmdId, 'rejected', plan.reason, null);
        return plan;
      }
      if (plan.kind === 'unlock' || plan.kind === 'resync') return { kind: 'claimed', plan };
      if (plan.kind === 'mode') setDoorMode(options.db, plan.doorId, plan.mode, now);
      const entry = this.#journal(command, keyId, plan, now);
      if (plan.kind === 'checkout') options.sessions.close(plan.sessionId, now, entry.id);
      this.#commands.finish(command.cmdId, 'done', null, entry.id);
      return { kind: 'committed', plan, entry };
    });

    this.#finishTx = options.db.transaction((command: Command, keyId: string, plan: Plan, now: number): JournalEntry => {
      const entry = this.#journal(command, keyId, plan, now);
      this.#commands.finish(command.cmdId, 'done', null, entry.id);
      return entry;
    });
  }

  get log(): CommandLog {
    return this.#commands;
  }

  /**
   * Execute one command that passed the gate (signature, gateway, expiry).
   * `onAccepted` runs once the claim is committed and the effect is about to
   * happen (or has, for state commands), so the cloud hears `accepted` before
   * `done`. Throws only when the database does (the handler reports `failed`).
   */
  execute(command: Command, keyId: string, now: number, onAccepted: () => void): ExecutionOutcome {
    const claimed = this.#claimTx(command, keyId, now);
    switch (claimed.kind) {
      case 'duplicate':
        return { kind: 'duplicate', previous: this.#commands.get(command.cmdId) };
      case 'rejected':
        return claimed;
      case 'committed':
        onAccepted();
        if (claimed.plan.kind === 'mode') claimed.plan.door.setMode(claimed.plan.mode);
        return { kind: 'done', eventId: claimed.entry.id, detail: describe(claimed.plan) };
      case 'claimed': {
        onAccepted();
        const failure = this.#actuate(command, claimed.plan);
        if (failure !== null) {
          this.#commands.finish(command.cmdId, 'rejected', 'failed', null);
          return { kind: 'rejected', reason: 'failed', detail: failure };
        }
        const entry = this.#finishTx(command, keyId, claimed.plan, now);
        return { kind: 'done', eventId: entry.id, detail: describe(claimed.plan) };
      }
    }
  }

  /** Physical or external effect of an actuation; returns an error text when it could not be started. */
  #actuate(command: Command, plan: Plan): string | null {
    if (plan.kind === 'unlock') {
      plan.door.unlock(plan.ms);
      return null;
    }
    if (plan.kind !== 'resync') return null;
    try {
      this.#o.requestResync(`command ${command.cmdId}`);
      return null;
    } catch (error) {
      this.#log.error({ err: error, cmdId: command.cmdId }, 'resync request failed');
      return `resync request failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
    }
  }

  #plan(action: CommandAction): Plan | Rejection {
    switch (action.kind) {
      case 'door.unlock': {
        const door = this.#o.doors.get(action.doorId);
        if (door === undefined) return reject('unknown_door', `no door "${action.doorId}" on this gateway`);
        if (door.policy().mode === 'locked-down') return reject('door_locked_down', `door "${action.doorId}" is locked down; release it first`);
        return { kind: 'unlock', doorId: action.doorId, door, ms: action.seconds * 1000 };
      }
      case 'door.lockdown':
      case 'door.release':
      case 'door.hold-open': {
        const door = this.#o.doors.get(action.doorId);
        if (door === undefined) return reject('unknown_door', `no door "${action.doorId}" on this gateway`);
        // Like door.unlock, holding a locked-down door open takes an explicit release first.
        if (action.kind === 'door.hold-open' && door.policy().mode === 'locked-down') {
          return reject('door_locked_down', `door "${action.doorId}" is locked down; release it first`);
        }
        const mode = ({ 'door.lockdown': 'locked-down', 'door.release': 'normal', 'door.hold-open': 'unlocked' } as const)[action.kind];
        return { kind: 'mode', doorId: action.doorId, door, mode };
      }
      case 'sync.resync':
        return { kind: 'resync' };
      case 'person.checkout': {
        const session = this.#o.sessions.openSessions().find((s) => s.personId === action.personId);
        if (session !== undefined) return { kind: 'checkout', personId: action.personId, sessionId: session.id };
        return this.#personExists(action.personId)
          ? reject('not_checked_in', `person "${action.personId}" has no open check-in session`)
          : reject('unknown_person', `no person "${action.personId}" in the cache and no open session`);
      }
    }
  }

  #journal(command: Command, keyId: string, plan: Plan, at: number): JournalEntry {
    const o = this.#o;
    return o.journal.append('command', o.commandTopic, at, (stamp): CommandEvent => ({
      schema: 'gatehouse.command/1',
      eventId: stamp.eventId,
      bootId: stamp.bootId,
      seq: stamp.seq,
      ts: new Date(at).toISOString(),
      siteId: o.siteId,
      gatewayId: o.gatewayId,
      cmdId: command.cmdId,
      keyId,
      issuedAt: command.issuedAt,
      action: command.action,
      doorId: plan.kind === 'unlock' || plan.kind === 'mode' ? plan.doorId : null,
      doorMode: plan.kind === 'mode' ? plan.mode : null,
      unlockMs: plan.kind === 'unlock' ? plan.ms : 0,
      personId: plan.kind === 'checkout' ? plan.personId : null,
      checkin: plan.kind === 'checkout' ? 'checked_out' : 'none',
      sessionId: plan.kind === 'checkout' ? plan.sessionId : null,
    }));
  }
}

function reject(reason: CommandRejectReason, detail: string): Rejection {
  return { kind: 'rejected', reason, detail };
}

function describe(plan: Plan): string {
  switch (plan.kind) {
    case 'unlock':
      return `door "${plan.doorId}" unlocked for ${plan.ms / 1000} s`;
    case 'mode':
      return `door "${plan.doorId}" is now ${plan.mode}`;
    case 'resync':
      return 'full resync requested';
    case 'checkout':
      return `person "${plan.personId}" checked out`;
  }
}
