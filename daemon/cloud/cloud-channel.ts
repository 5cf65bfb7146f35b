/**
 * The command and acknowledgement side of the cloud link: subscribes to the
 * gateway's `cmd` and `events/ack` topics, hands each message to its handler,
 * and publishes command answers on `cmd/response`.
 *
 * Answers are published directly, not journaled: they matter only while the
 * cloud waits for them, and an answer lost with the connection is covered by
 * the command event, which is journaled and delivered like every event.
 */
import type { Logger } from '../runtime/logger.js';
import type { Journal } from '../store/journal.js';
import { gatewayTopic } from '../uplink/topics.js';
import { CommandExecutor, type CommandExecutorOptions } from './command-executor.js';
import { CommandHandler, type CommandCounters } from './command-handler.js';
import { EventAckHandler, type AckCounters } from './event-acks.js';
import type { CommandResponse } from './link-messages.js';
import type { CloudKeyring } from './signed-message.js';

/** What the channel needs from the MQTT link; MqttLink provides it. */
export interface ChannelLink {
  subscribe(topic: string, handler: (payload: Buffer, topic: string) => void): () => void;
  publish(topic: string, payload: string): Promise<void>;
}

export interface CloudChannelOptions extends Omit<CommandExecutorOptions, 'commandTopic'> {
  readonly link: ChannelLink;
  readonly topicPrefix: string;
  readonly keyring: CloudKeyring;
  readonly maxMessageBytes: number;
  readonly journal: Journal;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface CloudChannelStatus {
  readonly commands: CommandCounters & {
    /** Rows in cloud_commands (the at-most-once record, pruned a day after expiry). */
    readonly recorded: number;
  };
  readonly acks: AckCounters;
}

export class CloudChannel {
  readonly commands: CommandHandler;
  readonly acks: EventAckHandler;
  readonly executor: CommandExecutor;
  readonly #link: ChannelLink;
  readonly #log: Logger;
  readonly #topics: { readonly cmd: string; readonly response: string; readonly ack: string };
  #unsubscribe: (() => void)[] = [];

  constructor(options: CloudChannelOptions) {
    const { topicPrefix, gatewayId } = options;
    this.#link = options.link;
    this.#log = options.logger.child({ component: 'cloud-channel' });
    this.#topics = {
      cmd: gatewayTopic(topicPrefix, gatewayId, 'cmd'),
      response: gatewayTopic(topicPrefix, gatewayId, 'cmd/response'),
      ack: gatewayTopic(topicPrefix, gatewayId, 'events/ack'),
    };
    this.executor = new CommandExecutor({ ...options, commandTopic: gatewayTopic(topicPrefix, gatewayId, 'events/command') });
    this.commands = new CommandHandler({
      gatewayId,
      keyring: options.keyring,
      maxMessageBytes: options.maxMessageBytes,
      executor: this.executor,
      respond: (response) => this.#respond(response),
      logger: options.logger,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.acks = new EventAckHandler({
      gatewayId,
      keyring: options.keyring,
      maxMessageBytes: options.maxMessageBytes,
      journal: options.journal,
      logger: options.logger,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  /** Subscribe on this and every later connection. */
  start(): void {
    if (this.#unsubscribe.length > 0) return;
    this.#unsubscribe = [
      this.#link.subscribe(this.#topics.cmd, (payload) => {
        this.commands.handle(payload);
      }),
      this.#link.subscribe(this.#topics.ack, (payload) => {
        this.acks.handle(payload);
      }),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  /** Delete command records a day past their expiry (called with the journal prune). */
  prune(now: number): number {
    return this.executor.log.prune(now);
  }

  status(): CloudChannelStatus {
    return { commands: { ...this.commands.counters, recorded: this.executor.log.count() }, acks: this.acks.counters };
  }

  #respond(response: CommandResponse): void {
    this.#link.publish(this.#topics.response, JSON.stringify(response)).catch((error: unknown) => {
      this.#log.debug({ err: error, cmdId: response.cmdId, status: response.status }, 'command answer not delivered; the command event is journaled');
    });
  }
}
