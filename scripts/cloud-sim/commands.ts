/**
 * The cloud's side of remote commands, for the simulator, the tests and
 * operators' scripts: build a command, sign it like the cloud, publish it on
 * the gateway's `cmd` topic and collect the answers from `cmd/response`.
 *
 * Standalone on purpose: it needs only an mqtt.js client and a signing key,
 * so scripts/cloud-sim/main.ts (or anything else) can mount it.
 *
 *   const commands = new CommandClient(client, { topicPrefix: 'gatehouse/v1', signer: { keyId, privateKey } });
 *   await commands.start();
 *   const answers = await commands.send({ gatewayId: 'gw1', action: { kind: 'door.unlock', doorId: 'front', seconds: 5 } });
 *   // answers: [accepted, done] or [rejected]
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { commandResponseSchema, type Command, type CommandAction, type CommandResponse } from '../../daemon/cloud/link-messages.js';
import { signPayload } from '../../daemon/cloud/signed-message.js';
import type { CloudSimCommand, CloudSimModule } from './cloud-sim.js';

export interface CloudSigner {
  readonly keyId: string;
  /** Ed25519 private key (KeyObject or PEM). */
  readonly privateKey: KeyObject | string;
}

export interface CommandDraft {
  readonly gatewayId: string;
  readonly action: CommandAction;
  /** Default: a random UUID. Reuse one only to test replay protection. */
  readonly cmdId?: string;
  /** Seconds from issuedAt to expiresAt; default 60. Keep it short: a command is meant for now. */
  readonly ttlS?: number;
  /** Default: now. */
  readonly issuedAt?: Date;
}

export function buildCommand(draft: CommandDraft): Command {
  const issuedAt = draft.issuedAt ?? new Date();
  return {
    type: 'command',
    gatewayId: draft.gatewayId,
    cmdId: draft.cmdId ?? randomUUID(),
    issuedAt: issuedAt.toISOString(),
    expiresAt: new Date(issuedAt.getTime() + (draft.ttlS ?? 60) * 1000).toISOString(),
    action: draft.action,
  };
}

/** The signed envelope, ready to publish. `payload` may be anything, to test what the gateway rejects. */
export function signCommand(signer: CloudSigner, payload: Command | Record<string, unknown>): string {
  return signPayload(signer.privateKey, signer.keyId, payload);
}

export function commandTopics(topicPrefix: string, gatewayId: string): { readonly cmd: string; readonly response: string } {
  return { cmd: `${topicPrefix}/${gatewayId}/cmd`, response: `${topicPrefix}/${gatewayId}/cmd/response` };
}

export interface CommandClientOptions {
  readonly topicPrefix: string;
  readonly signer: CloudSigner;
}

const FINAL = new Set<CommandResponse['status']>(['done', 'rejected']);

export class CommandClient {
  readonly #client: MqttClient;
  readonly #o: CommandClientOptions;
  readonly #responses: CommandResponse[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #onMessage = (topic: string, payload: Buffer) => {
    if (!topic.startsWith(`${this.#o.topicPrefix}/`) || !topic.endsWith('/cmd/response')) return;
    const parsed = commandResponseSchema.safeParse(safeJson(payload.toString('utf8')));
    if (!parsed.success) return;
    this.#responses.push(parsed.data);
    for (const wake of this.#waiters) wake();
  };

  constructor(client: MqttClient, options: CommandClientOptions) {
    this.#client = client;
    this.#o = options;
  }

  /** Every answer received so far, from every gateway, in arrival order. */
  get responses(): readonly CommandResponse[] {
    return this.#responses;
  }

  /** Subscribes to the answers of every gateway under the prefix. */
  async start(): Promise<void> {
    this.#client.on('message', this.#onMessage);
    await this.#client.subscribeAsync(`${this.#o.topicPrefix}/+/cmd/response`, { qos: 1 });
  }

  async stop(): Promise<void> {
    this.#client.off('message', this.#onMessage);
    await this.#client.unsubscribeAsync(`${this.#o.topicPrefix}/+/cmd/response`);
  }

  /** Build, sign, publish; resolves with the command and its answers once the final one arrived. */
  async send(draft: CommandDraft, timeoutMs = 10_000): Promise<{ command: Command; answers: CommandResponse[] }> {
    const command = buildCommand(draft);
    const answers = await this.sendRaw(draft.gatewayId, signCommand(this.#o.signer, command), command.cmdId, timeoutMs);
    return { command, answers };
  }

  /**
   * Publish any bytes on a gateway's cmd topic and wait for the final answer
   * carrying `cmdId` (null: the gateway could not read one).
   */
  async sendRaw(gatewayId: string, message: string | Buffer, cmdId: string | null, timeoutMs = 10_000): Promise<CommandResponse[]> {
    const already = this.#responses.length;
    await this.#client.publishAsync(commandTopics(this.#o.topicPrefix, gatewayId).cmd, message, { qos: 1 });
    const mine = () => this.#responses.slice(already).filter((r) => r.gatewayId === gatewayId && r.cmdId === cmdId);
    await this.#waitFor(() => mine().some((r) => FINAL.has(r.status)), timeoutMs, `the final answer to command ${cmdId ?? '(unreadable)'}`);
    return mine();
  }

  #waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * Remote commands as a scripts/cloud-sim module: console commands `unlock
 * DOOR SECONDS`, `lockdown DOOR`, `release DOOR`, `resync`, `checkout
 * PERSON`, each signed with the simulator's key and printed with the
 * gateway's answers.
 */
export function commandsModule(): CloudSimModule {
  let client: CommandClient | null = null;
  let gatewayId = '';
  const send = (action: CommandAction) => async () => {
    if (client === null) throw new Error('not connected');
    const { command, answers } = await client.send({ gatewayId, action });
    console.log(`${command.cmdId}: ${answers.map((a) => (a.status === 'rejected' ? `rejected (${a.reason ?? ''}: ${a.detail ?? ''})` : a.status)).join(', ')}`);
  };
  const arg = (args: readonly string[], index: number, what: string): string => {
    const value = args[index];
    if (value === undefined || value === '') throw new Error(`missing ${what}`);
    return value;
  };
  const commands: Record<string, CloudSimCommand> = {
    unlock: { usage: 'unlock DOOR SECONDS        remote unlock', run: (a) => send({ kind: 'door.unlock', doorId: arg(a, 0, 'door'), seconds: Number(arg(a, 1, 'seconds')) })() },
    lockdown: { usage: 'lockdown DOOR              lock a door down', run: (a) => send({ kind: 'door.lockdown', doorId: arg(a, 0, 'door') })() },
    release: { usage: 'release DOOR               end a lockdown or a hold-open', run: (a) => send({ kind: 'door.release', doorId: arg(a, 0, 'door') })() },
    'hold-open': { usage: 'hold-open DOOR             hold a door unlocked until release', run: (a) => send({ kind: 'door.hold-open', doorId: arg(a, 0, 'door') })() },
    resync: { usage: 'resync                     ask the gateway for a full resync', run: () => send({ kind: 'sync.resync' })() },
    checkout: { usage: 'checkout PERSON            check a person out', run: (a) => send({ kind: 'person.checkout', personId: arg(a, 0, 'person') })() },
  };
  return {
    name: 'commands',
    async start(context) {
      gatewayId = context.gatewayId;
      client = new CommandClient(context.client, { topicPrefix: context.topicPrefix, signer: context.signer });
      await client.start();
    },
    async stop() {
      await client?.stop();
      client = null;
    },
    commands,
  };
}
