/**
 * An OSDP reader as a ReaderDriver: RAW card bits through the Wiegand decoder
 * (parity checked) to the configured card number format, keypad keys as
 * keystrokes for the daemon's PIN assembly, grant/deny as LED colour and
 * buzzer. Tamper and power reports are device events (logged, counted).
 */
import { SecretValue } from '../../daemon/runtime/secret.js';
import { formatWiegandCard, type WiegandCardFormat } from '../card-format/wiegand-number.js';
import { Listeners } from '../serial/listeners.js';
import type { PresentedCredential, ReaderDriver, ReaderFeedback } from '../types.js';
import { wiegandBitsFromBytes } from '../wiegand/bits.js';
import { WiegandDecoder } from '../wiegand/decode.js';
import type { WiegandFormatName } from '../wiegand/formats.js';
import type { PdHub } from './bus.js';
import { encodeBuz, encodeLed, keypadCharacters, type KeypadData, type RawCardData } from './commands.js';
import { CMD } from './constants.js';
import { OsdpPdDriver, type OsdpPdDriverOptions } from './pd-driver.js';

export interface OsdpReaderOptions extends OsdpPdDriverOptions {
  /** Reader number on the PD (most PDs have one reader, 0). */
  readonly reader?: number;
  readonly wiegandFormats: readonly WiegandFormatName[];
  readonly cardFormat: WiegandCardFormat;
}

/** Tamper or power-loss change reported by the PD. */
export interface OsdpDeviceEvent {
  readonly deviceId: string;
  readonly type: 'tamper' | 'power';
  /** true = tamper switch open / power failure. */
  readonly active: boolean;
}

export class OsdpReader extends OsdpPdDriver implements ReaderDriver {
  readonly #reader: number;
  readonly #decoder: WiegandDecoder;
  readonly #cardFormat: WiegandCardFormat;
  readonly #reads: Listeners<PresentedCredential>;
  readonly #deviceEvents: Listeners<OsdpDeviceEvent>;
  readonly #c = { cardReads: 0, unreadableCards: 0, keystrokes: 0, tamperEvents: 0, powerEvents: 0, feedbackFailed: 0 };
  #tamper: boolean | null = null;
  #power: boolean | null = null;

  constructor(options: OsdpReaderOptions) {
    super(options);
    this.#reader = options.reader ?? 0;
    this.#decoder = new WiegandDecoder(options.wiegandFormats);
    this.#cardFormat = options.cardFormat;
    this.#reads = new Listeners(options.deviceId, options.logger, 'read');
    this.#deviceEvents = new Listeners(options.deviceId, options.logger, 'device event');
  }

  onRead(listener: (credential: PresentedCredential) => void): void {
    this.#reads.add(listener);
  }

  /** Tamper and power changes; the gateway may publish them. */
  onDeviceEvent(listener: (event: OsdpDeviceEvent) => void): void {
    this.#deviceEvents.add(listener);
  }

  feedback(signal: ReaderFeedback): void {
    if (!this.isOpen) return;
    const granted = signal === 'granted';
    const led = encodeLed({ reader: this.#reader, colour: granted ? 'green' : 'red', durationMs: granted ? 2_000 : 1_000, idleColour: 'off' });
    const buz = encodeBuz(granted ? { reader: this.#reader, onMs: 200, offMs: 0, count: 1 } : { reader: this.#reader, onMs: 100, offMs: 100, count: 3 });
    for (const [code, data] of [
      [CMD.LED, led],
      [CMD.BUZ, buz],
    ] as const) {
      this.bus.send(this.address, code, data).catch((error: unknown) => {
        this.#c.feedbackFailed += 1;
        this.logger.debug({ deviceId: this.deviceId, err: error instanceof Error ? error.message : String(error) }, 'OSDP feedback not delivered');
      });
    }
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.linkCounters(), ...this.#c };
  }

  protected subscribe(hub: PdHub): void {
    hub.card.add((raw) => this.#onCard(raw));
    hub.keypad.add((keys) => this.#onKeypad(keys));
    hub.localStatus.add(({ tamper, power }) => {
      if (tamper !== this.#tamper) this.#deviceEvent('tamper', tamper, this.#tamper === null);
      if (power !== this.#power) this.#deviceEvent('power', power, this.#power === null);
      this.#tamper = tamper;
      this.#power = power;
    });
  }

  #onCard(raw: RawCardData): void {
    if (!this.isOpen || raw.reader !== this.#reader) return;
    const bits = wiegandBitsFromBytes(raw.bits, raw.bitCount);
    const decoded = bits === undefined ? undefined : this.#decoder.decode(bits);
    if (decoded === undefined || !decoded.ok) {
      this.#c.unreadableCards += 1;
      this.logger.info(
        { deviceId: this.deviceId, bitCount: raw.bitCount, reason: decoded === undefined ? 'bits' : decoded.reason },
        'OSDP card data not in a configured Wiegand format',
      );
      return;
    }
    this.#c.cardReads += 1;
    this.#reads.emit({ kind: 'card', number: new SecretValue(formatWiegandCard(decoded.card, this.#cardFormat)) });
  }

  #onKeypad(data: KeypadData): void {
    if (!this.isOpen || data.reader !== this.#reader) return;
    const keys = keypadCharacters(data.keys);
    if (keys.length === 0) return;
    this.#c.keystrokes += keys.length;
    this.#reads.emit({ kind: 'keystrokes', keys: new SecretValue(keys) });
  }

  #deviceEvent(type: OsdpDeviceEvent['type'], active: boolean, initial: boolean): void {
    // The first report after connecting is the current state, not a change, unless it is an alarm.
    if (initial && !active) return;
    if (type === 'tamper') this.#c.tamperEvents += 1;
    else this.#c.powerEvents += 1;
    this.logger.warn({ deviceId: this.deviceId, event: type, active }, `OSDP PD ${type} ${active ? 'alarm' : 'cleared'}`);
    this.#deviceEvents.emit({ deviceId: this.deviceId, type, active });
  }
}
