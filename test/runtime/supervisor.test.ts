import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import type { DeviceDriver } from '../../drivers/types.js';
import { memoryLogger } from '../support/site.js';
import { waitFor } from '../support/pty.js';

/** A device whose availability the test controls. */
class FlakyDevice implements DeviceDriver {
  readonly deviceId = 'flaky';
  present = false;
  opens = 0;
  closes = 0;
  readonly #fault = new Set<(e: Error) => void>();
  async open(): Promise<void> {
    this.opens++;
    if (!this.present) throw new Error('no such device /dev/flaky');
  }
  async close(): Promise<void> {
    this.closes++;
  }
  onFault(listener: (e: Error) => void): void {
    this.#fault.add(listener);
  }
  unplug(): void {
    this.present = false;
    for (const l of this.#fault) l(new Error('unplugged'));
  }
}

describe('Supervisor', () => {
  it('retries with capped backoff, reports status, and re-runs online handlers after a fault', async () => {
    const device = new FlakyDevice();
    const { logger, lines } = memoryLogger('debug');
    const supervisor = new Supervisor(device, { logger, minBackoffMs: 10, maxBackoffMs: 40 });
    let onlineCount = 0;
    supervisor.onOnline(() => onlineCount++);
    supervisor.start();
    await waitFor(() => device.opens >= 5, 'several retries');
    expect(supervisor.status()).toMatchObject({ state: 'offline', lastError: 'no such device /dev/flaky', faults: 0 });
    // One warning for a new failure, repeats only at debug level.
    expect(lines.filter((l) => l.includes('"level":40') && l.includes('device unavailable')).length).toBe(1);

    device.present = true;
    await waitFor(() => supervisor.state === 'online', 'online once present');
    expect(onlineCount).toBe(1);

    device.unplug();
    expect(supervisor.state).not.toBe('online');
    device.present = true;
    await waitFor(() => supervisor.state === 'online', 'back online');
    expect(supervisor.status().faults).toBe(1);
    expect(onlineCount).toBe(2);
    expect(device.closes).toBe(1);

    await supervisor.stop();
    expect(supervisor.state).toBe('stopped');
    const opens = device.opens;
    await new Promise((r) => setTimeout(r, 100));
    expect(device.opens).toBe(opens);
  });

  it('a throwing online handler does not stop the device', async () => {
    const device = new FlakyDevice();
    device.present = true;
    const supervisor = new Supervisor(device, { logger: memoryLogger().logger });
    supervisor.onOnline(() => {
      throw new Error('boom');
    });
    supervisor.start();
    await waitFor(() => supervisor.state === 'online', 'online despite handler error');
    await supervisor.stop();
  });
});
