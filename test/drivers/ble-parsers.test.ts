import { describe, expect, it } from 'vitest';
import { parseAltBeacon } from '../../drivers/ble/altbeacon.js';
import { beaconIdOf, BeaconIdFormatError, canonicalBeaconId } from '../../drivers/ble/beacon-id.js';
import { parseEddystone } from '../../drivers/ble/eddystone.js';
import { AdvertisementFormatError } from '../../drivers/ble/frames.js';
import { parseIBeacon } from '../../drivers/ble/ibeacon.js';
import { parseAdvertisement } from '../../drivers/ble/parse-advertisement.js';
import { ALTBEACON, EDDYSTONE_TLM, EDDYSTONE_UID, EDDYSTONE_URL_EXAMPLE, EDDYSTONE_URL_GOO_GL, hex, IBEACON_1, IBEACON_2 } from './ble-test-vectors.js';

describe('iBeacon', () => {
  it('decodes the reference vectors', () => {
    expect(parseIBeacon(IBEACON_1)).toEqual({ uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0', major: 1, minor: 2, measuredPower: -59 });
    expect(parseIBeacon(IBEACON_2)).toEqual({ uuid: 'fda50693-a4e2-4fb1-afcf-c6eb07647825', major: 10001, minor: 19641, measuredPower: -59 });
  });
  it('leaves other Apple types and other companies alone', () => {
    expect(parseIBeacon(hex('4c0010050118f4a2b3'))).toBeNull(); // Nearby
    expect(parseIBeacon(hex('4d000215'))).toBeNull();
  });
  it('refuses a cut-short iBeacon with a clear error', () => {
    expect(() => parseIBeacon(IBEACON_1.subarray(0, 24))).toThrow(new AdvertisementFormatError('iBeacon data is 24 bytes, expected 25'));
  });
});

describe('Eddystone', () => {
  it('decodes UID with and without the RFU bytes', () => {
    const uid = { txPower: -18, namespace: '8b0ca750095477cb3e77', instance: '000000000001' };
    expect(parseEddystone(EDDYSTONE_UID)).toEqual({ kind: 'eddystone-uid', fields: uid });
    expect(parseEddystone(EDDYSTONE_UID.subarray(0, 18))).toEqual({ kind: 'eddystone-uid', fields: uid });
    expect(() => parseEddystone(EDDYSTONE_UID.subarray(0, 19))).toThrow(/18 or 20/);
  });
  it('decodes URL frames with scheme and expansions', () => {
    expect(parseEddystone(EDDYSTONE_URL_EXAMPLE)).toEqual({ kind: 'eddystone-url', fields: { txPower: -20, url: 'https://example.com/' } });
    expect(parseEddystone(EDDYSTONE_URL_GOO_GL)).toEqual({ kind: 'eddystone-url', fields: { txPower: -18, url: 'https://goo.gl/Aq18zF' } });
    expect(() => parseEddystone(hex('10 EC 04 65'))).toThrow(/scheme byte 0x4 is reserved/);
    expect(() => parseEddystone(hex('10 EC 03 65 20'))).toThrow(/byte 0x20 is reserved/);
  });
  it('decodes plain TLM, with "not supported" values as null', () => {
    expect(parseEddystone(EDDYSTONE_TLM)).toEqual({
      kind: 'eddystone-tlm',
      fields: { batteryMv: 3000, temperatureC: 24.25, advCount: 4660, uptimeS: 2000 },
    });
    expect(parseEddystone(hex('20 00 00 00 FA 80 00 00 00 01 00 00 00 0A'))?.fields).toEqual({ batteryMv: null, temperatureC: -5.5, advCount: 1, uptimeS: 1 });
    expect(parseEddystone(hex('20 00 0B B8 80 00 00 00 00 01 00 00 00 0A'))?.fields).toMatchObject({ temperatureC: null });
  });
  it('skips encrypted TLM and EID, which need the beacon key', () => {
    expect(parseEddystone(hex('20 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'))).toBeNull();
    expect(parseEddystone(hex('30 EE 01 02 03 04 05 06 07 08'))).toBeNull();
  });
});

describe('AltBeacon', () => {
  it('decodes the reference vector', () => {
    expect(parseAltBeacon(ALTBEACON)).toEqual({
      manufacturerId: 0x0118,
      beaconId: '2f234454cf6d4a0fadf2f4911ba9ffa600010002',
      id1: '2f234454-cf6d-4a0f-adf2-f4911ba9ffa6',
      id2: 1,
      id3: 2,
      refRssi: -59,
      reserved: 0,
    });
    expect(() => parseAltBeacon(ALTBEACON.subarray(0, 25))).toThrow(/25 bytes, expected 26/);
  });
});

describe('parseAdvertisement: what noble delivers', () => {
  it('reads manufacturer data and every Eddystone service-data entry', () => {
    expect(parseAdvertisement({ manufacturerData: IBEACON_1 }).frames.map((f) => f.kind)).toEqual(['ibeacon']);
    expect(parseAdvertisement({ manufacturerData: ALTBEACON }).frames.map((f) => f.kind)).toEqual(['altbeacon']);
    expect(parseAdvertisement({ serviceData: [{ uuid: 'feaa', data: EDDYSTONE_UID }] }).frames.map((f) => f.kind)).toEqual(['eddystone-uid']);
    expect(parseAdvertisement({ serviceData: [{ uuid: '180f', data: hex('64') }] })).toEqual({ frames: [], errors: [] });
  });
  it('keeps unknown manufacturer data raw, and reports broken frames without throwing', () => {
    expect(parseAdvertisement({ manufacturerData: hex('590001020304') }).frames).toEqual([
      { kind: 'manufacturer', fields: { companyId: 0x0059, data: '01020304' } },
    ]);
    expect(parseAdvertisement({ manufacturerData: hex('59'), serviceData: [{ uuid: 'feaa', data: hex('00EE') }] })).toEqual({
      frames: [],
      errors: ['manufacturer data is 1 byte(s), shorter than a company id', 'Eddystone-UID frame is 2 bytes, expected 18 or 20'],
    });
  });
});

describe('beacon ids (ble_beacon credential values)', () => {
  it('names each static beacon in the canonical form the platform stores', () => {
    const ids = [IBEACON_1, ALTBEACON].map((m) => beaconIdOf(parseAdvertisement({ manufacturerData: m }).frames[0]!));
    const eddy = beaconIdOf(parseAdvertisement({ serviceData: [{ uuid: 'feaa', data: EDDYSTONE_UID }] }).frames[0]!);
    expect([...ids, eddy]).toEqual([
      'ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:1:2',
      'altbeacon:2f234454-cf6d-4a0f-adf2-f4911ba9ffa6:1:2',
      'eddystone:8b0ca750095477cb3e77:000000000001',
    ]);
  });
  it('canonicalises what the cloud sends', () => {
    expect(canonicalBeaconId('iBeacon:E2C56DB5DFFB48D2B060D0F5A71096E0:001:02')).toBe('ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:1:2');
    expect(canonicalBeaconId(' eddystone:8B0CA750095477CB3E77:000000000001 ')).toBe('eddystone:8b0ca750095477cb3e77:000000000001');
    expect(() => canonicalBeaconId('ibeacon:e2c56db5:1:2')).toThrow(BeaconIdFormatError);
    expect(() => canonicalBeaconId('ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:65536:2')).toThrow(/0 to 65535/);
    expect(() => canonicalBeaconId('0004614867')).toThrow(/expected "ibeacon/);
  });
});
