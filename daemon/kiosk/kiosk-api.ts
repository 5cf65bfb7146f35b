/**
 * The kiosk API (/api/v1, docs/kiosk-api.md) independent of HTTP: a parsed
 * request in, a status and JSON body out. Authentication, rate limits and
 * validation happen here, in that order, before anything is decided.
 */
import type { AccessPipeline, AccessResult, AccessSource } from '../access/access-pipeline.js';
import type { ReaderDriver } from '../../drivers/types.js';
import type { Logger } from '../runtime/logger.js';
import { SecretValue } from '../runtime/secret.js';
import { API_VERSION, checkinRequestSchema, firstIssue, pairRequestSchema, registrationRequestSchema } from './api-schemas.js';
import type { HostDirectory } from './host-directory.js';
import type { KioskRecord, KioskRegistry } from './kiosk-registry.js';
import type { LocalVisitors } from './local-visitors.js';
import type { PairingCodes } from './pairing-codes.js';
import { parseQrContent } from './qr-content.js';
import { RateLimiter } from './rate-limiter.js';
import type { KioskRegistration } from './registration.js';
import { resultMessage } from './result-messages.js';

export interface ApiRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  /** Parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  readonly ip: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the kiosk shows after a check-in: the decision and the words for it. */
export interface KioskResult {
  readonly outcome: 'granted' | 'denied';
  readonly reason: string;
  readonly checkin: string;
  readonly title: string;
  readonly detail: string;
  readonly next: string;
}

export interface KioskApiOptions {
  readonly siteName: string;
  readonly resultSeconds: number;
  readonly terms: string;
  readonly doorId: string | null;
  readonly area: string | null;
  readonly rateLimit: { readonly perIpPerMinute: number; readonly perKioskPerMinute: number; readonly pairingPerMinute: number };
  readonly pipeline: AccessPipeline;
  readonly registry: KioskRegistry;
  readonly pairing: PairingCodes;
  readonly registration: KioskRegistration;
  readonly hosts: HostDirectory;
  readonly visitors: LocalVisitors;
  readonly logger: Logger;
  readonly now?: () => number;
}

const error = (status: number, code: string, message: string, headers?: Record<string, string>): ApiResponse => ({
  status,
  body: { error: { code, message } },
  ...(headers === undefined ? {} : { headers }),
});

const PREFIX = `/api/${API_VERSION}`;
/** Scanner results kept for tablets polling /scans. */
const SCANS_KEPT = 20;

export class KioskApi {
  readonly #o: KioskApiOptions;
  readonly #now: () => number;
  readonly #perIp: RateLimiter;
  readonly #perKiosk: RateLimiter;
  readonly #pairingPerIp: RateLimiter;
  readonly #scans: { seq: number; at: number; result: KioskResult }[] = [];
  #scanSeq = 0;

  constructor(options: KioskApiOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#perIp = new RateLimiter(options.rateLimit.perIpPerMinute);
    this.#perKiosk = new RateLimiter(options.rateLimit.perKioskPerMinute);
    this.#pairingPerIp = new RateLimiter(options.rateLimit.pairingPerMinute);
  }

  /** The source a kiosk's check-ins are decided at; its typed codes are guarded as kiosk:<id>. */
  sourceOf(kioskId: string): AccessSource {
    return { id: `kiosk:${kioskId}`, channel: 'kiosk', mode: 'toggle', doorId: this.#o.doorId, area: this.#o.area, driver: 'kiosk' };
  }

  handle(request: ApiRequest): ApiResponse {
    const at = this.#now();
    const ipLimit = this.#perIp.take(request.ip, at);
    if (!ipLimit.allowed) return this.#tooMany(ipLimit.retryAfterS);
    if (!request.path.startsWith(`${PREFIX}/`)) return error(404, 'not_found', `unknown API path; this gateway speaks ${PREFIX}`);
    const route = `${request.method} ${request.path.slice(PREFIX.length)}`;

    if (route === 'POST /pair') return this.#pair(request, at);
    const known = ['GET /kiosk', 'POST /checkin', 'GET /hosts', 'POST /registrations', 'GET /scans'];
    if (!known.includes(route)) {
      const pathKnown = known.some((r) => r.endsWith(` ${request.path.slice(PREFIX.length)}`));
      return pathKnown ? error(405, 'method_not_allowed', `${request.method} is not allowed here`) : error(404, 'not_found', 'unknown API path');
    }

    const auth = this.#o.registry.authenticate(bearerOf(request.authorization), at);
    if (!auth.ok) {
      const messages = {
        missing: 'this kiosk is not paired: send Authorization: Bearer <token>',
        invalid: 'the token is not valid: pair this kiosk again',
        revoked: 'this kiosk was unpaired by a technician: pair it again',
      } as const;
      return error(401, auth.reason === 'revoked' ? 'kiosk_revoked' : 'unauthorized', messages[auth.reason], { 'WWW-Authenticate': 'Bearer' });
    }
    const kiosk = auth.kiosk;
    switch (route) {
      case 'GET /kiosk':
        return { status: 200, body: this.#describe(kiosk) };
      case 'GET /scans':
        return this.#scansAfter(request.query.get('after'));
    }
    const kioskLimit = this.#perKiosk.take(kiosk.id, at);
    if (!kioskLimit.allowed) return this.#tooMany(kioskLimit.retryAfterS);
    switch (route) {
      case 'POST /checkin':
        return this.#checkin(kiosk, request.body);
      case 'GET /hosts':
        return { status: 200, body: { hosts: this.#o.hosts.search(request.query.get('q') ?? '') } };
      case 'POST /registrations':
        return this.#register(kiosk, request.body, at);
      default:
        return error(404, 'not_found', 'unknown API path');
    }
  }

  /** Decide a QR code read by a scanner at the gateway and show it on the tablets (config kiosk.scanners). */
  attachScanner(readerId: string, driver: ReaderDriver): void {
    const source: AccessSource = { ...this.sourceOf(`scanner-${readerId}`), driver: 'kiosk-scanner' };
    driver.onRead((credential) => {
      try {
        // Scanners type text; a line reader delivers it as the "card" it read.
        const text = credential.kind === 'card' ? credential.number.reveal() : credential.kind === 'keypad' ? credential.code.reveal() : '';
        const result = this.#decideQr(source, text);
        driver.feedback?.(result.outcome === 'granted' ? 'granted' : 'denied');
        this.#scans.push({ seq: ++this.#scanSeq, at: this.#now(), result });
        if (this.#scans.length > SCANS_KEPT) this.#scans.shift();
      } catch (err) {
        this.#o.logger.error({ err, reader: readerId }, 'failed to handle a kiosk scanner read');
      }
    });
  }

  #pair(request: ApiRequest, at: number): ApiResponse {
    const limit = this.#pairingPerIp.take(request.ip, at);
    if (!limit.allowed) return this.#tooMany(limit.retryAfterS);
    const parsed = pairRequestSchema.safeParse(request.body);
    if (!parsed.success) return error(400, 'bad_request', firstIssue(parsed.error));
    const name = this.#o.pairing.redeem(parsed.data.code, at);
    if (name === null) {
      this.#o.logger.warn({ ip: request.ip }, 'kiosk pairing refused: unknown, used or expired code');
      return error(403, 'pairing_refused', 'this pairing code is wrong, used or expired: run `gatehouse kiosk pair` for a new one');
    }
    const { kiosk, token } = this.#o.registry.create(name, at);
    this.#o.logger.info({ kiosk: kiosk.id, name, ip: request.ip }, 'kiosk paired');
    return { status: 201, body: { token, kiosk: this.#describe(kiosk) } };
  }

  #describe(kiosk: KioskRecord): unknown {
    return {
      id: kiosk.id,
      name: kiosk.name,
      site: this.#o.siteName,
      resultSeconds: this.#o.resultSeconds,
      registration: this.#o.registration.policy(),
      terms: this.#o.terms,
      scansAfter: this.#scanSeq,
    };
  }

  #checkin(kiosk: KioskRecord, body: unknown): ApiResponse {
    const parsed = checkinRequestSchema.safeParse(body);
    if (!parsed.success) return error(400, 'bad_request', firstIssue(parsed.error));
    const source = this.sourceOf(kiosk.id);
    const request = parsed.data;
    if (request.method === 'pin') return { status: 200, body: this.#decideCode(source, request.code) };
    return { status: 200, body: this.#decideQr(source, request.content) };
  }

  #decideQr(source: AccessSource, text: string): KioskResult {
    const qr = parseQrContent(text);
    if (!qr.ok) {
      return {
        outcome: 'denied',
        reason: 'invalid_qr',
        checkin: 'none',
        title: 'Not a check-in code',
        detail: `This QR code cannot be used here: ${qr.error}.`,
        next: 'Show the QR code from your registration email, or type your code.',
      };
    }
    return this.#decideCode(source, qr.code);
  }

  #decideCode(source: AccessSource, code: string): KioskResult {
    const result = this.#o.pipeline.present(source, { kind: 'keypad', code: new SecretValue(code) });
    return this.#resultOf(result);
  }

  #resultOf(result: AccessResult): KioskResult {
    const { decision } = result;
    const personId = decision.person?.id ?? null;
    const name = personId === null ? null : (this.#o.hosts.nameOf(personId) ?? this.#o.visitors.byId(personId)?.name ?? null);
    return { outcome: decision.outcome, reason: decision.reason, checkin: decision.checkin, ...resultMessage(decision, name) };
  }

  #register(kiosk: KioskRecord, body: unknown, at: number): ApiResponse {
    const parsed = registrationRequestSchema.safeParse(body);
    if (!parsed.success) return error(400, 'bad_request', firstIssue(parsed.error));
    const outcome = this.#o.registration.register(this.sourceOf(kiosk.id), kiosk.id, parsed.data, at);
    if (outcome.kind === 'refused') {
      const status = outcome.code === 'registration_off' ? 403 : outcome.code === 'unknown_host' ? 422 : 409;
      return error(status, outcome.code, outcome.message);
    }
    const host = this.#o.hosts.host(outcome.visitor.hostId)?.name ?? null;
    const hostFirst = host?.trim().split(/\s+/)[0] ?? 'your host';
    if (outcome.checkin === null) {
      return {
        status: 201,
        body: {
          outcome: 'registered',
          reason: 'registered',
          checkin: 'none',
          title: `Thank you, ${outcome.visitor.name.split(/\s+/)[0] ?? ''}`,
          detail: `You are registered and we let ${hostFirst} know you are here.`,
          next: 'Please wait at reception.',
        },
      };
    }
    const result = this.#resultOf(outcome.checkin);
    const notified = `We let ${hostFirst} know you are here.`;
    return { status: 201, body: { ...result, detail: result.outcome === 'granted' ? `${result.detail} ${notified}` : result.detail } };
  }

  #scansAfter(after: string | null): ApiResponse {
    const n = after === null ? 0 : Number(after);
    if (!Number.isSafeInteger(n) || n < 0) return error(400, 'bad_request', 'after: a non-negative integer');
    return { status: 200, body: { latest: this.#scanSeq, scans: this.#scans.filter((s) => s.seq > n).map((s) => ({ seq: s.seq, at: new Date(s.at).toISOString(), result: s.result })) } };
  }

  #tooMany(retryAfterS: number): ApiResponse {
    return error(429, 'rate_limited', `too many requests: try again in ${retryAfterS} s`, { 'Retry-After': String(retryAfterS) });
  }
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
