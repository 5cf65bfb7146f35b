/**
 * The one connection to the cloud broker: owns the mqtt.js client, announces
 * the gateway with a retained status (online on every connect, offline as the
 * Last Will and on graceful stop) and offers QoS 1 publishing that settles on
 * PUBACK.
 *
 * Nothing the broker does may reach the caller as an exception: a broker that
 * is down, unreachable, refusing our credentials or dropping us only changes
 * `state` and `lastError`, and the client keeps retrying every `reconnectMs`.
 * Doors are decided locally; the uplink is best effort with a durable outbox.
 *
 * Duplicate-free resends (see also outbox-drainer.ts). mqtt.js keeps every
 * QoS 1 PUBLISH that has not been acknowledged in its `outgoingStore`, and on
 * every CONNACK - clean session or not - `_onConnect` streams that store and
 * sends each packet again before it emits 'connect' (node_modules/mqtt/build/
 * lib/client.js, `_onConnect` / `startStreamProcess`). `publish()` while
 * disconnected also goes into that store (`_sendPacket` -> `_storePacket`).
 * With a clean session the broker has forgotten the old packet ids, so such a
 * resend is a brand-new message: a second copy on top of the drainer's own
 * resend. So this link keeps mqtt.js's store empty across connections:
 *   - publish() refuses unless the link is connected, so nothing is queued
 *     offline inside mqtt.js;
 *   - on every 'close' it removes each outstanding message with the public
 *     `removeOutgoingMessage(id)`, which deletes it from the store and fails
 *     its callback ("Message removed"), so the drainer knows it is unacked.
 * The journal, not mqtt.js's RAM, is the queue; the drainer alone resends.
 */
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type pino from 'pino';
import type { MqttConfig } from '../config/schema.js';
import { FailureThrottle } from './failure-throttle.js';
import { buildStatus, type GatewayIdentity } from './status.js';
import type { DeviceAvailability } from './payloads.js';
import { statusTopic } from './topics.js';

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export type LinkErrorKind =
  /** CONNACK 4 or 5 (MQTT 5: 134, 135): fix the username/password or the broker ACL. */
  | 'auth'
  /** Any other CONNACK refusal. */
  | 'refused'
  /** TCP/DNS failure: broker down or unreachable. */
  | 'network'
  /** TLS handshake failure: untrusted broker certificate, name mismatch, or our client certificate refused. */
  | 'tls'
  /** No CONNACK within connectTimeoutMs. */
  | 'timeout'
  /** The connection closed without an error (broker shut down or dropped us). */
  | 'closed'
  | 'other';

export interface LinkError {
  readonly kind: LinkErrorKind;
  readonly message: string;
  /** CONNACK return code (number) or errno code such as "ECONNREFUSED". */
  readonly code: number | string | null;
  readonly at: string;
}

export interface LinkCounters {
  readonly connectAttempts: number;
  readonly connects: number;
  readonly connectFailures: number;
  /** Established connections that were later lost (not counting stop()). */
  readonly disconnects: number;
  readonly publishes: number;
  readonly pubacks: number;
  readonly publishFailures: number;
  /** Messages received on subscribed topics. */
  readonly messagesIn: number;
}

export interface MqttLinkOptions extends GatewayIdentity {
  readonly config: MqttConfig;
  /** From the secrets file. Never logged. */
  readonly password?: string | undefined;
  readonly logger: pino.Logger;
  /** Injected clock for status timestamps. */
  readonly now?: () => Date;
  /** The devices and their availability, included in every online status. */
  readonly devices?: () => readonly DeviceAvailability[];
}

export interface PublishOptions {
  readonly retain?: boolean;
}

/** The publish() failure when there is no connection to publish on. */
export class LinkNotConnectedError extends Error {
  override readonly name = 'LinkNotConnectedError';
}

/** A connection that lasted this long ends a run of quick drops. */
const STABLE_CONNECTION_MS = 60_000;

type StateListener = (state: LinkState, previous: LinkState) => void;

type Counters = { -readonly [K in keyof LinkCounters]: number };

/** Whether DEBUG enables mqtt.js's client logger, by the debug package's rules (names split on commas and spaces, * wildcards, -name excludes). */
export function mqttDebugWanted(debug = process.env.DEBUG ?? ''): boolean {
  const matches = (pattern: string): boolean => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test('mqttjs:client');
  const names = debug.split(/[\s,]+/).filter((name) => name !== '');
  return names.some((name) => !name.startsWith('-') && matches(name)) && !names.some((name) => name.startsWith('-') && matches(name.slice(1)));
}

export class MqttLink {
  readonly #config: MqttConfig;
  readonly #password: string | undefined;
  readonly #identity: GatewayIdentity;
  readonly #devices: (() => readonly DeviceAvailability[]) | undefined;
  readonly #log: pino.Logger;
  readonly #now: () => Date;
  readonly #statusTopic: string;
  readonly #listeners = new Set<StateListener>();
  /** Failed connection attempts in a row. */
  readonly #throttle = new FailureThrottle();
  /**
   * Connections lost soon after they were made, in a row: a broker that
   * accepts and then drops us (client id taken over by a twin, ACL kicks)
   * must not log a warning per reconnect either.
   */
  readonly #drops = new FailureThrottle();
  #quietConnect = false;
  readonly #counters: Counters = {
    connectAttempts: 0,
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    publishes: 0,
    pubacks: 0,
    publishFailures: 0,
    messagesIn: 0,
  };
  #client: MqttClient | null = null;
  #state: LinkState = 'disconnected';
  #started = false;
  #stopping: Promise<void> | null = null;
  #lastError: LinkError | null = null;
  /** Error seen during the current connection attempt, reported when it closes. */
  #attemptError: LinkError | null = null;
  #connectedAt: number | null = null;
  #connection = 0;
  /** Inbound topics (exact names, no wildcards) and their handlers; subscribed on every connect. */
  readonly #inbound = new Map<string, (payload: Buffer, topic: string) => void>();

  constructor(options: MqttLinkOptions) {
    this.#config = options.config;
    this.#password = options.password;
    this.#devices = options.devices;
    this.#identity = {
      gatewayId: options.gatewayId,
      siteId: options.siteId,
      bootId: options.bootId,
      version: options.version,
    };
    this.#log = options.logger.child({ component: 'mqtt' });
    this.#now = options.now ?? (() => new Date());
    // Validates the prefix and gateway id once, at construction: a bad id is a
    // configuration error the caller should see, unlike anything the broker does.
    this.#statusTopic = statusTopic(options.config.topicPrefix, options.gatewayId);
  }

  get state(): LinkState {
    return this.#state;
  }

  get lastError(): LinkError | null {
    return this.#lastError;
  }

  get counters(): LinkCounters {
    return { ...this.#counters };
  }

  /** Number of the current (or last) established connection; 0 before the first. */
  get connection(): number {
    return this.#connection;
  }

  /** When the current connection was established (ms since epoch), or null. */
  get connectedSince(): number | null {
    return this.#connectedAt;
  }

  get statusTopic(): string {
    return this.#statusTopic;
  }

  /** Listeners run synchronously on every change; returns an unsubscribe function. */
  onStateChange(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Begins connecting in the background. Never throws because of the broker. */
  start(): void {
    if (this.#stopping) throw new Error('MqttLink cannot be restarted after stop(); create a new one');
    if (this.#started) return;
    this.#started = true;
    this.#log.info(
      { url: redactUrl(this.#config.url), clientId: this.#clientId(), username: this.#config.username ?? null },
      'connecting to MQTT broker',
    );
    this.#beginAttempt();
    this.#setState('connecting');
    try {
      this.#client = connect(this.#config.url, this.#clientOptions());
    } catch (error) {
      // mqtt.js throws synchronously only for URLs it cannot use at all; that
      // will not heal by retrying, but the daemon must keep deciding doors.
      this.#recordError(error);
      this.#log.error({ error: this.#lastError }, 'cannot create MQTT client; events stay queued in the journal');
      this.#setState('disconnected');
      return;
    }
    this.#attach(this.#client);
  }

  /**
   * Graceful stop: publish the retained offline status, then DISCONNECT so the
   * broker discards the Will. If the offline status cannot be confirmed within
   * `timeoutMs`, the connection is dropped without DISCONNECT and the broker
   * publishes the Will (also offline) instead. Never rejects.
   */
  stop(timeoutMs = this.#config.connectTimeoutMs): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  /**
   * Receive messages on one exact topic, QoS 1, on this and every later
   * connection (the session is clean, so the link subscribes again after
   * each CONNACK). A throwing handler is logged and the message dropped;
   * nothing a cloud message does can reach the link's caller as an exception.
   */
  subscribe(topic: string, handler: (payload: Buffer, topic: string) => void): () => void {
    if (/[+#]/.test(topic)) throw new Error(`subscribe takes exact topics, not filters: ${topic}`);
    this.#inbound.set(topic, handler);
    const client = this.#client;
    if (this.#state === 'connected' && client !== null) this.#subscribeOn(client, [topic]);
    return () => {
      this.#inbound.delete(topic);
      if (this.#state === 'connected') this.#client?.unsubscribe(topic);
    };
  }

  #subscribeOn(client: MqttClient, topics: string[]): void {
    if (topics.length === 0) return;
    client.subscribe(topics, { qos: 1 }, (error) => {
      if (error) this.#log.warn({ err: error.message, topics }, 'MQTT subscribe failed; retried on the next connect');
    });
  }

  #onMessage(topic: string, payload: Buffer): void {
    const handler = this.#inbound.get(topic);
    if (handler === undefined) return;
    this.#counters.messagesIn += 1;
    try {
      handler(payload, topic);
    } catch (error) {
      this.#log.error({ err: error, topic }, 'inbound message handler failed');
    }
  }

  /**
   * Publish the retained online status again (a device changed state).
   * Nothing to do while disconnected: every connect publishes it anyway.
   */
  refreshStatus(): void {
    const client = this.#client;
    if (this.#state !== 'connected' || client === null || !client.connected) return;
    const online = JSON.stringify(buildStatus(this.#identity, 'online', this.#now(), this.#devices?.()));
    this.#publishOn(client, this.#statusTopic, online, true).catch((error: unknown) => {
      this.#log.debug({ error: describe(error, this.#password) }, 'status refresh not acknowledged; it is sent again on the next connect');
    });
  }

  /**
   * QoS 1 publish; resolves on PUBACK. Rejects with LinkNotConnectedError when
   * not connected, or with mqtt.js's error when the connection is lost before
   * the PUBACK arrives (the message may or may not have reached the broker).
   */
  publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    const client = this.#client;
    if (this.#state !== 'connected' || client === null || !client.connected) {
      return Promise.reject(new LinkNotConnectedError(`MQTT link is ${this.#state}`));
    }
    return this.#publishOn(client, topic, payload, options.retain ?? false);
  }

  #publishOn(client: MqttClient, topic: string, payload: string | Buffer, retain: boolean): Promise<void> {
    this.#counters.publishes += 1;
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error | null) => {
        if (error) {
          this.#counters.publishFailures += 1;
          reject(error);
        } else {
          this.#counters.pubacks += 1;
          resolve();
        }
      };
      try {
        client.publish(topic, payload, { qos: 1, retain }, settle);
      } catch (error) {
        settle(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  #clientId(): string {
    return this.#config.clientId ?? `gatehouse-${this.#identity.gatewayId}`;
  }

  #clientOptions(): IClientOptions {
    return {
      clientId: this.#clientId(),
      protocolVersion: 4,
      // Clean session: the journal is the persistent queue, and a broker-side
      // session would only add a second, invisible one.
      clean: true,
      keepalive: this.#config.keepaliveS,
      reconnectPeriod: this.#config.reconnectMs,
      connectTimeout: this.#config.connectTimeoutMs,
      // Without this mqtt.js stops retrying for good after a CONNACK refusal
      // (handlers/connack.js sets reconnectSuppressed); a fixed password or ACL
      // on the broker side must be picked up without restarting the daemon.
      reconnectOnConnackError: true,
      resubscribe: false,
      queueQoSZero: false,
      // mqtt.js calls its debug logger about eight times per publish and
      // PUBACK even when debug output is off, each call building its
      // arguments: 27 % of what a drain allocated on the event loop (10.8 ->
      // 7.8 KB per event) and 11 % of its time. DEBUG=mqttjs* still gets it.
      ...(mqttDebugWanted() ? {} : { log: () => undefined }),
      username: this.#config.username,
      password: this.#password,
      will: this.#will(),
      ...this.#tlsOptions(),
    };
  }

  /**
   * Files are read once, when the client is created: renewing the client
   * certificate needs a restart. Throws when a file cannot be read, which
   * start() reports like any client that cannot be created.
   */
  #tlsOptions(): Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'> {
    const tls = this.#config.tls;
    if (tls === undefined) return {};
    return {
      ca: readFileSync(tls.caFile),
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ...(tls.servername === undefined ? {} : { servername: tls.servername }),
      // Explicit: a broker whose certificate does not chain to caFile is not the cloud.
      rejectUnauthorized: true,
    };
  }

  #will(): NonNullable<IClientOptions['will']> {
    // ts of a Will = when the connection carrying it was opened; the broker
    // publishes it later, at a time the gateway cannot know.
    const payload = JSON.stringify(buildStatus(this.#identity, 'offline', this.#now()));
    return { topic: this.#statusTopic, payload: Buffer.from(payload), qos: 1, retain: true };
  }

  #attach(client: MqttClient): void {
    client.on('connect', () => this.#onConnect(client));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    client.on('reconnect', () => {
      if (this.#stopping) return;
      this.#beginAttempt();
      this.#dropOutgoing(client);
      client.options.will = this.#will();
      this.#setState('connecting');
    });
    client.on('error', (error) => {
      // Always handled: an unhandled 'error' event would crash the daemon.
      this.#recordError(error);
      // While connecting, the close that follows reports it (rate-limited);
      // on an established connection it is unusual enough to show.
      if (this.#state === 'connected') this.#log.warn({ error: this.#lastError }, 'MQTT client error');
      else this.#log.debug({ error: this.#lastError }, 'MQTT client error');
    });
    client.on('close', () => this.#onClose(client));
  }

  #beginAttempt(): void {
    this.#counters.connectAttempts += 1;
    this.#attemptError = null;
  }

  #onConnect(client: MqttClient): void {
    if (this.#stopping) return;
    this.#connection += 1;
    this.#counters.connects += 1;
    this.#connectedAt = this.#now().getTime();
    this.#attemptError = null;
    const outage = this.#throttle.success();
    const fields = {
      connection: this.#connection,
      failedAttempts: outage.attempts,
      outageMs: outage.failingSinceMs === null ? 0 : Date.now() - outage.failingSinceMs,
    };
    if (this.#quietConnect) this.#log.debug(fields, 'connected to MQTT broker');
    else this.#log.info(fields, 'connected to MQTT broker');
    // Before the state change, so the status is the first PUBLISH on every
    // connection: a retained online must follow the Will the broker may have
    // published for the previous connection (z2m #4854).
    const online = JSON.stringify(buildStatus(this.#identity, 'online', this.#now(), this.#devices?.()));
    this.#publishOn(client, this.#statusTopic, online, true).catch((error: unknown) => {
      this.#log.debug({ error: describe(error, this.#password) }, 'online status not acknowledged; it is sent again on the next connect');
    });
    this.#subscribeOn(client, [...this.#inbound.keys()]);
    this.#setState('connected');
  }

  #onClose(client: MqttClient): void {
    this.#dropOutgoing(client);
    if (this.#stopping) return;
    const wasConnected = this.#state === 'connected';
    const connectedForMs = this.#connectedAt === null ? 0 : this.#now().getTime() - this.#connectedAt;
    this.#connectedAt = null;
    if (wasConnected) {
      this.#counters.disconnects += 1;
      const cause = this.#attemptError ?? this.#errorOf('closed', 'connection closed by the broker or the network', null);
      this.#lastError = cause;
      if (connectedForMs >= STABLE_CONNECTION_MS) this.#drops.success();
      const report = this.#drops.failure(cause.message, Date.now());
      this.#quietConnect = report.level !== 'warn';
      const fields = { error: cause, connection: this.#connection, connectedForMs, dropsInARow: report.attempts, retryInMs: this.#config.reconnectMs };
      if (report.level === 'warn') this.#log.warn(fields, 'lost connection to MQTT broker; events stay queued in the journal');
      else this.#log.debug(fields, 'lost connection to MQTT broker; events stay queued in the journal');
    } else if (this.#state === 'connecting') {
      this.#counters.connectFailures += 1;
      const cause = this.#attemptError ?? this.#errorOf('closed', 'connection closed before the broker accepted it', null);
      this.#lastError = cause;
      const report = this.#throttle.failure(cause.message, Date.now());
      const fields = {
        error: cause,
        attempts: report.attempts,
        suppressedSinceLastReport: report.suppressed,
        failingForMs: Date.now() - report.failingSinceMs,
        retryInMs: this.#config.reconnectMs,
      };
      if (report.level === 'warn') this.#log.warn(fields, 'cannot connect to MQTT broker; retrying');
      else this.#log.debug(fields, 'cannot connect to MQTT broker; retrying');
    }
    this.#setState('disconnected');
  }

  /** Empties mqtt.js's outgoing store so it never resends on its own (see the header). */
  #dropOutgoing(client: MqttClient): void {
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
  }

  async #stop(timeoutMs: number): Promise<void> {
    const client = this.#client;
    const wasConnected = this.#state === 'connected' && client !== null && client.connected;
    // First, so the drainer stops sending before the offline status goes out.
    this.#setState('stopped');
    if (client === null) return;
    let offlineAcked = false;
    if (wasConnected) {
      const offline = JSON.stringify(buildStatus(this.#identity, 'offline', this.#now()));
      try {
        await withTimeout(this.#publishOn(client, this.#statusTopic, offline, true), timeoutMs, 'offline status not acknowledged in time');
        offlineAcked = true;
      } catch (error) {
        this.#log.warn({ error: describe(error, this.#password) }, 'could not publish offline status; the broker will publish the Last Will');
      }
    }
    // Unacknowledged event publishes stay pending in the journal for the next
    // run; mqtt.js must not hold end() back waiting for their PUBACKs.
    this.#dropOutgoing(client);
    // DISCONNECT only after a confirmed offline status: otherwise the Will is
    // the better announcement, and end(true) leaves it armed.
    const ended = new Promise<void>((resolve) => client.end(!offlineAcked, () => resolve()));
    try {
      await withTimeout(ended, timeoutMs, 'MQTT client did not close in time');
    } catch {
      client.stream.destroy();
    }
    this.#connectedAt = null;
    this.#log.info({ offlineStatusPublished: offlineAcked }, 'MQTT link stopped');
  }

  #setState(next: LinkState): void {
    const previous = this.#state;
    if (next === previous) return;
    this.#state = next;
    for (const listener of this.#listeners) {
      try {
        listener(next, previous);
      } catch (error) {
        // A listener bug must not propagate into mqtt.js's event handling.
        this.#log.error({ err: error }, 'MQTT link state listener threw');
      }
    }
  }

  #recordError(error: unknown): void {
    const described = describe(error, this.#password);
    const kind = classify(error);
    const code = codeOf(error);
    const message = kind === 'auth' ? `broker refused the credentials: ${described} (CONNACK ${String(code)})` : described;
    this.#attemptError = this.#errorOf(kind, message, code);
    this.#lastError = this.#attemptError;
  }

  #errorOf(kind: LinkErrorKind, message: string, code: number | string | null): LinkError {
    return { kind, message, code, at: this.#now().toISOString() };
  }
}

/** mqtt.js connect-time errors to a kind an operator can act on. */
function classify(error: unknown): LinkErrorKind {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : '';
  if (typeof code === 'number') {
    if (message.startsWith('Connection refused')) return code === 4 || code === 5 || code === 134 || code === 135 ? 'auth' : 'refused';
    return 'other';
  }
  if (typeof code === 'string') return isTlsCode(code) ? 'tls' : 'network';
  if (message === 'connack timeout') return 'timeout';
  return 'other';
}

/** OpenSSL and Node codes of certificate and handshake failures (e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, DEPTH_ZERO_SELF_SIGNED_CERT). */
function isTlsCode(code: string): boolean {
  return /^ERR_(SSL|TLS)_|CERT|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED/.test(code);
}

function codeOf(error: unknown): number | string | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  const code = error.code;
  return typeof code === 'number' || typeof code === 'string' ? code : null;
}

/** An error's message with the password scrubbed, whatever produced it. */
function describe(error: unknown, password: string | undefined): string {
  const text = error instanceof Error ? error.message : String(error);
  return password ? text.split(password).join('[redacted]') : text;
}

/** The broker URL without any user:password@ part, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1[redacted]@');
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
