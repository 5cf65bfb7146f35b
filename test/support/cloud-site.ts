/**
 * A daemon wired to a real broker and a test "cloud": the site files with
 * `mqtt` and `cloud` sections, and an mqtt.js client that signs commands and
 * acks with the key the gateway trusts.
 */
import { connect, type MqttClient } from 'mqtt';
import { CommandClient } from '../../scripts/cloud-sim/commands.js';
import { cloudKey, type TestCloudKey } from './cloud-keys.js';
import { writeSite } from './site.js';

export const PREFIX = 'gatehouse/v1';

/** The YAML of a `cloud` section trusting `key`. */
export function cloudSection(key: TestCloudKey): string {
  const pem = key.publicPem.trim().split('\n').map((line) => `        ${line}`).join('\n');
  return `cloud:
  publicKeys:
    - id: ${key.id}
      key: |
${pem}
`;
}

export const simHardware = `doors:
  - { id: front, relay: { driver: sim }, pulseMs: 5000 }
  - { id: back, relay: { driver: sim }, pulseMs: 400 }
readers:
  - { id: front-in, driver: sim, door: front, mode: entry }
  - { id: front-out, driver: sim, door: front, mode: exit }
`;

/** Writes a site talking to `brokerUrl` that trusts `key`; returns the config path. */
export function writeCloudSite(dir: string, brokerUrl: string, key: TestCloudKey, hardware = simHardware): string {
  return writeSite(dir, `mqtt: { url: "${brokerUrl}", reconnectMs: 200 }\n${cloudSection(key)}${hardware}`);
}

export function testCloudKey(): TestCloudKey {
  return cloudKey('cloud-2026');
}

/** A connected mqtt.js client playing the cloud. */
export async function cloudClient(url: string): Promise<MqttClient> {
  const client = connect(url, { clientId: `cloud-${Math.random().toString(16).slice(2)}`, protocolVersion: 4, reconnectPeriod: 100, connectTimeout: 5_000 });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cloud client could not connect to ${url}`)), 15_000);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

/**
 * Resolves once the gateway answers on its command topic, i.e. its
 * subscription is active (a command published before the SUBACK would be
 * lost: commands are not retained). Probes with an unsigned message, which the
 * gateway rejects without effect; returns how many probes it took, so
 * counters can be corrected.
 */
export async function waitForCommandSubscription(commands: CommandClient, gatewayId: string, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let probe = 1; ; probe++) {
    try {
      await commands.sendRaw(gatewayId, JSON.stringify({ cmdId: `probe-${probe}` }), `probe-${probe}`, 500);
      return probe;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
