/**
 * The shape of /etc/gatehouse/gatehouse.yaml.
 *
 * One zod schema is the single source of truth: it validates the file, gives
 * the daemon its static types, and is exported as JSON Schema
 * (config/gatehouse.schema.json) for editor completion. Defaults live here and
 * nowhere else.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, "-" and "_" (max 63), starting with a letter or digit');

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
const timeWindow = z
  .string()
  .regex(/^\d\d:\d\d-\d\d:\d\d$/, 'expected "HH:MM-HH:MM", for example "07:00-22:00"')
  .refine((w) => {
    const [from, to] = w.split('-') as [string, string];
    return hhmm.test(from) && (hhmm.test(to) || to === '24:00') && from < to;
  }, 'a window runs from an earlier to a later time of the same day ("24:00" ends at midnight)');

const weekday = z.array(timeWindow).default([]);

export const scheduleSchema = z
  .object({
    mon: weekday,
    tue: weekday,
    wed: weekday,
    thu: weekday,
    fri: weekday,
    sat: weekday,
    sun: weekday,
    hol: weekday.describe('Windows on site holidays (config holidays and the synced ones); none = closed.'),
  })
  .strict()
  .describe('Weekly windows in the site time zone during which a door accepts credentials.');

const serialPath = z.string().min(1).describe('Device path; prefer /dev/serial/by-id/... or a udev symlink, which survive replugging.');

export const relaySchema = z
  .discriminatedUnion('driver', [
    z
      .object({
        driver: z.literal('lcus'),
        path: serialPath,
        channel: z.number().int().min(1).max(8).describe('Relay channel on the board, 1-based.'),
        baudRate: z.number().int().positive().default(9600),
      })
      .strict()
      .describe('CH340 "LCUS" USB serial relay board (frames A0 CH OP SUM).'),
    z
      .object({
        driver: z.literal('modbus-rtu'),
        path: serialPath,
        slave: z.number().int().min(1).max(247).default(1).describe('Slave address of the board on the RS-485 line.'),
        coil: z
          .number()
          .int()
          .min(0)
          .max(65_535)
          .describe('Coil address as sent on the wire, 0-based: relay 1 of most boards is coil 0.'),
        baudRate: z.number().int().positive().default(9600),
        parity: z.enum(['none', 'even', 'odd']).default('none').describe('Most relay boards use 8N1; the Modbus default is 8E1.'),
        stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
        responseTimeoutMs: z.number().int().min(20).max(5_000).default(500).describe('How long to wait for the reply to a command.'),
        retries: z.number().int().min(0).max(5).default(1).describe('Extra tries after a timeout (writing a coil twice is harmless).'),
        faultAfterTimeouts: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(3)
          .describe('Timeouts in a row after which the board counts as offline and is reopened.'),
      })
      .strict()
      .describe(
        'Modbus-RTU relay board (RS-485): FC05 write single coil, checked against the echoed reply. Doors on one port share it; all of them must use the same baudRate, parity and stopBits.',
      ),
    z
      .object({
        driver: z.literal('usb-hid-relay'),
        serial: z
          .string()
          .min(1)
          .max(40)
          .describe('The board\'s own 5-character serial (from its state report, not the USB serial; `gatehouse doctor` lists it). Two boards never swap.'),
        channel: z.number().int().min(1).max(8).describe('Relay on the board, 1-based (USBRelay1/2/4/8).'),
        presenceCheckMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(1_000)
          .describe('How often the board state is read to notice an unplug between door commands.'),
      })
      .strict()
      .describe('dcttech "USBRelayN" USB HID relay board (16c0:05df): feature reports, state read back after every command.'),
    z.object({ driver: z.literal('sim') }).strict().describe('Simulated relay: state visible in `gatehouse status`.'),
  ])
  .describe('The output that drives the lock.');

export const cardFormatSchema = z
  .enum(['decimal10', 'fc-cn', 'hex'])
  .default('decimal10')
  .describe(
    'How a tag is turned into the number the platform stores: decimal10 = 32-bit tag number as 10 decimal digits (what is printed on most EM4100 fobs), fc-cn = "FFF,CCCCC" facility code and card number, hex = all 40 bits as 10 hex digits.',
  );

export const uidCardFormatSchema = z
  .enum(['hex', 'hex-reversed', 'decimal', 'decimal-reversed', 'decimal10', 'decimal10-reversed'])
  .default('hex')
  .describe(
    'How a 13.56 MHz card UID is turned into the number the platform stores. hex = the UID in hex (canonical, 9EB36E66); decimal = big-endian decimal; decimal10 = a 4-byte UID as 10 digits (7-byte UIDs cannot be read this way and are counted as unmappable). "-reversed" takes the bytes in reverse order, what many keyboard-wedge readers type (9E B3 6E 66 → 1718530974).',
  );

export const wiegandFormatSchema = z
  .enum(['h10301', 'h10306', 'bqt34', 'corporate1000-35', 'h10304', 'h10302'])
  .default('h10301')
  .describe(
    'Wiegand card format: h10301 26-bit (8-bit facility), h10306 34-bit (16-bit facility), bqt34 34-bit (8-bit facility, 24-bit card), corporate1000-35, h10304 37-bit (16-bit facility), h10302 37-bit (card only). The bit count alone does not tell 34-bit formats apart.',
  );

export const wiegandCardFormatSchema = z
  .enum(['decimal10', 'fc-cn', 'hex'])
  .default('decimal10')
  .describe(
    'How a Wiegand card is turned into the number the platform stores: decimal10 = all data bits (no parity) in decimal, at least 10 digits (FC 123 / CN 4567 → 0008065495; a 34-bit frame of an EM card gives the number printed on the fob); fc-cn = facility,card each zero-padded to its field (123,04567); hex = data bits in hex (7B11D7).',
  );

export const lineDecodeSchema = z
  .discriminatedUnion('as', [
    z.object({ as: z.literal('text') }).strict(),
    z
      .object({
        as: z.enum(['wiegand-body-hex', 'wiegand-body-decimal', 'wiegand-frame-hex', 'wiegand-frame-bits']),
        format: wiegandFormatSchema,
        cardFormat: wiegandCardFormatSchema,
      })
      .strict(),
  ])
  .default({ as: 'text' })
  .describe(
    'How the extracted text becomes a card number. text = as is (barcodes, QR codes). wiegand-body-hex = data bits without parity in hex (WG2RS232 "7B11D7"); wiegand-body-decimal = the same in decimal (S4A "0008065495"); wiegand-frame-hex / wiegand-frame-bits = the whole frame with parity, which is checked.',
  );

const hexBytesSchema = z
  .string()
  .regex(/^\s*[0-9A-Fa-f]{2}(\s*[0-9A-Fa-f]{2}){0,63}\s*$/, 'expected hex bytes such as "1B 42 0D"');

const linePatternSchema = z
  .string()
  .min(1)
  .max(500)
  .refine((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression')
  .optional()
  .describe(
    'Regular expression that picks the credential out of a line: named group "credential", else group 1, else the whole match. Lines that do not match are ignored (and counted). Default: the whole line, trimmed.',
  );

const repeatMsSchema = z
  .number()
  .int()
  .min(0)
  .max(60_000)
  .default(1_000)
  .describe('The same credential again within this window (extended by each repeat) is one presentation; 0 turns it off.');

export type UidCardFormat = z.infer<typeof uidCardFormatSchema>;
export type WiegandFormatConfig = z.infer<typeof wiegandFormatSchema>;
export type WiegandCardFormat = z.infer<typeof wiegandCardFormatSchema>;
export type LineDecodeConfig = z.infer<typeof lineDecodeSchema>;

export const readerModeSchema = z
  .enum(['entry', 'exit', 'toggle', 'access-only'])
  .describe('entry checks in, exit checks out, toggle checks in when out and out when in, access-only opens the door without check-in.');

const readerCommon = {
  id,
  door: id.optional().describe('Door this reader opens. A reader without a door only checks people in and out.'),
  mode: readerModeSchema,
  area: id
    .optional()
    .describe('Anti-passback area (config areas) this reader leads into (entry, toggle, access-only) or out of (exit).'),
};

export const readerSchema = z.discriminatedUnion('driver', [
  z
    .object({
      ...readerCommon,
      driver: z.literal('rdm6300'),
      path: serialPath,
      baudRate: z.number().int().positive().default(9600),
      cardFormat: cardFormatSchema,
      removalMs: z
        .number()
        .int()
        .min(100)
        .max(10_000)
        .default(500)
        .describe('Silence after which a card counts as removed; a card held still is read once.'),
    })
    .strict()
    .describe('RDM6300 / EM4100 125 kHz serial reader.'),
  z
    .object({
      ...readerCommon,
      driver: z.literal('pn532'),
      path: serialPath,
      baudRate: z.number().int().positive().default(115_200),
      cardFormat: uidCardFormatSchema,
      pollIntervalMs: z.number().int().min(20).max(5_000).default(100).describe('Pause between two polls for a card.'),
      removalPolls: z
        .number()
        .int()
        .min(1)
        .max(50)
        .default(3)
        .describe('Empty polls in a row after which a card counts as removed; a resting card is read once.'),
      activationRetries: z
        .number()
        .int()
        .min(0)
        .max(254)
        .default(2)
        .describe('MxRtyPassiveActivation: how often the PN532 looks for a card per poll (255, "forever", is not allowed).'),
    })
    .strict()
    .describe('PN532 NFC reader (MIFARE, NTAG, DESFire UIDs) over HSU/UART; random UIDs (08…) are ignored.'),
  z
    .object({
      ...readerCommon,
      driver: z.literal('serial-line'),
      path: serialPath,
      baudRate: z.number().int().positive().default(9600),
      terminator: z
        .string()
        .min(1)
        .max(8)
        .optional()
        .describe('Characters that end a line, e.g. "\\r\\n" or "\\x03" (YAML double-quoted escapes). Without it, CR, LF and CR LF all end a line.'),
      maxLineLength: z.number().int().min(8).max(4_096).default(256).describe('Longer lines are dropped whole.'),
      pattern: linePatternSchema,
      decode: lineDecodeSchema,
      repeatMs: repeatMsSchema,
      feedback: z
        .object({ granted: hexBytesSchema.optional(), denied: hexBytesSchema.optional() })
        .strict()
        .optional()
        .describe("Bytes sent to the device on a grant or deny, e.g. a scanner's beep command; see its manual."),
    })
    .strict()
    .describe('Line-based serial reader: Wiegand-to-serial converters (WG2RS232, S4A) and barcode/QR scanners in serial mode.'),
  z
    .object({
      ...readerCommon,
      driver: z.literal('hid-keyboard'),
      usbId: z
        .string()
        .regex(/^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$/, 'expected vendor:product in hex, as lsusb prints it, e.g. "ffff:0035"')
        .optional()
        .describe('USB vendor:product id, as `lsusb` or `gatehouse doctor` print it.'),
      serialNumber: z.string().min(1).optional().describe('USB serial number, to tell two readers of one model apart.'),
      interface: z.number().int().min(0).max(31).optional().describe('USB interface number, for readers with several interfaces.'),
      path: z
        .string()
        .min(1)
        .optional()
        .describe('HID path as `gatehouse doctor` lists it (/dev/hidrawN, or bus-port:config.interface with libusb); changes when replugged elsewhere.'),
      layout: z
        .enum(['us', 'de', 'fr'])
        .default('us')
        .describe('Keyboard layout the reader was configured to type for; most type for US. Digits differ on AZERTY.'),
      reportId: z.number().int().min(1).max(255).optional().describe('Report id in front of each input report (composite devices only).'),
      interKeyTimeoutMs: z
        .number()
        .int()
        .min(20)
        .max(2_000)
        .default(200)
        .describe('A longer gap between two keys drops the line typed so far: readers type in milliseconds, people do not.'),
      maxLineLength: z.number().int().min(8).max(4_096).default(256).describe('Longer lines are dropped whole.'),
      pattern: linePatternSchema,
      decode: lineDecodeSchema,
      repeatMs: repeatMsSchema,
      feedback: z
        .object({
          granted: hexBytesSchema.optional(),
          denied: hexBytesSchema.optional(),
          report: z.enum(['output', 'feature']).default('output'),
        })
        .strict()
        .optional()
        .describe('Reports sent to the device on a grant or deny (byte 0 = report id), where its manual documents a beep or LED command.'),
    })
    .strict()
    .refine((r) => r.usbId !== undefined || r.path !== undefined, { message: 'give usbId (and serialNumber if two are attached) or path', path: ['usbId'] })
    .describe('USB keyboard-wedge reader (125 kHz/13.56 MHz USB readers, barcode/QR scanners in keyboard mode), read over HID.'),
  z
    .object({ ...readerCommon, driver: z.literal('sim') })
    .strict()
    .describe('Simulated reader fed by `gatehouse sim card|pin`.'),
]);

const mqttSchema = z
  .object({
    url: z
      .string()
      .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, 'expected a URL such as mqtts://broker.example:8883')
      .describe('Broker URL.'),
    topicPrefix: z
      .string()
      .regex(/^[^#+\s]+[^/#+\s]$/, 'no wildcards, whitespace or trailing "/"')
      .default('gatehouse/v1'),
    username: z.string().optional(),
    clientId: z.string().optional().describe('Defaults to "gatehouse-<gateway id>".'),
    keepaliveS: z.number().int().min(5).max(600).default(30),
    reconnectMs: z.number().int().min(100).max(60_000).default(2_000),
    connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    maxInflight: z.number().int().min(1).max(1000).default(64).describe('QoS 1 publishes awaiting PUBACK at once.'),
    tls: z
      .object({
        caFile: z.string().min(1).describe('PEM file with the CA certificate(s) the broker certificate must chain to. Relative paths are relative to this file.'),
        certFile: z
          .string()
          .min(1)
          .describe("This gateway's client certificate (PEM). Its CN is the gateway id when the broker maps identities to usernames (docs/mqtt-contract.md, broker ACL)."),
        keyFile: z.string().min(1).describe('Private key of the client certificate (PEM). A secret: mode 0600, like secretsFile.'),
        servername: z.string().min(1).optional().describe('Name the broker certificate must carry (also sent as SNI) when it differs from the URL host.'),
      })
      .strict()
      .optional()
      .describe('Mutual TLS: verify the broker against caFile and present a per-gateway client certificate. Needs an mqtts:// or wss:// URL.'),
  })
  .strict();

/** A RADIUS client's address: one IP (v4 or v6) or a CIDR block. */
const clientAddress = z
  .string()
  .refine((a) => {
    const [ip, bits, extra] = a.split('/');
    const family = isIP(ip ?? '');
    if (family === 0 || extra !== undefined) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d{1,3}$/.test(bits) && n <= (family === 4 ? 32 : 128);
  }, 'expected an IP address or a CIDR block such as 192.168.1.0/24');

const tokenBucketSchema = (ratePerS: number, burst: number) =>
  z
    .object({
      ratePerS: z.number().positive().max(10_000).default(ratePerS).describe('Sustained requests per second.'),
      burst: z.number().int().min(1).max(100_000).default(burst).describe('Requests allowed at once above the sustained rate.'),
    })
    .strict()
    .default({ ratePerS, burst });

const wifiSchema = z
  .object({
    radius: z
      .object({
        host: z.string().min(1).default('0.0.0.0').describe('Address to listen on (0.0.0.0: every IPv4 interface; :: for IPv6).'),
        authPort: z.number().int().min(0).max(65_535).default(1812).describe('UDP port for Access-Request (RFC 2865).'),
        acctPort: z.number().int().min(0).max(65_535).default(1813).describe('UDP port for Accounting-Request (RFC 2866).'),
        clients: z
          .array(
            z
              .object({
                name: id.describe('Name in logs and events; its shared secret is radiusSecrets.<name> in the secrets file.'),
                address: clientAddress.describe('Source address of the controller or access points: an IP or a CIDR block.'),
              })
              .strict(),
          )
          .min(1)
          .describe('Wi-Fi controllers (NAS) allowed to ask; requests from anywhere else are dropped.'),
        checkInOn: z
          .enum(['accounting-start', 'access-accept'])
          .default('accounting-start')
          .describe(
            'When a Wi-Fi sign-in checks the person in: when the controller reports the device connected (Accounting-Start; needs accounting enabled), or already on the Access-Accept (controllers without accounting). See docs/wifi.md.',
          ),
        duplicateWindowS: z.number().int().min(1).max(300).default(30).describe('Retransmitted requests within this window are answered from a cache, not decided again.'),
        maxSessionTimeoutS: z
          .number()
          .int()
          .min(300)
          .max(7 * 86_400)
          .default(86_400)
          .describe('Upper bound of the Session-Timeout sent on Access-Accept (open-ended passes get this).'),
        perClient: tokenBucketSchema(50, 200).describe('Rate limit per controller; requests above it are dropped (the controller retries).'),
        perUser: tokenBucketSchema(0.2, 5).describe('Rate limit per email address; sign-ins above it are rejected without a lookup.'),
        idleCheckS: z.number().int().min(1).max(60).default(5).describe('How often devices are checked for inactivity.'),
      })
      .strict()
      .refine((r) => r.authPort === 0 || r.authPort !== r.acctPort, { message: 'authPort and acctPort must differ', path: ['acctPort'] })
      .refine((r) => new Set(r.clients.map((c) => c.name)).size === r.clients.length, { message: 'client names must be unique', path: ['clients'] }),
  })
  .strict()
  .describe('Wi-Fi check-in: a RADIUS server for the captive portal or hotspot of the Wi-Fi controller. See docs/wifi.md.');

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    site: z
      .object({
        id,
        name: z.string().optional(),
        timezone: z
          .string()
          .refine((tz) => {
            try {
              new Intl.DateTimeFormat('en-GB', { timeZone: tz });
              return true;
            } catch {
              return false;
            }
          }, 'not an IANA time zone such as Europe/London')
          .describe('IANA time zone of the site; schedules and calendar days use it.'),
      })
      .strict(),
    gateway: z.object({ id }).strict(),
    secretsFile: z
      .string()
      .min(1)
      .describe('YAML file (mode 0600) with siteKey and, optionally, mqttPassword. Relative paths are relative to this file.'),
    store: z
      .object({
        path: z.string().min(1).describe('SQLite database file. Relative paths are relative to this file.'),
        seedFile: z
          .string()
          .optional()
          .describe(
            'Applied when the cache is empty (demo, first boot without a cloud): a signed snapshot file (one chunk envelope per line, as `gatehouse sync import` takes), or a plain gatehouse.dataset/1 JSON file. Relative paths are relative to this file.',
          ),
        journalRetentionDays: z.number().int().min(1).max(3650).default(90),
      })
      .strict(),
    control: z
      .object({
        socket: z.string().min(1).default('/run/gatehouse/control.sock').describe('Unix socket for the CLI (mode 0600).'),
      })
      .strict()
      .default({ socket: '/run/gatehouse/control.sock' }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .default({ level: 'info' }),
    hid: z
      .object({
        backend: z
          .enum(['libusb', 'hidraw'])
          .default('libusb')
          .describe(
            'libusb detaches the kernel driver while Gatehouse holds a device, so typed card numbers never reach the console or another program; hidraw leaves the kernel driver attached (keys also go to the console). See docs/drivers.md.',
          ),
      })
      .strict()
      .default({ backend: 'libusb' })
      .describe('USB HID access, used only when a reader or relay is a HID device.'),
    mqtt: mqttSchema.optional().describe('Cloud broker. Without it events stay queued in the journal.'),
    cloud: z
      .object({
        publicKeys: z
          .array(
            z
              .object({
                id: z.string().min(1).max(64),
                key: z.string().min(40).describe('Ed25519 public key: PEM, or the raw 32 bytes in base64.'),
              })
              .strict(),
          )
          .min(1)
          .describe('Keys the cloud signs sync messages and commands with; list two while rotating.'),
        maxMessageBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
        staleAfterHours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(72)
          .describe('How long the cache may go without a successful sync before stalePolicy applies.'),
        stalePolicy: z
          .enum(['keep-deciding', 'always-allowed-only', 'deny-all'])
          .default('keep-deciding')
          .describe('What decisions do once the cache is stale.'),
      })
      .strict()
      .optional()
      .describe('The cloud side of the link: signature keys and staleness rules. Without it, no sync or commands are accepted.'),
    keypad: z
      .object({
        interDigitTimeoutMs: z
          .number()
          .int()
          .min(1_000)
          .max(60_000)
          .default(5_000)
          .describe('Keypads that send single keys: a longer pause between two keys discards what was typed.'),
        maxDigits: z.number().int().min(4).max(12).default(12).describe('Longest code a keypad entry may have; a longer entry is rejected whole.'),
        duress: z
          .object({
            scheme: z
              .enum(['off', 'last-digit-plus-one', 'reverse'])
              .default('off')
              .describe('How a duress code is derived from a PIN (24680: 24681, or 08642). It opens like the PIN and raises a silent alarm.'),
          })
          .strict()
          .default({ scheme: 'off' }),
      })
      .strict()
      .default({ interDigitTimeoutMs: 5_000, maxDigits: 12, duress: { scheme: 'off' } })
      .describe('Typed codes at door keypads: PIN assembly and duress codes. See docs/policy.md.'),
    guessing: z
      .object({
        attempts: z.number().int().min(2).max(50).default(5).describe('Wrong codes from one source within windowS that lock it out.'),
        windowS: z.number().int().min(10).max(86_400).default(600),
        lockoutS: z.number().int().min(5).max(86_400).default(60).describe('Length of the first lockout.'),
        growthFactor: z.number().min(1).max(10).default(2).describe('Each further lockout in a row lasts this many times longer.'),
        maxLockoutS: z.number().int().min(5).max(7 * 86_400).default(1_800),
        resetAfterS: z
          .number()
          .int()
          .min(60)
          .max(30 * 86_400)
          .default(86_400)
          .describe('Without a wrong code for this long, the next lockout is a first one again.'),
      })
      .strict()
      .default({ attempts: 5, windowS: 600, lockoutS: 60, growthFactor: 2, maxLockoutS: 1_800, resetAfterS: 86_400 })
      .describe('Lockout of code sources after wrong codes, for every channel that takes codes (keypads; later Wi-Fi RADIUS, kiosk).'),
    schedules: z.record(id, scheduleSchema).default({}),
    doors: z
      .array(
        z
          .object({
            id,
            name: z.string().optional(),
            relay: relaySchema,
            lockType: z
              .enum(['fail-secure', 'fail-safe'])
              .default('fail-secure')
              .describe('fail-secure (strike): energise to unlock. fail-safe (maglock): energise to lock; unlocked without power.'),
            pulseMs: z.number().int().min(200).max(60_000).default(3000).describe('How long a granted door stays unlocked.'),
            schedule: id.optional().describe('Name of a schedule; without one the door accepts credentials at any time.'),
            extendedPulseMs: z
              .number()
              .int()
              .min(200)
              .max(120_000)
              .optional()
              .describe('Unlock time for people who need longer (synced extendedUnlock, accessibility); defaults to pulseMs.'),
          })
          .strict(),
      )
      .default([]),
    readers: z.array(readerSchema).default([]),
    holidays: z
      .array(
        z
          .object({
            date: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected "YYYY-MM-DD"'),
            name: z.string().optional(),
          })
          .strict(),
      )
      .default([])
      .describe('Site holidays (site-local dates) on which schedules use their "hol" windows; the cloud may add more through the sync.'),
    areas: z
      .record(
        id,
        z
          .object({
            antiPassback: z
              .enum(['off', 'soft', 'hard', 'timed'])
              .default('soft')
              .describe('soft: grant and flag a second entry without an exit; hard: deny it; timed: deny re-entry within timedS. Hard and timed degrade to soft while the cache is stale.'),
            timedS: z.number().int().min(1).max(86_400).default(300).describe('timed: how long after entering a re-entry is refused.'),
          })
          .strict(),
      )
      .default({})
      .describe('Areas for anti-passback and occupancy; readers name the area they lead into.'),
    wifi: wifiSchema.optional(),
    time: z
      .object({
        unsyncedClock: z
          .enum(['trust', 'always-allowed-only', 'deny'])
          .default('trust')
          .describe(
            'What grants do while the system clock has not been synchronised since boot (passes, tokens and schedules all depend on it): trust it (and flag the events), admit only the always-allowed group, or deny. Leaving is never refused.',
          ),
      })
      .strict()
      .default({ unsyncedClock: 'trust' }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const dup = (items: { id: string }[], what: string, key: string) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, index, 'id'], message: `duplicate ${what} id "${item.id}"` });
        seen.add(item.id);
      });
    };
    dup(cfg.doors, 'door', 'doors');
    dup(cfg.readers, 'reader', 'readers');
    const doorIds = new Set(cfg.doors.map((d) => d.id));
    cfg.readers.forEach((r, index) => {
      if (r.door !== undefined && !doorIds.has(r.door)) {
        ctx.addIssue({ code: 'custom', path: ['readers', index, 'door'], message: `no door with id "${r.door}"` });
      }
    });
    cfg.readers.forEach((r, index) => {
      if (r.area !== undefined && !(r.area in cfg.areas)) {
        ctx.addIssue({ code: 'custom', path: ['readers', index, 'area'], message: `no area named "${r.area}"` });
      }
    });
    cfg.doors.forEach((d, index) => {
      if (d.schedule !== undefined && !(d.schedule in cfg.schedules)) {
        ctx.addIssue({ code: 'custom', path: ['doors', index, 'schedule'], message: `no schedule named "${d.schedule}"` });
      }
    });
    // Two doors on one relay channel would open each other.
    const channels = new Map<string, string>();
    cfg.doors.forEach((d, index) => {
      const key =
        d.relay.driver === 'lcus'
          ? `${d.relay.path}#${d.relay.channel}`
          : d.relay.driver === 'modbus-rtu'
            ? `${d.relay.path}#${d.relay.slave}#${d.relay.coil}`
            : d.relay.driver === 'usb-hid-relay'
              ? `usb-hid-relay#${d.relay.serial}#${d.relay.channel}`
              : undefined;
      if (key === undefined) return;
      const other = channels.get(key);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['doors', index, 'relay'], message: `relay channel already used by door "${other}"` });
      }
      channels.set(key, d.id);
    });
    if (cfg.guessing.maxLockoutS < cfg.guessing.lockoutS) {
      ctx.addIssue({ code: 'custom', path: ['guessing', 'maxLockoutS'], message: 'must not be shorter than lockoutS' });
    }
    if (cfg.mqtt?.tls !== undefined && !/^(mqtts|ssl|wss):/.test(cfg.mqtt.url)) {
      ctx.addIssue({ code: 'custom', path: ['mqtt', 'url'], message: 'mqtt.tls needs an mqtts:// (or wss://) URL' });
    }
  });

export type GatehouseConfig = z.infer<typeof configSchema>;
export type DoorConfig = GatehouseConfig['doors'][number];
export type ReaderConfig = GatehouseConfig['readers'][number];
export type RelayConfig = DoorConfig['relay'];
export type ReaderMode = z.infer<typeof readerModeSchema>;
export type CardFormat = z.infer<typeof cardFormatSchema>;
export type WeeklySchedule = z.infer<typeof scheduleSchema>;
export type MqttConfig = NonNullable<GatehouseConfig['mqtt']>;
export type RadiusConfig = NonNullable<GatehouseConfig['wifi']>['radius'];

export const secretsSchema = z
  .object({
    siteKey: z
      .string()
      .regex(/^[A-Za-z0-9+/=_-]{43,}$/, 'expected at least 32 random bytes, base64 encoded (openssl rand -base64 32)')
      .describe('Key for the keyed hash of card numbers, PINs and codes. Never leaves this machine.'),
    mqttPassword: z.string().optional(),
    radiusSecrets: z
      .record(z.string(), z.string().min(16, 'use a shared secret of at least 16 characters (BlastRADIUS guidance)').max(128))
      .optional()
      .describe('Shared secret of each wifi.radius client, by client name.'),
  })
  .strict();

export type Secrets = z.infer<typeof secretsSchema>;

/** JSON Schema of the config file, for editors (yaml-language-server). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
