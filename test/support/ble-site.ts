/** A test site whose members carry BLE credentials: Ada a beacon and a phone tap key, Alan (no pass) a beacon. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DATASET, demo, writeSite } from './site.js';

export const BLE = {
  adaBeacon: 'ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:1:2',
  alanBeacon: 'ibeacon:fda50693-a4e2-4fb1-afcf-c6eb07647825:10001:19641',
  adaKeyId: '0a1b2c3d',
  adaKey: Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'),
} as const;

export function writeBleSite(dir: string, body: string): string {
  const config = writeSite(dir, body);
  const dataset = JSON.parse(readFileSync(DEMO_DATASET, 'utf8')) as { people: { id: string; credentials: object[] }[] };
  for (const person of dataset.people) {
    if (person.id === demo.ada.id) {
      person.credentials.push({ id: 'ada-beacon', kind: 'ble_beacon', value: BLE.adaBeacon });
      person.credentials.push({ id: 'ada-phone', kind: 'ble_key', value: `${BLE.adaKeyId}:${BLE.adaKey.toString('base64')}` });
    }
    if (person.id === demo.alanNoPass.id) person.credentials.push({ id: 'alan-beacon', kind: 'ble_beacon', value: BLE.alanBeacon });
  }
  writeFileSync(join(dir, 'dataset.json'), JSON.stringify(dataset));
  return config;
}
