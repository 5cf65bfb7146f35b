/**
 * The RADIUS transport: two UDP sockets (authentication and accounting),
 * the configured clients and their shared secrets, packet checks, the
 * duplicate cache and the per-client rate limit. What a request means is the
 * handler's business (wifi-checkin.ts); this only lets through requests that
 * are provably from a configured client and signs what goes back.
 *
 * Anything else is dropped without an answer, as RFC 2865 requires (an answer
 * would tell a prober which secrets are wrong), and counted by reason with a
 * log line that names the source and the reason, never a secret.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { BlockList, isIPv6 } from 'node:net';
import type { Logger } from '../runtime/logger.js';
import type { SecretValue } from '../runtime/secret.js';
import { signReply, verifyAccountingRequest, verifyRequestMessageAuthenticator } from './radius-auth.js';
import { Attr, RadiusCode, RadiusFormatError, codeName, decodePacket, type RadiusAttribute, type RadiusPacket } from './radius-packet.js';
import { TokenBuckets, type BucketRate } from './token-bucket.js';

export interface RadiusClientConfig {
  readonly name: string;
  /** An IP or a CIDR block. */
  readonly address: string;
  readonly secret: SecretValue;
}

export interface RadiusClient {
  readonly name: string;
  readonly secret: SecretValue;
}

export type RadiusService = 'auth' | 'acct';

export interface RadiusRequest {
  readonly service: RadiusService;
  readonly client: RadiusClient;
  readonly packet: RadiusPacket;
  readonly from: { readonly address: string; readonly port: number };
}

export interface RadiusReply {
  readonly code: number;
  readonly attributes: readonly RadiusAttribute[];
}

/** Decide a verified request. Null: no answer (the request is ignored). */
export type RadiusHandler = (request: RadiusRequest) => RadiusReply | null;

export type DropReason =
  | 'unknown_client'
  | 'malformed'
  | 'unexpected_code'
  | 'missing_message_authenticator'
  | 'bad_message_authenticator'
  | 'bad_authenticator'
  | 'rate_limited'
  | 'handler_error';

export interface RadiusServerOptions {
  readonly host: string;
  /** 0 = any free port (tests); see ports(). */
  readonly authPort: number;
  readonly acctPort: number;
  readonly clients: readonly RadiusClientConfig[];
  readonly handler: RadiusHandler;
  readonly logger: Logger;
  readonly duplicateWindowMs: number;
  readonly perClient: BucketRate;
  /** Monotonic milliseconds (duplicate window, rate limits). */
  readonly monotonic?: () => number;
}

export interface RadiusCounters {
  received: number;
  answered: number;
  duplicates: number;
  dropped: Partial<Record<DropReason, number>>;
}

interface CachedReply {
  readonly bytes: Buffer;
  readonly at: number;
}

/** Entries above this are evicted oldest first, whatever their age. */
const DUPLICATE_CACHE_MAX = 10_000;
/** One warning per drop reason and source in this interval; the counters keep the rest. */
const DROP_LOG_INTERVAL_MS = 60_000;

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d. */
const plainAddress = (address: string): string => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

export class RadiusServer {
  readonly #o: RadiusServerOptions;
  readonly #now: () => number;
  readonly #clients: { client: RadiusClient; match: BlockList }[];
  readonly #replies = new Map<string, CachedReply>();
  readonly #rates: TokenBuckets;
  readonly #dropLogged = new Map<string, number>();
  readonly #counters: RadiusCounters = { received: 0, answered: 0, duplicates: 0, dropped: {} };
  #sockets: Partial<Record<RadiusService, Socket>> = {};

  constructor(options: RadiusServerOptions) {
    this.#o = options;
    this.#now = options.monotonic ?? (() => performance.now());
    this.#rates = new TokenBuckets(options.perClient, this.#now);
    this.#clients = options.clients.map((c) => {
      const match = new BlockList();
      const [ip = '', bits] = c.address.split('/');
      const family = isIPv6(ip) ? 'ipv6' : 'ipv4';
      if (bits === undefined) match.addAddress(ip, family);
      else match.addSubnet(ip, Number(bits), family);
      return { client: { name: c.name, secret: c.secret }, match };
    });
  }

  async start(): Promise<void> {
    for (const service of ['auth', 'acct'] as const) {
      const socket = createSocket({ type: isIPv6(this.#o.host) ? 'udp6' : 'udp4' });
      socket.on('message', (msg, rinfo) => this.#receive(service, msg, rinfo));
      socket.on('error', (err) => this.#o.logger.error({ err, service }, 'RADIUS socket error'));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(service === 'auth' ? this.#o.authPort : this.#o.acctPort, this.#o.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      this.#sockets[service] = socket;
    }
    this.#o.logger.info({ ...this.ports(), clients: this.#clients.map((c) => c.client.name) }, 'RADIUS server listening');
  }

  /** The bound ports (useful with port 0). */
  ports(): { authPort: number; acctPort: number } {
    return { authPort: this.#sockets.auth?.address().port ?? 0, acctPort: this.#sockets.acct?.address().port ?? 0 };
  }

  async stop(): Promise<void> {
    const sockets = Object.values(this.#sockets);
    this.#sockets = {};
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  counters(): RadiusCounters {
    return { ...this.#counters, dropped: { ...this.#counters.dropped } };
  }

  #receive(service: RadiusService, datagram: Buffer, rinfo: RemoteInfo): void {
    this.#counters.received++;
    const from = { address: plainAddress(rinfo.address), port: rinfo.port };
    const client = this.#clientAt(from.address);
    if (client === null) return this.#drop('unknown_client', from.address, service);
    let packet: RadiusPacket;
    try {
      packet = decodePacket(datagram);
    } catch (error) {
      if (!(error instanceof RadiusFormatError)) throw error;
      return this.#drop('malformed', from.address, service, client, error.message);
    }
    const expected = service === 'auth' ? RadiusCode.AccessRequest : RadiusCode.AccountingRequest;
    if (packet.code !== expected) return this.#drop('unexpected_code', from.address, service, client, codeName(packet.code));
    const refusal = this.#verify(packet, client);
    if (refusal !== null) return this.#drop(refusal, from.address, service, client);

    // RFC 5080 §2.2.2: a retransmission gets the same answer, not a second decision.
    const key = `${service}|${from.address}|${from.port}|${packet.identifier}|${packet.authenticator.toString('hex')}`;
    const now = this.#now();
    this.#expireReplies(now);
    const cached = this.#replies.get(key);
    if (cached !== undefined) {
      this.#counters.duplicates++;
      this.#send(service, cached.bytes, from);
      return;
    }
    if (!this.#rates.take(client.name)) return this.#drop('rate_limited', from.address, service, client);

    let reply: RadiusReply | null;
    try {
      reply = this.#o.handler({ service, client, packet, from });
    } catch (error) {
      this.#o.logger.error({ err: error, client: client.name, service }, 'RADIUS request handling failed');
      return this.#drop('handler_error', from.address, service, client);
    }
    if (reply === null) return;
    const bytes = signReply(packet, reply.code, reply.attributes, client.secret);
    this.#replies.set(key, { bytes, at: now });
    if (this.#replies.size > DUPLICATE_CACHE_MAX) {
      const oldest = this.#replies.keys().next().value;
      if (oldest !== undefined) this.#replies.delete(oldest);
    }
    this.#send(service, bytes, from);
  }

  #verify(packet: RadiusPacket, client: RadiusClient): DropReason | null {
    const hasMa = packet.attributes.some((a) => a.type === Attr.MessageAuthenticator);
    if (packet.code === RadiusCode.AccessRequest) {
      // BlastRADIUS: an Access-Request must carry a valid Message-Authenticator.
      if (!hasMa) return 'missing_message_authenticator';
      return verifyRequestMessageAuthenticator(packet, client.secret) ? null : 'bad_message_authenticator';
    }
    if (!verifyAccountingRequest(packet, client.secret)) return 'bad_authenticator';
    if (hasMa && !verifyRequestMessageAuthenticator(packet, client.secret)) return 'bad_message_authenticator';
    return null;
  }

  #send(service: RadiusService, bytes: Buffer, to: { address: string; port: number }): void {
    const socket = this.#sockets[service];
    if (socket === undefined) return;
    this.#counters.answered++;
    socket.send(bytes, to.port, to.address, (err) => {
      if (err) this.#o.logger.warn({ err, service, to: to.address }, 'could not send a RADIUS reply');
    });
  }

  #clientAt(address: string): RadiusClient | null {
    const family = isIPv6(address) ? 'ipv6' : 'ipv4';
    return this.#clients.find((c) => c.match.check(address, family))?.client ?? null;
  }

  #expireReplies(now: number): void {
    for (const [key, entry] of this.#replies) {
      if (now - entry.at < this.#o.duplicateWindowMs) break;
      this.#replies.delete(key);
    }
  }

  #drop(reason: DropReason, address: string, service: RadiusService, client?: RadiusClient, detail?: string): void {
    this.#counters.dropped[reason] = (this.#counters.dropped[reason] ?? 0) + 1;
    const key = `${reason}|${address}`;
    const now = this.#now();
    const last = this.#dropLogged.get(key);
    if (last !== undefined && now - last < DROP_LOG_INTERVAL_MS) return;
    if (this.#dropLogged.size > 1_024) this.#dropLogged.clear();
    this.#dropLogged.set(key, now);
    this.#o.logger.warn(
      { reason, from: address, service, client: client?.name, detail, dropped: this.#counters.dropped[reason] },
      'RADIUS request dropped',
    );
  }
}
