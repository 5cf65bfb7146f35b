/**
 * The data set the cloud sends: people with their credentials and
 * entitlements, the site settings, and the cloud's door and schedule records.
 * The same shape arrives as a chunked snapshot over MQTT, from
 * `gatehouse sync import`, and as a seed file; all of them are staged and
 * swapped in by store/cache-writer.ts.
 *
 * Credential values travel in plaintext inside the (signed, TLS-protected)
 * message and are hashed on arrival; they are never stored.
 */
import { z } from 'zod';
import { scheduleSchema } from '../config/schema.js';

export const isoInstant = z
  .string()
  .max(64)
  .refine((s) => !Number.isNaN(Date.parse(s)) && /[zZ]|[+-]\d\d:\d\d$/.test(s), 'expected an ISO 8601 instant with a zone, e.g. 2026-01-01T00:00:00Z');

export const cloudId = z.string().min(1).max(128);

export const credentialRecordSchema = z
  .object({
    id: cloudId,
    kind: z
      .enum(['card', 'pin', 'visitor_code', 'ble_beacon', 'ble_key'])
      .describe(
        'ble_beacon: a static beacon the person carries, for presence check-in only (never opens a door). ble_key: the key of the phone\'s rolling tap token (docs/ble-tap.md).',
      ),
    value: z
      .string()
      .min(1)
      .max(64)
      .describe(
        'Plaintext card number, PIN or visitor code; a beacon id ("ibeacon:<uuid>:<major>:<minor>", "eddystone:<namespace>:<instance>", "altbeacon:<id1>:<id2>:<id3>"); or a tap key "<key id, 8 hex>:<base64 of 32 bytes>". Hashed with the site key on arrival (a tap key is stored encrypted), never stored in plaintext.',
      ),
    validFrom: isoInstant.nullable().default(null),
    validTo: isoInstant.nullable().default(null),
    status: z.enum(['active', 'revoked']).default('active'),
  })
  .strict();

export const entitlementRecordSchema = z
  .object({
    id: cloudId,
    kind: z.enum(['plan', 'day_pass', 'time_pass', 'visitor_token']),
    name: z.string().max(200).default(''),
    validFrom: isoInstant.nullable().default(null),
    validTo: isoInstant.nullable().default(null),
    minutesLeft: z.number().int().nonnegative().nullable().default(null).describe('Remaining minutes of a time pass; null = not metered.'),
    monthlyHours: z
      .number()
      .int()
      .positive()
      .max(744)
      .nullable()
      .default(null)
      .describe("A plan's limit of checked-in hours per calendar month in the site time zone (the platform's HoursMonthLimit); null = unlimited."),
    monthlyCheckins: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .nullable()
      .default(null)
      .describe("A plan's limit of check-ins per calendar month (the platform's CheckinMonthLimit); null = unlimited."),
    doors: z
      .array(cloudId)
      .max(1_000)
      .nullable()
      .default(null)
      .describe('Door ids this entitlement opens; null = every door of the site. Check-in without a door is always covered.'),
  })
  .strict();

export const usageRecordSchema = z
  .object({
    periodStart: isoInstant.describe('Start of the calendar month (site time zone) the counters are for.'),
    checkins: z.number().int().nonnegative().describe('Check-ins the cloud counted this month.'),
    minutes: z.number().int().nonnegative().describe('Checked-in minutes the cloud counted this month.'),
    asOf: isoInstant.describe('When the cloud computed the counters; local check-ins after this instant are added.'),
  })
  .strict();

export const personRecordSchema = z
  .object({
    id: cloudId,
    kind: z.enum(['member', 'contact', 'visitor']),
    name: z.string().max(200),
    status: z.enum(['active', 'suspended', 'archived']),
    hostId: cloudId.nullable().default(null),
    alwaysAllowed: z
      .boolean()
      .default(false)
      .describe('Member of the always-allowed group (site staff): keeps access when the cache is stale and cloud.stalePolicy is always-allowed-only.'),
    expectedArrival: isoInstant
      .nullable()
      .default(null)
      .describe("A visitor's expected arrival: the start of the visitor token when settings.visitorTokenStart is expected-arrival."),
    email: z
      .string()
      .max(320)
      .regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address')
      .nullable()
      .default(null)
      .describe('Email the person signs in to the Wi-Fi and the kiosk with; stored only as a keyed hash (case-insensitive).'),
    deviceLimit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .nullable()
      .default(null)
      .describe("Maximum Wi-Fi devices for this person, overriding settings.deviceLimit (the platform's per-visitor override)."),
    networkCheckin: z.boolean().default(true).describe('Whether joining the Wi-Fi may check this person in.'),
    extendedUnlock: z.boolean().default(false).describe("Accessibility: doors stay unlocked for the door's extendedPulseMs."),
    lockdownOverride: z.boolean().default(false).describe('Member of the lockdown override group: passes doors that are locked down.'),
    usage: usageRecordSchema.nullable().default(null).describe("The cloud's counters for plan limits; null = none counted this month."),
    credentials: z.array(credentialRecordSchema).max(64).default([]),
    entitlements: z.array(entitlementRecordSchema).max(256).default([]),
  })
  .strict();

export const siteSettingsSchema = z
  .object({
    visitorTokenMinutes: z
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 31)
      .default(24 * 60)
      .describe('How long a visitor token is valid once it starts.'),
    visitorTokenStart: z
      .enum(['first-checkin', 'expected-arrival'])
      .default('first-checkin')
      .describe("When a visitor token's validity starts: at the visitor's first check-in, or at the expected arrival."),
    deviceLimit: z.number().int().min(1).max(100).nullable().default(null).describe('Default maximum devices per person; null = no limit.'),
    dailyCutoff: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected "HH:MM"')
      .nullable()
      .default(null)
      .describe('Site-local time at which everyone still checked in is checked out; null = none.'),
    wifiIdleMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15)
      .describe('A Wi-Fi device inactive for this long is checked out (the platform uses 15 minutes).'),
    holidays: z
      .array(
        z
          .object({
            date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected "YYYY-MM-DD"'),
            name: z.string().max(200).default(''),
          })
          .strict(),
      )
      .max(1_000)
      .default([])
      .describe('Site holidays (site-local dates): door schedules use their "hol" windows on these days.'),
    kioskRegistration: z
      .enum(['off', 'register', 'register-and-checkin'])
      .default('register-and-checkin')
      .describe('Whether unregistered visitors may register at the kiosk, and whether that checks them in.'),
  })
  .strict()
  .describe('Site settings; stored with the data set, used by policies that build on them.');

export const doorRecordSchema = z
  .object({
    id: cloudId.describe('Door id as in the gateway config.'),
    name: z.string().max(200).default(''),
    schedule: cloudId.nullable().default(null).describe('Id of a schedule record; null = no schedule.'),
  })
  .strict()
  .describe("The cloud's record of a door. Stored; the YAML config stays the source of truth for hardware and door schedules.");

export const scheduleRecordSchema = z
  .object({
    id: cloudId,
    name: z.string().max(200).default(''),
    weekly: scheduleSchema,
  })
  .strict();

export const datasetSchema = z
  .object({
    schema: z.literal('gatehouse.dataset/1'),
    version: z.number().int().nonnegative().describe('Cloud data version this set represents.'),
    settings: siteSettingsSchema.prefault({}),
    doors: z.array(doorRecordSchema).max(10_000).default([]),
    schedules: z.array(scheduleRecordSchema).max(10_000).default([]),
    people: z.array(personRecordSchema),
  })
  .strict();

export type Dataset = z.infer<typeof datasetSchema>;
export type DatasetInput = z.input<typeof datasetSchema>;
export type PersonRecord = z.infer<typeof personRecordSchema>;
export type CredentialRecord = z.infer<typeof credentialRecordSchema>;
export type EntitlementRecord = z.infer<typeof entitlementRecordSchema>;
export type SiteSettings = z.infer<typeof siteSettingsSchema>;
export type DoorRecord = z.infer<typeof doorRecordSchema>;
export type ScheduleRecord = z.infer<typeof scheduleRecordSchema>;
export type UsageRecord = z.infer<typeof usageRecordSchema>;

export const defaultSiteSettings: SiteSettings = siteSettingsSchema.parse({});
