/** Garbage in, a clear result out: every parser either reads a frame, declines, or says what is wrong. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BeaconIdFormatError, canonicalBeaconId } from '../../drivers/ble/beacon-id.js';
import { parseEddystone } from '../../drivers/ble/eddystone.js';
import { AdvertisementFormatError } from '../../drivers/ble/frames.js';
import { parseAdvertisement } from '../../drivers/ble/parse-advertisement.js';
import { encodeTapToken, parseTapToken } from '../../drivers/ble/tap-token.js';
import { parseWorkerMessage } from '../../drivers/ble/worker-messages.js';
import { fcOptions } from '../support/fast-check.js';
import { ALTBEACON, EDDYSTONE_UID, IBEACON_1 } from './ble-test-vectors.js';

const bytes = (max = 40) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
/** Random bytes behind a real prefix, so the format-specific checks get exercised, not just the company id. */
const prefixed = fc.oneof(
  bytes(),
  fc.tuple(fc.constantFrom(IBEACON_1, ALTBEACON, encodeTapToken(Buffer.alloc(32, 1), Buffer.alloc(4, 2), 7)), fc.nat(30), bytes(10)).map(([v, cut, tail]) =>
    Buffer.concat([v.subarray(0, cut), tail]),
  ),
);

describe('BLE parsers on garbage', () => {
  it('parseAdvertisement never throws and reports errors as messages', () => {
    fc.assert(
      fc.property(prefixed, fc.array(fc.tuple(fc.constantFrom('feaa', 'FEAA', '180f'), fc.oneof(bytes(), fc.constant(EDDYSTONE_UID))), { maxLength: 3 }), (m, sd) => {
        const result = parseAdvertisement({ manufacturerData: m, serviceData: sd.map(([uuid, data]) => ({ uuid, data })) });
        expect(result.frames.length + result.errors.length).toBeLessThanOrEqual(1 + sd.length);
        for (const e of result.errors) expect(e.length).toBeGreaterThan(0);
        // JSON-safe: what the child sends over IPC survives a round trip unchanged.
        expect(JSON.parse(JSON.stringify(result.frames))).toEqual(result.frames);
      }),
      fcOptions(2000),
    );
  });
  it('each frame parser throws only its format error', () => {
    fc.assert(
      fc.property(bytes(), (b) => {
        for (const parse of [parseEddystone, parseTapToken]) {
          try {
            parse(b);
          } catch (error) {
            expect(error).toBeInstanceOf(AdvertisementFormatError);
          }
        }
      }),
      fcOptions(2000),
    );
  });
  it('canonicalBeaconId accepts or explains, and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.uuid().map((u) => `ibeacon:${u}:1:2`), fc.stringMatching(/^eddystone:[0-9a-fA-F]{20}:[0-9a-f]{12}$/)), (s) => {
        try {
          const c = canonicalBeaconId(s);
          expect(canonicalBeaconId(c)).toBe(c);
        } catch (error) {
          expect(error).toBeInstanceOf(BeaconIdFormatError);
        }
      }),
      fcOptions(1000),
    );
  });
});

describe('scanner IPC messages on garbage', () => {
  it('parseWorkerMessage accepts well-formed messages and turns anything else into null', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ type: fc.constantFrom('scanning', 'advertisement', 'malformed', 'unavailable'), ad: fc.anything(), error: fc.anything() })), (value) => {
        const m = parseWorkerMessage(value);
        if (m !== null) expect(['scanning', 'advertisement', 'malformed', 'unavailable']).toContain(m.type);
      }),
      fcOptions(2000),
    );
    const ad = { kind: 'ibeacon', fields: { uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0', major: 1, minor: 2, measuredPower: -59 }, address: 'aa', rssi: -60, at: 1 };
    expect(parseWorkerMessage({ type: 'advertisement', ad })).toEqual({ type: 'advertisement', ad });
    expect(parseWorkerMessage({ type: 'advertisement', ad: { ...ad, rssi: 500 } })).toBeNull();
  });
});
