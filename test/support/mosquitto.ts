/**
 * Real brokers for uplink tests: Mosquitto as a child process on a free
 * 127.0.0.1 port with a generated config, a TCP proxy that can cut or starve
 * a connection the way a network does, and a subscriber that collects what
 * the broker delivers.
 *
 * Cleanup: every broker, proxy and subscriber created here is tracked; call
 * `disposeAll()` in afterEach so a failing test cannot leave one running, and
 * an 'exit' hook kills any broker that is still alive.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';

const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 10_000;
const POLL_MS = 25;

const disposers = new Set<() => Promise<void>>();
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Disposes every broker, proxy and subscriber created by this module and not yet disposed. */
export async function disposeAll(): Promise<void> {
  const pending = [...disposers];
  disposers.clear();
  const results = await Promise.allSettled(pending.map((dispose) => dispose()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
}

function track(dispose: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => {
    disposers.delete(once);
    done ??= dispose();
    return done;
  };
  disposers.add(once);
  return once;
}

/** A port that was free a moment ago (the kernel picks it; nothing keeps it reserved). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not determine a free port');
  return address.port;
}

/** Polls `condition` until it holds; rejects after `timeoutMs` with `what` in the message. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(POLL_MS);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function findBinary(name: string, fallbacks: readonly string[]): string {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name)), ...fallbacks];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(`${name} not found in PATH or ${fallbacks.join(', ')}; install mosquitto`);
}

export interface MosquittoOptions {
  /** Defaults to a free port. Pass one to start a broker where a client is already retrying. */
  readonly port?: number;
  /** Require this username/password (password_file, allow_anonymous false). */
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * Keep sessions, subscriptions and queued messages across stop()/start()
   * (saved on SIGTERM, loaded at start). Lets a `clean: false` subscriber
   * miss nothing while the broker is down.
   */
  readonly persistence?: boolean;
  /**
   * Serve MQTT over TLS instead of plain TCP (url becomes mqtts://127.0.0.1:port).
   * The broker verifies clients against `caFile`; with requireCertificate a
   * client without a certificate from that CA is refused, and with
   * useIdentityAsUsername the certificate's CN is the client's username (for
   * the ACL).
   */
  readonly tls?: {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly requireCertificate?: boolean;
    readonly useIdentityAsUsername?: boolean;
  };
  /** Contents of a Mosquitto acl_file to enforce. */
  readonly acl?: string;
}

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Starts the broker (again) on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** SIGTERM, then waits for the process to exit. Safe when already stopped. */
  stop(): Promise<void>;
  /** Stops the broker and deletes its directory. */
  dispose(): Promise<void>;
  /** The broker's recent log output, for failure messages. */
  output(): string;
}

/** Creates a broker without starting it (its port stays unused until start()). */
export async function createMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const binary = findBinary('mosquitto', ['/usr/sbin/mosquitto']);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mosquitto-'));
  const lines = [
    `listener ${port} 127.0.0.1`,
    // When the tests run as root Mosquitto would otherwise switch to the
    // "mosquitto" user, which cannot read this private temp directory.
    `user ${userInfo().username}`,
    `persistence ${options.persistence === true ? 'true' : 'false'}`,
    // 0 = no limit: with the default (1000) a slow subscriber silently loses QoS 1 messages.
    'max_queued_messages 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
  ];
  if (options.persistence === true) lines.push(`persistence_location ${dir}/`, 'autosave_interval 0');
  if (options.tls) {
    lines.push(
      `cafile ${options.tls.caFile}`,
      `certfile ${options.tls.certFile}`,
      `keyfile ${options.tls.keyFile}`,
      `require_certificate ${options.tls.requireCertificate === true ? 'true' : 'false'}`,
      `use_identity_as_username ${options.tls.useIdentityAsUsername === true ? 'true' : 'false'}`,
    );
  }
  if (options.acl !== undefined) {
    const aclFile = join(dir, 'acl');
    writeFileSync(aclFile, options.acl, { mode: 0o600 });
    lines.push(`acl_file ${aclFile}`);
  }
  if (options.auth) {
    const passwordFile = join(dir, 'passwd');
    writeFileSync(passwordFile, '', { mode: 0o600 });
    const passwd = findBinary('mosquitto_passwd', ['/usr/bin/mosquitto_passwd']);
    await run(passwd, ['-b', passwordFile, options.auth.username, options.auth.password]);
    chmodSync(passwordFile, 0o600);
    lines.push('allow_anonymous false', `password_file ${passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(configFile, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let output = '';

  const stop = async () => {
    const running = child;
    child = undefined;
    if (running !== undefined) await terminate(running);
  };
  const dispose = track(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    if (child !== undefined) throw new Error(`mosquitto on port ${port} is already running`);
    const spawned = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    liveChildren.add(spawned);
    spawned.once('exit', () => liveChildren.delete(spawned));
    spawned.once('error', () => undefined); // a spawn failure shows up as an early exit below
    const collect = (text: string) => {
      output = (output + text).slice(-8000);
    };
    spawned.stdout?.setEncoding('utf8').on('data', collect);
    spawned.stderr?.setEncoding('utf8').on('data', collect);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await accepts(port))) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) {
        child = undefined;
        throw new Error(`mosquitto exited before listening on ${port}:\n${output}`);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`mosquitto did not listen on ${port} within ${READY_TIMEOUT_MS} ms:\n${output}`);
      }
      await delay(POLL_MS);
    }
  };

  return {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    start,
    stop,
    dispose,
    output: () => output,
  };
}

/** Creates and starts a broker. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const broker = await createMosquitto(options);
  try {
    await broker.start();
  } catch (error) {
    await broker.dispose();
    throw error;
  }
  return broker;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), delay(EXIT_TIMEOUT_MS).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${file} failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}

// ---------------------------------------------------------------------------

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Client connections accepted so far (refused ones included). */
  readonly accepted: number;
  /** Destroys every open connection on both sides: no MQTT DISCONNECT, as in a network failure. */
  cut(): void;
  /** While on, new connections are closed as soon as they are accepted. */
  refuse(on: boolean): void;
  /** While on, bytes from the broker to the client are discarded (PUBACKs get lost). */
  dropDownstream(on: boolean): void;
  close(): Promise<void>;
}

/** A TCP proxy on a free 127.0.0.1 port in front of `targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let dropping = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted += 1;
    client.on('error', () => undefined);
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    upstream.on('error', () => undefined);
    sockets.add(client);
    sockets.add(upstream);
    const closeBoth = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (!dropping) client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const close = track(async () => {
    cut();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: address.port,
    url: `mqtt://127.0.0.1:${address.port}`,
    get accepted() {
      return accepted;
    },
    cut,
    refuse: (on) => {
      refusing = on;
    },
    dropDownstream: (on) => {
      dropping = on;
    },
    close,
  };
}

// ---------------------------------------------------------------------------

export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  /** Set by the broker when it redelivers to this subscriber (its own leg, not the publisher's). */
  readonly dup: boolean;
}

export interface SubscriberOptions {
  /** Needed with `clean: false` so the broker finds the session again. */
  readonly clientId?: string;
  /** false = persistent session: QoS 1 messages published while away are queued by the broker. */
  readonly clean?: boolean;
  readonly username?: string;
  readonly password?: string;
  /** PEM files for an mqtts:// broker: the CA to trust and, optionally, a client certificate. */
  readonly tls?: { readonly caFile: string; readonly certFile?: string; readonly keyFile?: string };
}

export interface Subscriber {
  /** Everything received, in arrival order. */
  readonly messages: readonly ReceivedMessage[];
  /** Messages on one topic, in arrival order. */
  on(topic: string): ReceivedMessage[];
  /** Resolves once `predicate(messages)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (messages: readonly ReceivedMessage[]) => boolean, timeoutMs: number, what?: string): Promise<void>;
  /**
   * Resolves once the broker has processed everything this subscriber sent
   * before (its PUBACKs included): a broker handles one connection's packets
   * in order, so the PUBACK of a fresh publish proves it.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** An mqtt.js client subscribed (QoS 1) to `topics`; resolves once the SUBACK arrived. */
export async function subscribe(url: string, topics: readonly string[], options: SubscriberOptions = {}): Promise<Subscriber> {
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  const client: MqttClient = connect(url, {
    clientId: options.clientId ?? `test-sub-${Math.random().toString(16).slice(2)}`,
    clean: options.clean ?? true,
    protocolVersion: 4,
    reconnectPeriod: 100,
    connectTimeout: 5_000,
    username: options.username,
    password: options.password,
    ...(options.tls === undefined
      ? {}
      : {
          ca: readFileSync(options.tls.caFile),
          ...(options.tls.certFile === undefined ? {} : { cert: readFileSync(options.tls.certFile) }),
          ...(options.tls.keyFile === undefined ? {} : { key: readFileSync(options.tls.keyFile) }),
        }),
  });
  client.on('error', () => undefined); // reconnects on its own; tests assert on messages
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, dup: packet.dup });
    for (const wake of waiters) wake();
  });
  const close = track(async () => {
    await new Promise<void>((resolve) => client.end(true, () => resolve()));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber could not connect to ${url}`)), READY_TIMEOUT_MS);
      client.once('connect', () => {
        client.subscribe([...topics], { qos: 1 }, (error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        });
      });
    });
  } catch (error) {
    await close();
    throw error;
  }

  return {
    messages,
    on: (topic) => messages.filter((m) => m.topic === topic),
    waitFor: (predicate, timeoutMs, what = 'messages') =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(messages)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${messages.length} message(s)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    sync: async () => {
      await client.publishAsync(`test/sync/${client.options.clientId ?? 'subscriber'}`, '', { qos: 1 });
    },
    close,
  };
}
