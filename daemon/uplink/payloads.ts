/**
 * What Gatehouse publishes, as zod schemas. They type the producers, validate
 * in tests, and are rendered to JSON Schema in docs/mqtt-contract.md so a
 * cloud team can implement its side from the document alone.
 */
import { z } from 'zod';

export const decisionReasonSchema = z.enum([
  'granted',
  'unknown_credential',
  'ambiguous_credential',
  'credential_not_valid',
  'person_inactive',
  'no_valid_pass',
  'outside_schedule',
  'door_locked_down',
  'cache_stale',
  'no_access_to_door',
  'plan_limit_reached',
  'anti_passback',
  'clock_untrusted',
  'network_checkin_not_allowed',
  'locked_out',
  'device_limit_reached',
]);

export const accessEventSchema = z
  .object({
    schema: z.literal('gatehouse.access/1'),
    eventId: z.string().describe('UUIDv7, unique per event; the cloud deduplicates by it.'),
    bootId: z.string().describe('Random id of the daemon run that decided.'),
    seq: z
      .number()
      .int()
      .positive()
      .describe('Per-gateway sequence number, increasing across reboots; a gap that persists means lost events.'),
    ts: z.string().describe('Decision time, ISO 8601 UTC with milliseconds.'),
    siteId: z.string(),
    gatewayId: z.string(),
    readerId: z.string(),
    doorId: z.string().nullable(),
    channel: z
      .enum(['door', 'wifi', 'kiosk', 'ble'])
      .describe('Where the credential was presented: a door reader, the Wi-Fi (RADIUS), the check-in kiosk, a BLE reader.'),
    credential: z
      .object({
        kind: z
          .enum(['card', 'keypad', 'ble', 'registration'])
          .describe(
            'ble: a beacon (presence check-in) or a phone tap token, identified by the BLE layer. registration: a visitor registered at the kiosk and was checked in (fingerprint: of their email).',
          ),
        fingerprint: z.string().describe('First 8 hex digits of the keyed hash: correlates reads, reveals nothing.'),
      })
      .strict(),
    person: z
      .object({ id: z.string(), kind: z.enum(['member', 'contact', 'visitor']) })
      .strict()
      .nullable()
      .describe('Whose credential it was; null when unknown or ambiguous.'),
    decision: z
      .object({
        outcome: z.enum(['granted', 'denied']),
        reason: decisionReasonSchema,
      })
      .strict(),
    checkin: z
      .enum(['checked_in', 'checked_out', 'failed', 'none'])
      .describe('Effect on presence: failed = a check-in attempt without a valid pass (the platform\'s "failed check-in").'),
    sessionId: z.string().nullable().describe('Check-in session opened or closed by this event.'),
    unlockMs: z.number().int().nonnegative().describe('How long the door was unlocked; 0 when it was not.'),
    flags: z
      .array(z.enum(['anti_passback_soft', 'anti_passback_degraded', 'clock_untrusted', 'extended_unlock']))
      .describe(
        'Remarks that did not change the outcome: anti_passback_soft = entered again without leaving (or left without entering) under a soft rule; anti_passback_degraded = a hard rule let it pass because the data may be stale; clock_untrusted = the system clock was not synchronised; extended_unlock = the accessibility pulse was used.',
      ),
    cache: z
      .object({
        version: z.number().int().nonnegative().describe('Cloud data version of the cache the decision was made on; 0 = never synced.'),
        syncedAt: z.string().nullable().describe('Last successful sync before the decision, ISO 8601 UTC; null = never.'),
        ageS: z.number().int().nonnegative().nullable().describe('Seconds from syncedAt to the decision; null = never synced.'),
        stale: z.boolean().describe('Whether the decision was made on stale data (no sync for cloud.staleAfterHours).'),
      })
      .strict(),
  })
  .strict();

const eventStamp = {
  eventId: z.string().describe('UUIDv7, unique per event; the cloud deduplicates by it.'),
  bootId: z.string().describe('Random id of the daemon run that wrote the event.'),
  seq: z.number().int().positive().describe('Per-gateway sequence number, shared by all event topics.'),
  ts: z.string().describe('When it happened, ISO 8601 UTC with milliseconds.'),
  siteId: z.string(),
  gatewayId: z.string(),
};

export const checkoutEventSchema = z
  .object({
    schema: z.literal('gatehouse.checkout/1'),
    ...eventStamp,
    person: z.object({ id: z.string() }).strict(),
    sessionId: z.string().describe('The check-in session closed (opened by an access event with the same sessionId).'),
    openedAt: z.string().describe('When the session was opened, ISO 8601 UTC.'),
    reason: z
      .enum(['daily_cutoff', 'inactivity', 'remote'])
      .describe("Why the gateway checked the person out: the site's daily cut-off, Wi-Fi inactivity, or a remote command."),
  })
  .strict()
  .describe('A check-out the gateway made on its own (a check-out by a credential is an access event).');

export const conflictReportSchema = z
  .object({
    schema: z.literal('gatehouse.conflicts/1'),
    ...eventStamp,
    cacheVersion: z.number().int().nonnegative(),
    conflicts: z
      .array(
        z
          .object({
            namespace: z.enum(['card', 'code']).describe('code = PINs and visitor codes, which share the keypads.'),
            fingerprint: z.string().describe('First 8 hex digits of the keyed hash of the shared value.'),
            personIds: z.array(z.string()).min(2),
            credentialIds: z.array(z.string()).min(2),
          })
          .strict(),
      )
      .describe('Every card and keypad code held by more than one person; all of them are refused (ambiguous_credential) until the data is fixed. Empty when the last conflict is gone.'),
  })
  .strict()
  .describe('Published when the set of credential conflicts in the synced data changes.');
export const registrationEventSchema = z
  .object({
    schema: z.literal('gatehouse.registration/1'),
    ...eventStamp,
    registrationId: z.string().describe('Id of the local visitor (kiosk-<uuid>); the access event of the check-in names it as person.id.'),
    kioskId: z.string().describe('The paired kiosk the visitor registered at.'),
    visitor: z
      .object({
        name: z.string().min(1).max(200),
        email: z.string().min(3).max(254).describe('Where the cloud sends the visitor their registration email. Not a credential; never logged by the gateway.'),
      })
      .strict(),
    host: z.object({ id: z.string().describe('Person id of the member or contact the visitor came to see: notify them.') }).strict(),
    termsAcceptedAt: z.string().describe('When the visitor accepted the terms shown at the kiosk, ISO 8601 UTC.'),
    checkinRequested: z
      .boolean()
      .describe('The site allows register-and-checkin: an access event for person registrationId (credential kind registration) follows with the outcome.'),
  })
  .strict()
  .describe('A visitor registered on the spot at a kiosk: create the visit and notify the host.');

export const alarmEventSchema = z
  .object({
    schema: z.literal('gatehouse.alarm/1'),
    eventId: z.string().describe('UUIDv7, unique per event; the cloud deduplicates by it.'),
    bootId: z.string().describe('Random id of the daemon run that raised the alarm.'),
    seq: z.number().int().positive().describe('Per-gateway sequence number, shared with access events.'),
    ts: z.string().describe('When the alarm was raised, ISO 8601 UTC with milliseconds.'),
    siteId: z.string(),
    gatewayId: z.string(),
    type: z
      .enum(['duress', 'lockout_started', 'lockout_ended', 'tamper', 'tamper_restored', 'power_failure', 'power_restored'])
      .describe(
        'duress: a duress code was typed (silent: the reader behaved as for the real PIN). lockout_*: a code source was locked out for guessing, or its lockout ended. tamper / power_failure: a reader reported its tamper switch open or its power failing (OSDP), *_restored when that ended.',
      ),
    priority: z.enum(['high', 'normal']).describe('high for duress and tamper: page someone now. normal otherwise.'),
    source: z.string().describe('Where it came from: keypad:<readerId>, radius:<client>, kiosk:<id>, or device:<readerId> for tamper and power.'),
    readerId: z.string().nullable().describe('Reader of a duress code; null for lockouts (see source).'),
    doorId: z.string().nullable().describe('Door of that reader; null when none.'),
    person: z
      .object({ id: z.string(), kind: z.enum(['member', 'contact', 'visitor']) })
      .strict()
      .nullable()
      .describe('duress: whose PIN the duress code belongs to (null if that PIN is ambiguous). Null for lockouts.'),
    accessEventId: z.string().nullable().describe('duress: eventId of the access event of the same entry (its decision is what the reader did). Null otherwise.'),
    lockout: z
      .object({
        durationS: z.number().nonnegative().describe('Length of the lockout (started: planned; ended: served).'),
        level: z.number().int().positive().describe('1 for the first lockout in a row; each further one is longer (guessing.growthFactor), up to guessing.maxLockoutS.'),
        failures: z.number().int().nonnegative().describe('Wrong codes that triggered it (started); 0 for ended.'),
      })
      .strict()
      .nullable()
      .describe('lockout_started and lockout_ended only.'),
  })
  .strict();

export const gatewayStatusSchema = z
  .object({
    schema: z.literal('gatehouse.status/1'),
    state: z
      .enum(['online', 'offline'])
      .describe('online: published on every connect. offline: graceful stop, or the Last Will published by the broker.'),
    gatewayId: z.string(),
    siteId: z.string(),
    bootId: z.string().describe('Random id of the daemon run; a new value on online means the gateway restarted.'),
    version: z.string().describe('Gatehouse software version.'),
    ts: z
      .string()
      .describe('ISO 8601 UTC. For the Last Will: when the connection carrying it was opened, not when it was published.'),
    devices: z
      .array(
        z
          .object({
            id: z.string().describe('Reader id, or door:<id> for a relay, door:<id>:contact / door:<id>:rex for an input.'),
            kind: z.enum(['reader', 'relay', 'input']),
            state: z.enum(['starting', 'online', 'offline', 'stopped']),
            since: z.string().describe('When it entered this state, ISO 8601 UTC.'),
            lastError: z.string().nullable().describe('Why it is offline (never a credential value).'),
          })
          .strict(),
      )
      .optional()
      .describe('online only: every configured device and whether it works; republished (retained) whenever one changes state. Absent from the Last Will.'),
  })
  .strict();

export const siteStateSchema = z
  .object({
    schema: z.literal('gatehouse.state/1'),
    gatewayId: z.string(),
    siteId: z.string(),
    ts: z.string().describe('When this state was taken, ISO 8601 UTC.'),
    doors: z.array(
      z
        .object({
          id: z.string(),
          name: z.string(),
          lock: z.enum(['locked', 'unlocked']).describe('What the lock is doing now (a pulse, a held-open mode).'),
          mode: z.enum(['normal', 'unlocked', 'locked-down']),
          open: z.boolean().nullable().describe('The door contact: true = open; null without a contact or while it is unknown.'),
          alarm: z.string().nullable().describe('forced-open, held-open-prealarm or held-open while that alarm stands; null otherwise.'),
        })
        .strict(),
    ),
    occupancy: z.number().int().nonnegative().describe('People checked in now.'),
  })
  .strict()
  .describe('The live state of the doors and the site, retained: dashboards (and Home Assistant discovery) read it instead of polling.');

export const doorEventSchema = z
  .object({
    schema: z.literal('gatehouse.door/1'),
    eventId: z.string().describe('UUIDv7, unique per event; the cloud deduplicates by it.'),
    bootId: z.string().describe('Random id of the daemon run that saw the event.'),
    seq: z.number().int().positive().describe('Per-gateway sequence number, shared with access and command events.'),
    ts: z.string().describe('When the gateway saw the event, ISO 8601 UTC with milliseconds.'),
    siteId: z.string(),
    gatewayId: z.string(),
    doorId: z.string(),
    event: z
      .enum(['forced-open', 'held-open-prealarm', 'held-open', 'closed-after-alarm', 'rex', 'mode-changed', 'input-fault'])
      .describe(
        'forced-open: the contact opened while locked, without a grant or REX. held-open-prealarm / held-open: an authorised opening lasts heldOpenS - preAlarmS / heldOpenS. closed-after-alarm: the door closed after one of those alarms. rex: the request-to-exit input was pressed. mode-changed: see mode. input-fault: the contact or REX input was lost (see input).',
      ),
    mode: z.enum(['normal', 'unlocked', 'locked-down']).describe('Door mode when the event happened (the new mode for mode-changed).'),
    alarm: z
      .enum(['forced-open', 'held-open-prealarm', 'held-open'])
      .nullable()
      .describe('The alarm raised, or for closed-after-alarm the alarm that ended; null for other events.'),
    input: z.enum(['contact', 'rex']).nullable().describe('The input that failed (input-fault); null for other events.'),
    openS: z
      .number()
      .int()
      .nonnegative()
      .nullable()
      .describe('Seconds the door had been open (held-open alarms, closed-after-alarm), when known.'),
  })
  .strict();

export type DoorEvent = z.infer<typeof doorEventSchema>;
export type DecisionReason = z.infer<typeof decisionReasonSchema>;
export type CheckoutEvent = z.infer<typeof checkoutEventSchema>;
export type SiteState = z.infer<typeof siteStateSchema>;
export type DeviceAvailability = NonNullable<z.infer<typeof gatewayStatusSchema>['devices']>[number];
export type ConflictReport = z.infer<typeof conflictReportSchema>;
export type AccessEvent = z.infer<typeof accessEventSchema>;
export type AlarmEvent = z.infer<typeof alarmEventSchema>;
export type RegistrationEvent = z.infer<typeof registrationEventSchema>;
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;
