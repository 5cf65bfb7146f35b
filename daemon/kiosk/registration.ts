/**
 * On-the-spot visitor registration: a local visitor, the registration event
 * for the cloud (which notifies the host), and, when the site allows it, a
 * check-in through the same engine and journal as every other channel.
 */
import { randomUUID } from 'node:crypto';
import type { AccessPipeline, AccessResult, AccessSource } from '../access/access-pipeline.js';
import type { CredentialCache } from '../store/cache.js';
import { fingerprint, type CredentialHasher } from '../store/credential-hash.js';
import type { Journal } from '../store/journal.js';
import type { Logger } from '../runtime/logger.js';
import type { RegistrationEvent } from '../uplink/payloads.js';
import type { HostDirectory } from './host-directory.js';
import { LocalVisitors, type LocalVisitor } from './local-visitors.js';

export interface RegistrationRequest {
  readonly name: string;
  readonly email: string;
  readonly hostId: string;
}

export type RegistrationOutcome =
  | { readonly kind: 'registered'; readonly visitor: LocalVisitor; readonly checkin: AccessResult | null }
  | { readonly kind: 'refused'; readonly code: 'registration_off' | 'unknown_host' | 'already_registered'; readonly message: string };

export interface KioskRegistrationOptions {
  readonly siteId: string;
  readonly gatewayId: string;
  readonly topic: string;
  readonly pipeline: AccessPipeline;
  readonly cache: CredentialCache;
  readonly hasher: CredentialHasher;
  readonly journal: Journal;
  readonly visitors: LocalVisitors;
  readonly hosts: HostDirectory;
  readonly logger: Logger;
}

export class KioskRegistration {
  readonly #o: KioskRegistrationOptions;

  constructor(options: KioskRegistrationOptions) {
    this.#o = options;
  }

  /** Whether the site lets visitors register at the kiosk, and whether that checks them in. */
  policy(): 'off' | 'register' | 'register-and-checkin' {
    return this.#o.cache.settings()?.kioskRegistration ?? 'off';
  }

  register(source: AccessSource, kioskId: string, request: RegistrationRequest, at: number): RegistrationOutcome {
    const o = this.#o;
    const policy = this.policy();
    if (policy === 'off') return { kind: 'refused', code: 'registration_off', message: 'Registration at the kiosk is turned off at this site.' };
    const host = o.hosts.host(request.hostId);
    if (host === null) return { kind: 'refused', code: 'unknown_host', message: 'That host is not a member here.' };
    const emailLookup = o.hasher.emailLookup(request.email);
    if (o.cache.peopleByEmail(emailLookup).length > 0) {
      return {
        kind: 'refused',
        code: 'already_registered',
        message: 'You are already registered. Please check in with the code or QR code from your email.',
      };
    }

    // A second registration while the first visit is still valid is the same visit (a repeated form, a second try).
    const existing = o.visitors.activeByEmail(emailLookup, at);
    const visitor: LocalVisitor = existing ?? {
      id: `kiosk-${randomUUID()}`,
      name: request.name,
      hostId: host.id,
      kioskId,
      registeredAt: at,
      validTo: LocalVisitors.windowOf(at, o.pipeline.visitorTokenPolicy()),
    };
    if (existing === null) {
      const entry = o.journal.append('registration', o.topic, at, (stamp): RegistrationEvent => ({
        schema: 'gatehouse.registration/1',
        eventId: stamp.eventId,
        bootId: stamp.bootId,
        seq: stamp.seq,
        ts: new Date(at).toISOString(),
        siteId: o.siteId,
        gatewayId: o.gatewayId,
        registrationId: visitor.id,
        kioskId,
        visitor: { name: request.name, email: request.email },
        host: { id: host.id },
        termsAcceptedAt: new Date(at).toISOString(),
        checkinRequested: policy === 'register-and-checkin',
      }));
      o.visitors.add(visitor, emailLookup, entry.id);
      // The email is in the event for the cloud; never in the log.
      o.logger.info({ visitor: visitor.id, host: host.id, kiosk: kioskId, email: fingerprint(emailLookup) }, 'visitor registered at the kiosk');
    }
    if (policy !== 'register-and-checkin') return { kind: 'registered', visitor, checkin: null };
    // Registering is arriving: an entry, never a toggle that would check a repeated registration out.
    const entry: AccessSource = { ...source, mode: 'entry' };
    const evaluation = o.pipeline.evaluateFacts(entry, o.visitors.candidate(visitor), { kind: 'registration', fingerprint: fingerprint(emailLookup) }, { at });
    return { kind: 'registered', visitor, checkin: o.pipeline.commit(entry, evaluation) };
  }
}
