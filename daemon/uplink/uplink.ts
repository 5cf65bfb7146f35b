/**
 * The daemon's view of the cloud link: an MQTT connection plus the drainer
 * that moves journal rows to it, or nothing at all when no broker is
 * configured (events then stay queued in the journal and `status` shows them).
 */
import type { Logger } from '../runtime/logger.js';
import type { MqttConfig } from '../config/schema.js';
import type { Journal } from '../store/journal.js';
import { MqttLink, redactUrl, type LinkCounters, type LinkError, type LinkState } from './mqtt-link.js';
import { OutboxDrainer, type DrainerCounters, type Redelivery } from './outbox-drainer.js';
import type { DeviceAvailability } from './payloads.js';

export type UplinkStatus =
  | { readonly state: 'disabled' }
  | {
      readonly state: LinkState;
      readonly broker: string;
      readonly connectedSince: string | null;
      readonly lastError: LinkError | null;
      readonly link: LinkCounters;
      readonly outbox: DrainerCounters;
    };

export interface Uplink {
  start(): void;
  /** Stop draining, publish the offline status when connected, disconnect. Never rejects. */
  stop(): Promise<void>;
  status(): UplinkStatus;
  /** The broker connection, for components that subscribe (cloud commands, acks, sync); null without a broker. */
  readonly link: MqttLink | null;
  /** A device changed state: publish the retained status with the new availability (debounced). */
  devicesChanged(): void;
  /** Send every undelivered event again now (`gatehouse outbox retry`). */
  redeliver(): Redelivery | { readonly started: false; readonly reason: 'disabled' };
}

export interface UplinkOptions {
  readonly config: MqttConfig | undefined;
  readonly password: string | undefined;
  readonly siteId: string;
  readonly gatewayId: string;
  readonly bootId: string;
  readonly version: string;
  readonly journal: Journal;
  readonly logger: Logger;
  /** Every configured device and its availability, for the retained status. */
  readonly devices?: () => readonly DeviceAvailability[];
}

/** Devices flapping together (a hub unplugged) give one status publish, not one each. */
const STATUS_DEBOUNCE_MS = 1_000;

export function createUplink(options: UplinkOptions): Uplink {
  const { config } = options;
  if (config === undefined) {
    return {
      start: () => undefined,
      stop: async () => undefined,
      status: () => ({ state: 'disabled' }),
      link: null,
      devicesChanged: () => undefined,
      redeliver: () => ({ started: false, reason: 'disabled' }),
    };
  }
  const link = new MqttLink({
    config,
    password: options.password,
    gatewayId: options.gatewayId,
    siteId: options.siteId,
    bootId: options.bootId,
    version: options.version,
    logger: options.logger,
    devices: options.devices,
  });
  let refresh: NodeJS.Timeout | null = null;
  const drainer = new OutboxDrainer({ journal: options.journal, link, logger: options.logger, maxInflight: config.maxInflight });
  const broker = redactUrl(config.url);
  return {
    link,
    start() {
      link.start();
      drainer.start();
    },
    redeliver: () => drainer.redeliver(),
    devicesChanged() {
      if (refresh !== null) return;
      refresh = setTimeout(() => {
        refresh = null;
        link.refreshStatus();
      }, STATUS_DEBOUNCE_MS);
      refresh.unref();
    },
    async stop() {
      if (refresh !== null) clearTimeout(refresh);
      drainer.stop();
      await link.stop().catch((error: unknown) => options.logger.warn({ err: error }, 'mqtt stop failed'));
    },
    status() {
      const since = link.connectedSince;
      return {
        state: link.state,
        broker,
        connectedSince: since === null ? null : new Date(since).toISOString(),
        lastError: link.lastError,
        link: link.counters,
        outbox: drainer.counters,
      };
    },
  };
}

