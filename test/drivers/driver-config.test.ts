import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../daemon/config/load.js';
import { lineDecodeSchema, readerSchema, relaySchema, uidCardFormatSchema, wiegandCardFormatSchema, wiegandFormatSchema } from '../../daemon/config/schema.js';
import { UID_CARD_FORMATS } from '../../drivers/card-format/uid-number.js';
import { WIEGAND_CARD_FORMATS } from '../../drivers/card-format/wiegand-number.js';
import { WIEGAND_LINE_ENCODINGS } from '../../drivers/line-reader/line-decoder.js';
import { SerialLineReader } from '../../drivers/line-reader/reader.js';
import { ModbusCoilRelay } from '../../drivers/modbus/relay.js';
import { Pn532Reader } from '../../drivers/pn532/reader.js';
import { createDriverFactory } from '../../drivers/registry.js';
import { silentLogger } from '../../drivers/serial/logger.js';
import { WIEGAND_FORMAT_NAMES } from '../../drivers/wiegand/formats.js';
import { writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

/** The examples from config/gatehouse.example.yaml and the README, as a whole site. */
const EXAMPLES = `doors:
  - id: front
    relay: { driver: modbus-rtu, path: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0, slave: 1, coil: 0 }
  - id: side
    relay: { driver: modbus-rtu, path: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0, slave: 2, coil: 0, responseTimeoutMs: 300 }
readers:
  - id: front-nfc
    driver: pn532
    path: /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0
    door: front
    mode: entry
    cardFormat: decimal10-reversed
  - id: side-wiegand
    driver: serial-line
    path: /dev/serial/by-id/usb-Prolific_PL2303-if00-port0
    door: side
    mode: entry
    terminator: "\\r\\n"
    pattern: '^([0-9A-F]{6})$'
    decode: { as: wiegand-body-hex, format: h10301, cardFormat: fc-cn }
  - id: desk-qr
    driver: serial-line
    path: /dev/serial/by-id/usb-Honeywell_Scanner-if00
    mode: toggle
    pattern: '^GH1:(?<credential>[0-9]{10})$'
    feedback: { granted: "16 4D 0D", denied: "1B 07" }
`;

describe('config entries for the serial drivers', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('accepts the documented examples and fills in the defaults', () => {
    const { config } = loadConfig(writeSite(dir.path, EXAMPLES));
    expect(config.doors[0]?.relay).toEqual({
      driver: 'modbus-rtu',
      path: '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0',
      slave: 1,
      coil: 0,
      baudRate: 9600,
      parity: 'none',
      stopBits: 1,
      responseTimeoutMs: 500,
      retries: 1,
      faultAfterTimeouts: 3,
    });
    expect(config.readers[0]).toMatchObject({ driver: 'pn532', baudRate: 115_200, pollIntervalMs: 100, removalPolls: 3, activationRetries: 2 });
    expect(config.readers[1]).toMatchObject({ driver: 'serial-line', terminator: '\r\n', maxLineLength: 256, repeatMs: 1000 });
    expect(config.readers[2]).toMatchObject({ decode: { as: 'text' }, feedback: { granted: '16 4D 0D' } });
  });

  it('builds the drivers from the examples, sharing the RS-485 port between both doors', () => {
    const { config } = loadConfig(writeSite(dir.path, EXAMPLES));
    const factory = createDriverFactory(silentLogger);
    const [nfc, wiegand, qr] = config.readers.map((reader) => factory.reader(reader).driver);
    expect(nfc).toBeInstanceOf(Pn532Reader);
    expect(wiegand).toBeInstanceOf(SerialLineReader);
    // Feedback exists only where the device can give it: not on a PN532 board, not on a converter without bytes configured.
    expect([nfc, wiegand, qr].map((driver) => driver !== undefined && 'feedback' in driver)).toEqual([false, false, true]);
    const relays = config.doors.map((door) => factory.relay(door));
    expect(relays.every((relay) => relay instanceof ModbusCoilRelay)).toBe(true);
    // A second door on the same coil would open the first one's lock.
    const front = config.doors[0];
    if (front === undefined) throw new Error('no door');
    expect(() => factory.relay({ ...front, id: 'twin' })).toThrow(/already used by door:front/);
  });

  it('rejects bad values with their paths', () => {
    const body = `doors:
  - { id: d, relay: { driver: modbus-rtu, path: /dev/x, slave: 0, coil: 0, parity: mark } }
readers:
  - { id: a, driver: pn532, path: /dev/y, mode: entry, cardFormat: decimal12, activationRetries: 255 }
  - { id: b, driver: serial-line, path: /dev/z, mode: entry, pattern: "(unclosed", feedback: { granted: "beep" } }
  - { id: c, driver: serial-line, path: /dev/z2, mode: entry, decode: { as: wiegand-body-hex, format: h10399 } }
`;
    let problems: readonly { path: string }[] = [];
    try {
      loadConfig(writeSite(dir.path, body));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'doors[0].relay.slave',
        'doors[0].relay.parity',
        'readers[0].cardFormat',
        'readers[0].activationRetries',
        'readers[1].pattern',
        'readers[1].feedback.granted',
        'readers[2].decode.format',
      ]),
    );
  });

  it('checks HID entries: a reader needs usbId or path, ids look like lsusb, one relay channel per door', () => {
    const body = `doors:
  - { id: d1, relay: { driver: usb-hid-relay, serial: QWERT, channel: 1 } }
  - { id: d2, relay: { driver: usb-hid-relay, serial: QWERT, channel: 1 } }
  - { id: d3, relay: { driver: usb-hid-relay, serial: QWERT, channel: 9 } }
readers:
  - { id: a, driver: hid-keyboard, mode: entry }
  - { id: b, driver: hid-keyboard, usbId: "0xffff", mode: entry, layout: dvorak }
  - { id: c, driver: hid-keyboard, usbId: "ffff:0035", serialNumber: R1, mode: entry, feedback: { granted: "00 89" } }
`;
    let problems: readonly { path: string; message: string }[] = [];
    try {
      loadConfig(writeSite(dir.path, body));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['doors[2].relay.channel', 'readers[0].usbId', 'readers[1].usbId', 'readers[1].layout']),
    );
    expect(problems.some((p) => p.path.startsWith('readers[2]'))).toBe(false);
    const shapeValid = body.replace(/ {2}- \{ id: d3, .*\n/, '').replace(/ {2}- \{ id: [ab], .*\n/g, '');
    expect(() => loadConfig(writeSite(dir.path, shapeValid))).toThrow('doors[1].relay: relay channel already used by door "d1"');
    const valid = loadConfig(writeSite(dir.path, shapeValid.replace('{ id: d2, relay: { driver: usb-hid-relay, serial: QWERT, channel: 1 }', '{ id: d2, relay: { driver: usb-hid-relay, serial: QWERT, channel: 2 }')));
    expect(valid.config.hid.backend).toBe('libusb');
  });

  it('offers exactly the formats the drivers implement', () => {
    expect(uidCardFormatSchema.unwrap().options).toEqual([...UID_CARD_FORMATS]);
    expect(wiegandFormatSchema.unwrap().options).toEqual([...WIEGAND_FORMAT_NAMES]);
    expect(wiegandCardFormatSchema.unwrap().options).toEqual([...WIEGAND_CARD_FORMATS]);
    const encodings = lineDecodeSchema
      .unwrap()
      .options.flatMap((option) => (option.shape.as.type === 'literal' ? [...option.shape.as.values] : option.shape.as.options));
    expect(encodings).toEqual(['text', ...WIEGAND_LINE_ENCODINGS]);
    expect(readerSchema.options.map((option) => option.shape.driver.value)).toEqual(expect.arrayContaining(['pn532', 'serial-line']));
    expect(relaySchema.options.map((option) => option.shape.driver.value)).toContain('modbus-rtu');
  });
});
