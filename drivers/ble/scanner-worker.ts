/**
 * The BLE scanner child process (forked by scanner.ts). It alone loads noble
 * and its native HCI socket, so a native crash, an EALREADY thrown from a
 * socket callback, or an adapter reset kills this process only; the daemon
 * restarts it. It parses each advertisement in noble's discover handler
 * (noble merges advertisements per address later) and sends parsed frames.
 *
 * Environment: NOBLE_HCI_DEVICE_ID (read by noble itself),
 * GATEHOUSE_NOBLE_MODULE (a module to load instead of @stoprocent/noble:
 * the tests' fake), GATEHOUSE_BLE_TAP_COMPANY, GATEHOUSE_BLE_POWER_ON_MS.
 */
import { parseAdvertisement } from './parse-advertisement.js';
import { reasonOfError, reasonOfState } from './unavailable.js';
import { EXIT_UNAVAILABLE, type UnavailableReason, type WorkerMessage } from './worker-messages.js';
import type { NobleAdvertisementData } from './frames.js';

/** The part of noble this process uses. */
interface NobleLike {
  readonly state: string;
  on(event: 'discover', listener: (peripheral: PeripheralLike) => void): unknown;
  on(event: 'stateChange', listener: (state: string) => void): unknown;
  waitForPoweredOnAsync(timeoutMs?: number): Promise<void>;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
}

interface PeripheralLike {
  readonly address: string;
  readonly rssi: number;
  readonly advertisement: NobleAdvertisementData;
}

const send = (message: WorkerMessage): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });

async function unavailable(reason: UnavailableReason, message: string): Promise<never> {
  await send({ type: 'unavailable', reason, message });
  process.exit(EXIT_UNAVAILABLE);
}

async function loadNoble(): Promise<NobleLike> {
  const name = process.env.GATEHOUSE_NOBLE_MODULE ?? '@stoprocent/noble';
  try {
    const mod = (await import(name)) as { default?: NobleLike };
    return mod.default ?? (mod as unknown as NobleLike);
  } catch (error) {
    return unavailable('no-library', error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<void> {
  const tapCompanyId = Number(process.env.GATEHOUSE_BLE_TAP_COMPANY ?? 0xffff);
  const powerOnMs = Number(process.env.GATEHOUSE_BLE_POWER_ON_MS ?? 10_000);
  const noble = await loadNoble();
  let scanning = false;

  noble.on('stateChange', (state) => {
    const reason = reasonOfState(state);
    // Losing the adapter while scanning ends this process: the daemon restarts it and reports why.
    if (scanning && reason !== null) void unavailable(reason, `adapter state changed to ${state}`);
  });
  noble.on('discover', (peripheral) => {
    const { frames, errors } = parseAdvertisement(peripheral.advertisement, { tapCompanyId });
    const at = Date.now();
    for (const frame of frames) void send({ type: 'advertisement', ad: { ...frame, address: peripheral.address, rssi: peripheral.rssi, at } });
    for (const error of errors) void send({ type: 'malformed', error });
  });

  // An adapter that reports it cannot scan fails at once instead of after the power-on timeout.
  const refused = new Promise<never>((_resolve, reject) => {
    noble.on('stateChange', (state) => {
      if (!scanning && reasonOfState(state) !== null) reject(new Error(`adapter state ${state}`));
    });
  });
  refused.catch(() => undefined); // raced below; a refusal after power-on is handled by the stateChange listener above
  try {
    await Promise.race([noble.waitForPoweredOnAsync(powerOnMs), refused]);
  } catch (error) {
    const reason = reasonOfState(noble.state) ?? reasonOfError(error) ?? 'timeout';
    await unavailable(reason, `adapter state ${noble.state}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    // Duplicates on: every advertisement is an RSSI sample (off, the controller drops repeats).
    await noble.startScanningAsync([], true);
  } catch (error) {
    const reason = reasonOfError(error);
    if (reason !== null) await unavailable(reason, error instanceof Error ? error.message : String(error));
    throw error;
  }
  scanning = true;
  await send({ type: 'scanning' });
}

process.on('disconnect', () => process.exit(0)); // the daemon went away: never outlive it
main().catch((error: unknown) => {
  process.stderr.write(`ble scanner failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
