/**
 * From a config entry to a driver instance. The only place that knows which
 * driver names exist; adding hardware means adding a case here and a schema
 * entry in daemon/config/schema.ts.
 */
import type { DoorConfig, ReaderConfig } from '../daemon/config/schema.js';
import type { PresentedCredential, ReaderDriver, RelayDriver } from './types.js';
import type { DriverLogger } from './serial/logger.js';
import { Rdm6300Reader } from './rdm6300/reader.js';
import { LcusRelayRegistry } from './lcus/relay.js';
import { SimReader } from './sim/sim-reader.js';
import { SimRelay } from './sim/sim-relay.js';

export interface ReaderHandle {
  readonly driver: ReaderDriver;
  /** Present only for simulated readers: inject a read. Returns false when the reader is not open. */
  readonly simulate?: (credential: PresentedCredential) => boolean;
}

export interface DriverFactory {
  reader(config: ReaderConfig): ReaderHandle;
  relay(door: DoorConfig): RelayDriver;
}

export function createDriverFactory(logger: DriverLogger): DriverFactory {
  // One registry per daemon, so that doors on channels of the same LCUS board share its port.
  const lcus = new LcusRelayRegistry({ logger });
  return {
    reader(config) {
      switch (config.driver) {
        case 'rdm6300':
          return {
            driver: new Rdm6300Reader({
              deviceId: config.id,
              path: config.path,
              baudRate: config.baudRate,
              cardFormat: config.cardFormat,
              removalMs: config.removalMs,
              logger,
            }),
          };
        case 'sim': {
          const sim = new SimReader(config.id);
          return { driver: sim, simulate: (credential) => sim.present(credential) };
        }
      }
    },
    relay(door) {
      const deviceId = `door:${door.id}`;
      switch (door.relay.driver) {
        case 'lcus':
          return lcus.relay({ deviceId, path: door.relay.path, channel: door.relay.channel, baudRate: door.relay.baudRate });
        case 'sim':
          return new SimRelay(deviceId);
      }
    },
  };
}
