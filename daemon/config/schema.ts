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
    z
      .object({
        driver: z.literal('osdp-output'),
        bus: z.string().min(1).describe('Id of a bus under osdp.buses.'),
        address: z.number().int().min(0).max(126).describe('OSDP address of the PD (0-126).'),
        output: z.number().int().min(0).max(255).default(0).describe('Output number on the PD, 0-based as on the wire.'),
      })
      .strict()
      .describe('An output of an OSDP PD (osdp_OUT), e.g. the strike relay of a reader controller.'),
    z.object({ driver: z.literal('sim') }).strict().describe('Simulated relay: state visible in `gatehouse status`.'),
  ])
  .describe('The output that drives the lock.');

export const inputSchema = z
  .discriminatedUnion('driver', [
    z
      .object({
        driver: z.literal('modbus-rtu'),
        path: serialPath,
        slave: z.number().int().min(1).max(247).default(1).describe('Slave address of the input board on the RS-485 line.'),
        input: z.number().int().min(0).max(65_535).describe('Discrete input address as sent on the wire, 0-based: input 1 of most boards is 0.'),
        invert: z
          .boolean()
          .default(false)
          .describe('Report the opposite of the wire level. Active must mean "contact open" / "button pressed".'),
        baudRate: z.number().int().positive().default(9600),
        parity: z.enum(['none', 'even', 'odd']).default('none'),
        stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
        pollIntervalMs: z.number().int().min(20).max(5_000).default(100).describe('Pause between two FC02 polls.'),
        responseTimeoutMs: z.number().int().min(20).max(5_000).default(500),
        faultAfterFailures: z.number().int().min(1).max(100).default(3).describe('Failed polls in a row after which the input counts as lost.'),
      })
      .strict()
      .describe('Discrete input of a Modbus-RTU board, polled with FC02; shares the port (and its line settings) with Modbus relays.'),
    z.object({ driver: z.literal('sim') }).strict().describe('Simulated input fed by `gatehouse sim input <door> contact|rex open|closed|press`.'),
  ])
  .describe('A digital input: active = contact open / button pressed.');

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
    .object({
      ...readerCommon,
      driver: z.literal('osdp'),
      bus: z.string().min(1).describe('Id of a bus under osdp.buses.'),
      address: z.number().int().min(0).max(126).describe('OSDP address of the PD (0-126).'),
      reader: z.number().int().min(0).max(255).default(0).describe('Reader number on the PD; most PDs have one reader, 0.'),
      wiegandFormats: z
        .array(wiegandFormatSchema)
        .min(1)
        .default(['h10301', 'h10306', 'corporate1000-35', 'h10304'])
        .describe('Card formats accepted in RAW card data, at most one per bit length; parity is checked.'),
      cardFormat: wiegandCardFormatSchema,
    })
    .strict()
    .describe('OSDP v2.2 reader (PD) on an RS-485 bus: card data (RAW, Wiegand bits), keypad keys, LED/buzzer feedback.'),
  z
    .object({ ...readerCommon, driver: z.literal('sim') })
    .strict()
    .describe('Simulated reader fed by `gatehouse sim card|pin`.'),
]);

export const osdpBusSchema = z
  .object({
    path: serialPath,
    baudRate: z.union([z.literal(9600), z.literal(19_200), z.literal(38_400), z.literal(57_600), z.literal(115_200), z.literal(230_400)]).default(9600),
    secureChannel: z
      .enum(['off', 'preferred', 'required'])
      .default('preferred')
      .describe('off = plaintext only; preferred = secure channel where the PD supports it and a key is known; required = no plaintext and no install key: a PD without the secure channel stays offline.'),
    installMode: z
      .boolean()
      .default(false)
      .describe('Let PDs without a stored key connect with the default key SCBK-D and give each its own key (KEYSET). Turn on only while installing readers; not allowed with secureChannel: required.'),
    checkMode: z.enum(['crc', 'checksum']).default('crc').describe('CRC-16 (recommended) or the 8-bit checksum of old PDs.'),
    markByte: z.boolean().default(true).describe('Send the FF mark byte before each packet, as libosdp does.'),
    pollIntervalMs: z.number().int().min(0).max(1_000).default(50).describe('Least time between two polls of the same PD.'),
    replyTimeoutMs: z.number().int().min(50).max(2_000).default(200).describe('Reply timeout on top of the transmit time (spec: 200 ms).'),
    offlineAfterMs: z.number().int().min(500).max(60_000).default(8_000).describe('Without a valid reply for this long a PD is offline (spec: 8 s).'),
    connectTimeoutMs: z.number().int().min(500).max(60_000).default(5_000).describe('How long a device waits for its PD to come online before the supervisor retries.'),
  })
  .strict();

export type OsdpBusConfig = z.infer<typeof osdpBusSchema>;

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

export const bleSchema = z
  .object({
    readers: z
      .array(
        z
          .object({
            id,
            hciDevice: z.number().int().min(0).max(31).default(0).describe('Bluetooth adapter hciN this reader scans with (one reader per adapter).'),
            door: id.optional().describe('Door a phone tap at this reader opens. Without one a tap only checks in or out. Beacons never open it.'),
            mode: readerModeSchema.default('entry').describe('What a phone tap does here (as for card readers).'),
            area: id.optional().describe('Anti-passback area a tap here leads into.'),
            tapRssi: z
              .number()
              .int()
              .min(-127)
              .max(0)
              .default(-50)
              .describe('A tap token acts only at or above this RSSI (dBm): the phone held at the reader, not passing by.'),
            presence: z.boolean().default(true).describe('Whether beacons heard by this adapter check people in (presence never opens a door).'),
          })
          .strict(),
      )
      .default([]),
    presence: z
      .object({
        enterRssi: z.number().int().min(-127).max(0).default(-75).describe('Smoothed RSSI (dBm) at which a beacon has arrived.'),
        exitRssi: z.number().int().min(-127).max(0).default(-85).describe('Smoothed RSSI below which it has left; below enterRssi (hysteresis).'),
        smoothing: z.number().gt(0).max(1).default(0.3).describe('Weight of each new RSSI sample in the moving average.'),
        absentAfterS: z.number().int().min(1).max(3_600).default(30).describe('A beacon not heard for this long has left.'),
        inactivityMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(15)
          .describe('A person whose beacons have been away this long is checked out (reason inactivity).'),
      })
      .strict()
      .prefault({}),
    tapCompanyId: z.number().int().min(0).max(0xffff).default(0xffff).describe('Bluetooth company id of the phones\' tap tokens (docs/ble-tap.md); 0xFFFF = test/internal.'),
    powerOnTimeoutS: z.number().int().min(1).max(120).default(10).describe('How long an adapter may take to power on before it is reported.'),
  })
  .strict()
  .prefault({})
  .describe('BLE presence check-in and phone taps (docs/ble-tap.md). Needs CAP_NET_RAW and CAP_NET_ADMIN: systemd/gatehouse-ble.conf.');
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
    http: z
      .object({
        enabled: z.boolean().default(false),
        host: z.string().min(1).default('127.0.0.1').describe('Address to bind. Anything but loopback needs httpToken in the secrets file.'),
        port: z.number().int().min(0).max(65535).default(9464),
      })
      .strict()
      .default({ enabled: false, host: '127.0.0.1', port: 9464 })
      .describe('Read-only operator endpoint: GET /metrics (Prometheus), /status (JSON, as `gatehouse status --json`), / (status page). Off by default.'),
    homeAssistant: z
      .object({
        discovery: z.boolean().default(false).describe('Publish retained MQTT discovery configs for Home Assistant (needs the mqtt section).'),
        discoveryPrefix: z.string().regex(/^[^#+\s]+$/, 'no wildcards or whitespace').default('homeassistant'),
      })
      .strict()
      .default({ discovery: false, discoveryPrefix: 'homeassistant' }),
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
            contact: inputSchema.optional().describe('Door contact (active = open): relock on open, held-open and forced-open alarms.'),
            rex: inputSchema.optional().describe('Request-to-exit button or sensor (active = pressed).'),
            rexMode: z
              .enum(['unlock', 'free-egress'])
              .default('unlock')
              .describe('unlock: REX unlocks for pulseMs. free-egress: the lock stays, the door may open without a forced alarm for pulseMs (mechanical lever).'),
            heldOpenS: z.number().int().min(5).max(3_600).default(30).describe('An authorised opening longer than this raises held-open.'),
            preAlarmS: z
              .number()
              .int()
              .min(0)
              .max(3_600)
              .default(10)
              .describe('Seconds before held-open at which held-open-prealarm is raised; 0 = no pre-alarm.'),
            unlockSchedule: id
              .optional()
              .describe('Name of a schedule during whose windows the door is held unlocked (mode unlocked), unless locked down.'),
            firstPersonIn: z
              .boolean()
              .default(false)
              .describe('With unlockSchedule: a window holds the door unlocked only once someone has been granted at it in that window.'),
          })
          .strict(),
      )
      .default([]),
    readers: z.array(readerSchema).default([]),
    ble: bleSchema,
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
    kiosk: z
      .object({
        listen: z
          .object({
            host: z.string().min(1).default('0.0.0.0').describe('Address the kiosk web app listens on (the tablets\' network).'),
            port: z.number().int().min(0).max(65_535).describe('TCP port; 0 picks a free one (tests).'),
          })
          .strict(),
        tls: z
          .object({
            certFile: z.string().min(1).describe('PEM certificate. Tablets need HTTPS for the camera (QR scanning).'),
            keyFile: z.string().min(1).describe('PEM private key (mode 0600). Relative paths are relative to this file.'),
          })
          .strict()
          .optional()
          .describe('Serve HTTPS. Browsers give the camera only to secure pages; without TLS QR codes need a scanner at the gateway.'),
        door: id.optional().describe('Door unlocked by a granted kiosk check-in; without it the kiosk opens nothing.'),
        area: id.optional().describe('Area a kiosk check-in enters (occupancy, anti-passback).'),
        pairingCodeMinutes: z.number().int().min(1).max(60).default(5).describe('How long a code from `gatehouse kiosk pair` can be used.'),
        resultSeconds: z.number().int().min(2).max(60).default(6).describe('How long a result screen stays before the kiosk resets.'),
        scanners: z
          .array(id)
          .default([])
          .describe('Readers (line readers with encoding text) that are QR scanners at the kiosk: their reads are visitor codes decided at the kiosk and shown on its screen.'),
        rateLimit: z
          .object({
            perIpPerMinute: z.number().int().min(1).max(100_000).default(300).describe('Requests per client address.'),
            perKioskPerMinute: z.number().int().min(1).max(10_000).default(30).describe('Check-ins and registrations per paired kiosk.'),
            pairingPerMinute: z.number().int().min(1).max(1_000).default(5).describe('Pairing attempts per client address.'),
          })
          .strict()
          .default({ perIpPerMinute: 300, perKioskPerMinute: 30, pairingPerMinute: 5 }),
        terms: z
          .string()
          .min(1)
          .max(2_000)
          .default('I agree to the house rules of this space and to my name and email being shared with my host.')
          .describe('Text a visitor accepts when registering at the kiosk.'),
      })
      .strict()
      .optional()
      .describe('The check-in kiosk web app for tablets (docs/kiosk-api.md). Off without this section.'),
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
    osdp: z
      .object({ buses: z.record(id, osdpBusSchema).default({}) })
      .strict()
      .optional()
      .describe('OSDP RS-485 buses; readers and relays name a bus by its id. Secure channel keys are kept in osdp-keys.json next to the database (mode 0600).'),
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
      if (d.unlockSchedule !== undefined && !(d.unlockSchedule in cfg.schedules)) {
        ctx.addIssue({ code: 'custom', path: ['doors', index, 'unlockSchedule'], message: `no schedule named "${d.unlockSchedule}"` });
      }
      if (d.preAlarmS >= d.heldOpenS) {
        ctx.addIssue({ code: 'custom', path: ['doors', index, 'preAlarmS'], message: 'the pre-alarm must come before held-open: preAlarmS < heldOpenS' });
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
            : d.relay.driver === 'osdp-output'
              ? `osdp:${d.relay.bus}#${d.relay.address}#${d.relay.output}`
              : undefined;
      if (key === undefined) return;
      const other = channels.get(key);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['doors', index, 'relay'], message: `relay channel already used by door "${other}"` });
      }
      channels.set(key, d.id);
    });
    const readerIds = new Set(cfg.readers.map((r) => r.id));
    const adapters = new Set<number>();
    cfg.ble.readers.forEach((r, index) => {
      if (readerIds.has(r.id)) ctx.addIssue({ code: 'custom', path: ['ble', 'readers', index, 'id'], message: `duplicate reader id "${r.id}"` });
      readerIds.add(r.id);
      if (r.door !== undefined && !doorIds.has(r.door)) ctx.addIssue({ code: 'custom', path: ['ble', 'readers', index, 'door'], message: `no door with id "${r.door}"` });
      if (r.area !== undefined && !(r.area in cfg.areas)) ctx.addIssue({ code: 'custom', path: ['ble', 'readers', index, 'area'], message: `no area named "${r.area}"` });
      if (adapters.has(r.hciDevice)) ctx.addIssue({ code: 'custom', path: ['ble', 'readers', index, 'hciDevice'], message: `hci${r.hciDevice} is already used by another BLE reader` });
      adapters.add(r.hciDevice);
    });
    if (cfg.ble.presence.exitRssi >= cfg.ble.presence.enterRssi) {
      ctx.addIssue({ code: 'custom', path: ['ble', 'presence', 'exitRssi'], message: 'must be below enterRssi (hysteresis)' });
    }
    const kiosk = cfg.kiosk;
    if (kiosk?.door !== undefined && !doorIds.has(kiosk.door)) {
      ctx.addIssue({ code: 'custom', path: ['kiosk', 'door'], message: `no door with id "${kiosk.door}"` });
    }
    if (kiosk?.area !== undefined && !(kiosk.area in cfg.areas)) {
      ctx.addIssue({ code: 'custom', path: ['kiosk', 'area'], message: `no area named "${kiosk.area}"` });
    }
    kiosk?.scanners.forEach((readerId, index) => {
      const reader = cfg.readers.find((r) => r.id === readerId);
      if (reader === undefined) ctx.addIssue({ code: 'custom', path: ['kiosk', 'scanners', index], message: `no reader with id "${readerId}"` });
    });
    if (cfg.guessing.maxLockoutS < cfg.guessing.lockoutS) {
      ctx.addIssue({ code: 'custom', path: ['guessing', 'maxLockoutS'], message: 'must not be shorter than lockoutS' });
    }
    const osdpBuses = cfg.osdp?.buses ?? {};
    for (const [busId, bus] of Object.entries(osdpBuses)) {
      if (bus.installMode && bus.secureChannel === 'required') {
        ctx.addIssue({ code: 'custom', path: ['osdp', 'buses', busId, 'installMode'], message: 'install mode uses the default key, which secureChannel: required refuses' });
      }
    }
    cfg.readers.forEach((r, index) => {
      if (r.driver === 'osdp' && !(r.bus in osdpBuses)) ctx.addIssue({ code: 'custom', path: ['readers', index, 'bus'], message: `no OSDP bus "${r.bus}"` });
    });
    cfg.doors.forEach((d, index) => {
      if (d.relay.driver === 'osdp-output' && !(d.relay.bus in osdpBuses)) {
        ctx.addIssue({ code: 'custom', path: ['doors', index, 'relay', 'bus'], message: `no OSDP bus "${d.relay.bus}"` });
      }
    });
    if (cfg.mqtt?.tls !== undefined && !/^(mqtts|ssl|wss):/.test(cfg.mqtt.url)) {
      ctx.addIssue({ code: 'custom', path: ['mqtt', 'url'], message: 'mqtt.tls needs an mqtts:// (or wss://) URL' });
    }
  });

export type GatehouseConfig = z.infer<typeof configSchema>;
export type DoorConfig = GatehouseConfig['doors'][number];
export type ReaderConfig = GatehouseConfig['readers'][number];
export type RelayConfig = DoorConfig['relay'];
export type InputConfig = z.infer<typeof inputSchema>;
export type ReaderMode = z.infer<typeof readerModeSchema>;
export type CardFormat = z.infer<typeof cardFormatSchema>;
export type WeeklySchedule = z.infer<typeof scheduleSchema>;
export type MqttConfig = NonNullable<GatehouseConfig['mqtt']>;
export type BleConfig = GatehouseConfig['ble'];
export type BleReaderConfig = BleConfig['readers'][number];
export type RadiusConfig = NonNullable<GatehouseConfig['wifi']>['radius'];

export const secretsSchema = z
  .object({
    siteKey: z
      .string()
      .regex(/^[A-Za-z0-9+/=_-]{43,}$/, 'expected at least 32 random bytes, base64 encoded (openssl rand -base64 32)')
      .describe('Key for the keyed hash of card numbers, PINs and codes. Never leaves this machine.'),
    mqttPassword: z.string().optional(),
    httpToken: z.string().min(16).optional().describe('Bearer token for the operator HTTP endpoint; required when http.host is not loopback.'),
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
