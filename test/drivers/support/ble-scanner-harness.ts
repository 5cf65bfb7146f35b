/** Runs BleScanner children against the fake noble with a fixture written to a temp dir. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BleScanner } from '../../../drivers/ble/scanner.js';
import type { BleAdvertisement } from '../../../drivers/ble/frames.js';
import type { Logger } from '../../../daemon/runtime/logger.js';
import type { NobleFixture } from './fake-noble.js';

export const FAKE_NOBLE = join(import.meta.dirname, 'fake-noble.ts');

/** The env a child needs to load the fake noble with this fixture. */
export function fakeNobleEnv(dir: string, fixture: NobleFixture, name = 'noble-fixture.json'): Record<string, string> {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(fixture));
  return { GATEHOUSE_FAKE_NOBLE_FIXTURE: path };
}

export function fakeScanner(dir: string, fixture: NobleFixture, logger: Logger, hciDevice = 0): { scanner: BleScanner; received: BleAdvertisement[] } {
  const scanner = new BleScanner({
    deviceId: 'ble:test',
    hciDevice,
    tapCompanyId: 0xffff,
    powerOnTimeoutMs: 2_000,
    nobleModule: FAKE_NOBLE,
    env: fakeNobleEnv(dir, fixture),
    logger,
  });
  const received: BleAdvertisement[] = [];
  scanner.onAdvertisement((ad) => received.push(ad));
  return { scanner, received };
}
