/**
 * The gate in front of the command executor: one message from the `cmd`
 * topic in, one or two answers on `cmd/response` out, nothing executed unless
 * every check passed.
 *
 * Checks, in order (the first failure is the answer's reason):
 *   1. the envelope verifies with a configured cloud key (else oversized,
 *      malformed, unsigned, unknown_key, bad_signature, payload_not_json);
 *   2. the payload is a command of a known action (invalid_command,
 *      unknown_action);
 *   3. it names this gateway (wrong_gateway: answered, not ignored, because
 *      the response topic is this gateway's own and a misrouted command is a
 *      cloud bug someone should see);
 *   4. now is within [issuedAt - skew, expiresAt + skew] (not_yet_valid,
 *      expired);
 *   5. the command id was never seen (duplicate), then the executor's own
 *      checks (unknown_door, door_locked_down, unknown_person, not_checked_in).
 * Rejections before 1 passes carry the cmdId the message claims, if any, for
 * correlation only.
 *
 * Never throws: whatever arrives ends as a counted reason.
 */
import type { Logger } from '../runtime/logger.js';
import { FailureThrottle } from '../uplink/failure-throttle.js';
import type { ExecutionOutcome } from './command-executor.js';
import { claimedString, openSigned } from './inbound.js';
import {
  commandActionKinds,
  commandSchema,
  type Command,
  type CommandRejectReason,
  type CommandResponse,
  type CommandStatus,
} from './link-messages.js';
import type { CloudKeyring } from './signed-message.js';

/**
 * Allowed difference between the cloud's clock and the gateway's. Gateways
 * run NTP; a minute covers a slow sync after boot without letting an expired
 * command live much longer.
 */
export const CLOCK_SKEW_MS = 60_000;

export interface CommandHandlerOptions {
  readonly gatewayId: string;
  readonly keyring: CloudKeyring;
  readonly maxMessageBytes: number;
  readonly executor: { execute(command: Command, keyId: string, now: number, onAccepted: () => void): ExecutionOutcome };
  /** Publishes one answer on cmd/response; must not throw. */
  readonly respond: (response: CommandResponse) => void;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface CommandCounters {
  readonly received: number;
  readonly done: number;
  /** Rejected commands by reason. */
  readonly rejected: Readonly<Partial<Record<CommandRejectReason, number>>>;
}

const MAX_DETAIL = 300;

export class CommandHandler {
  readonly #o: CommandHandlerOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #throttle = new FailureThrottle();
  #received = 0;
  #done = 0;
  readonly #rejected: Partial<Record<CommandRejectReason, number>> = {};

  constructor(options: CommandHandlerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'commands' });
    this.#now = options.now ?? Date.now;
  }

  get counters(): CommandCounters {
    return { received: this.#received, done: this.#done, rejected: { ...this.#rejected } };
  }

  /** Handle one raw message; returns the final answer (done or rejected), which has also been sent. */
  handle(raw: Buffer): CommandResponse {
    this.#received += 1;
    try {
      return this.#handle(raw);
    } catch (error) {
      // The executor throws only when the database does; the command may or
      // may not be recorded, so it is not retried here.
      this.#log.error({ err: error }, 'command failed');
      return this.#reject(null, null, 'failed', 'internal error; see the gateway log');
    }
  }

  #handle(raw: Buffer): CommandResponse {
    const opened = openSigned(this.#o.keyring, raw, this.#o.maxMessageBytes);
    if (!opened.ok) {
      return this.#reject(claimedString(opened.claimed, 'cmdId'), claimedAction(opened.claimed), opened.reason, opened.detail);
    }
    const { payload, keyId } = opened;
    const cmdId = claimedString(payload, 'cmdId');
    const parsed = commandSchema.safeParse(payload);
    if (!parsed.success) {
      const kind = claimedAction(payload);
      if (claimedString(payload, 'type') === 'command' && kind !== null && !(commandActionKinds as readonly string[]).includes(kind)) {
        return this.#reject(cmdId, kind, 'unknown_action', `unknown action "${kind}"`);
      }
      const issue = parsed.error.issues[0];
      return this.#reject(cmdId, kind, 'invalid_command', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const command = parsed.data;
    const action = command.action.kind;
    if (command.gatewayId !== this.#o.gatewayId) {
      return this.#reject(command.cmdId, action, 'wrong_gateway', `command is for gateway "${command.gatewayId}"`);
    }
    const now = this.#now();
    if (now > Date.parse(command.expiresAt) + CLOCK_SKEW_MS) {
      return this.#reject(command.cmdId, action, 'expired', `expired at ${command.expiresAt}; gateway time ${new Date(now).toISOString()}`);
    }
    if (Date.parse(command.issuedAt) - CLOCK_SKEW_MS > now) {
      return this.#reject(command.cmdId, action, 'not_yet_valid', `issued at ${command.issuedAt}, after gateway time ${new Date(now).toISOString()}`);
    }

    const outcome = this.#o.executor.execute(command, keyId, now, () => this.#send(command.cmdId, action, 'accepted', undefined, undefined, null));
    switch (outcome.kind) {
      case 'duplicate': {
        const previous = outcome.previous;
        const seen = previous === undefined ? '' : ` at ${new Date(previous.receivedAt).toISOString()} (${previous.status}${previous.reason === null ? '' : `: ${previous.reason}`})`;
        return this.#reject(command.cmdId, action, 'duplicate', `cmdId already received${seen}; nothing done`);
      }
      case 'rejected':
        return this.#reject(command.cmdId, action, outcome.reason, outcome.detail);
      case 'done':
        this.#done += 1;
        this.#throttle.success();
        this.#log.info({ cmdId: command.cmdId, action: command.action, keyId, eventId: outcome.eventId }, `remote command done: ${outcome.detail}`);
        return this.#send(command.cmdId, action, 'done', undefined, outcome.detail, outcome.eventId);
    }
  }

  #reject(cmdId: string | null, action: string | null, reason: CommandRejectReason, detail: string): CommandResponse {
    this.#rejected[reason] = (this.#rejected[reason] ?? 0) + 1;
    const report = this.#throttle.failure(reason, Date.now());
    const fields = { cmdId, action, reason, detail, suppressedSinceLastReport: report.suppressed };
    if (report.level === 'warn') this.#log.warn(fields, 'remote command rejected');
    else this.#log.debug(fields, 'remote command rejected');
    return this.#send(cmdId, action, 'rejected', reason, detail, null);
  }

  #send(
    cmdId: string | null,
    action: string | null,
    status: CommandStatus,
    reason: CommandRejectReason | undefined,
    detail: string | undefined,
    eventId: string | null,
  ): CommandResponse {
    const response: CommandResponse = {
      schema: 'gatehouse.cmd-response/1',
      gatewayId: this.#o.gatewayId,
      cmdId,
      status,
      ...(reason === undefined ? {} : { reason }),
      ...(detail === undefined ? {} : { detail: detail.slice(0, MAX_DETAIL) }),
      action,
      eventId,
      ts: new Date(this.#now()).toISOString(),
    };
    this.#o.respond(response);
    return response;
  }
}

/** action.kind as the payload claims it, shortened; null when absent. */
function claimedAction(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null || !('action' in payload)) return null;
  return claimedString(payload.action, 'kind', 64);
}
