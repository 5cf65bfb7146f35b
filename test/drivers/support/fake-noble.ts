/**
 * A stand-in for @stoprocent/noble, loaded by the BLE scanner child process
 * (GATEHOUSE_NOBLE_MODULE) because no Bluetooth adapter exists here. It is
 * fed from a fixture file (GATEHOUSE_FAKE_NOBLE_FIXTURE): advertisements as
 * noble delivers them (manufacturerData with the company id, serviceData
 * frames without the UUID), recorded sequences, adapter states, and crashes.
 * A `tap` entry is a phone: it computes its rolling token when it sends.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { encodeTapToken, tapStep } from '../../../drivers/ble/tap-token.js';

type AdapterState = 'poweredOn' | 'poweredOff' | 'unauthorized' | 'unsupported' | 'unknown';

interface Repeat {
  readonly everyMs: number;
  readonly times: number;
}

export type FixtureEvent = { readonly afterMs: number; readonly repeat?: Repeat } & (
  | { readonly address: string; readonly rssi: number; readonly manufacturerData?: string; readonly serviceData?: { uuid: string; data: string }[] }
  | { readonly address: string; readonly rssi: number; readonly tap: { readonly key: string; readonly keyId: string; readonly stepOffset?: number } }
  | { readonly crash: 'abort' | 'exit' | 'throw'; readonly onceFile?: string }
  | { readonly state: AdapterState }
);

export interface NobleFixture {
  /** The adapter state noble settles in (default poweredOn). */
  readonly state?: AdapterState;
  /** startScanningAsync rejects with this (e.g. EPERM without CAP_NET_RAW). */
  readonly startScanningError?: { readonly code: string; readonly message: string };
  readonly events: readonly FixtureEvent[];
}

class FakeNoble extends EventEmitter {
  state: AdapterState = 'unknown';
  readonly #fixture: NobleFixture;

  constructor(fixture: NobleFixture) {
    super();
    this.#fixture = fixture;
    setTimeout(() => this.#setState(fixture.state ?? 'poweredOn'), 5);
  }

  #setState(state: AdapterState): void {
    this.state = state;
    this.emit('stateChange', state);
  }

  waitForPoweredOnAsync(timeoutMs = 10_000): Promise<void> {
    if (this.state === 'poweredOn') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Timeout waiting for Noble to be powered on')), timeoutMs);
      this.on('stateChange', (state: AdapterState) => {
        if (state !== 'poweredOn') return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async startScanningAsync(_uuids: string[] = [], allowDuplicates = false): Promise<void> {
    const e = this.#fixture.startScanningError;
    if (e !== undefined) throw Object.assign(new Error(e.message), { code: e.code });
    // Without duplicates the controller drops repeats and RSSI cannot be tracked.
    if (!allowDuplicates) throw new Error('fake noble: scanning without allowDuplicates');
    for (const event of this.#fixture.events) {
      const repeat = event.repeat ?? { everyMs: 0, times: 1 };
      for (let i = 0; i < repeat.times; i++) setTimeout(() => this.#play(event), event.afterMs + i * repeat.everyMs);
    }
  }

  async stopScanningAsync(): Promise<void> {}

  #play(event: FixtureEvent): void {
    if ('crash' in event) {
      if (event.onceFile !== undefined) {
        if (existsSync(event.onceFile)) return;
        writeFileSync(event.onceFile, 'crashed');
      }
      if (event.crash === 'abort') process.abort();
      if (event.crash === 'exit') process.exit(70);
      throw Object.assign(new Error('EALREADY, Operation already in progress'), { code: 'EALREADY' });
    }
    if ('state' in event) return this.#setState(event.state);
    const manufacturerData =
      'tap' in event
        ? encodeTapToken(Buffer.from(event.tap.key, 'base64'), Buffer.from(event.tap.keyId, 'hex'), tapStep(Date.now()) + (event.tap.stepOffset ?? 0))
        : event.manufacturerData === undefined
          ? undefined
          : Buffer.from(event.manufacturerData, 'hex');
    const serviceData = 'serviceData' in event ? (event.serviceData ?? []).map((s) => ({ uuid: s.uuid, data: Buffer.from(s.data, 'hex') })) : [];
    this.emit('discover', {
      id: event.address.replaceAll(':', ''),
      address: event.address,
      rssi: event.rssi,
      advertisement: { manufacturerData, serviceData, serviceUuids: [] },
    });
  }
}

const path = process.env.GATEHOUSE_FAKE_NOBLE_FIXTURE;
if (path === undefined) throw new Error('GATEHOUSE_FAKE_NOBLE_FIXTURE is not set');
export default new FakeNoble(JSON.parse(readFileSync(path, 'utf8')) as NobleFixture);
