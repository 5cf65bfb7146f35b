import { describe, expect, it } from 'vitest';
import { decodeFirmwareVersion, decodeInListPassiveTarget, decodeStatus } from '../../drivers/pn532/commands.js';
import { NO_TARGET, responseFrames, targetFrames } from './pn532-test-vectors.js';

/** Parameters after TFI and response code, as the link hands them over. */
const paramsOf = (frame: readonly number[]) => Uint8Array.from(frame.slice(7, -2));

describe('decodeInListPassiveTarget', () => {
  it.each(targetFrames.map((v) => [v.name, v] as const))('decodes %s', (_, vector) => {
    const result = decodeInListPassiveTarget(paramsOf(vector.frame));
    expect(result).toEqual({
      kind: 'target',
      target: { tg: 1, sensRes: vector.sensRes, selRes: vector.sak, uid: Buffer.from(vector.uid) },
    });
  });

  it('decodes an empty field', () => {
    expect(decodeInListPassiveTarget(paramsOf(NO_TARGET))).toEqual({ kind: 'none' });
  });

  it('honours NFCIDLength 10', () => {
    const uid = [0x04, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(decodeInListPassiveTarget(Uint8Array.from([1, 1, 0x00, 0x44, 0x00, 10, ...uid]))).toMatchObject({
      kind: 'target',
      target: { uid: Buffer.from(uid) },
    });
  });

  it.each([
    ['no bytes', []],
    ['two targets (only one was asked for)', [2, 1, 0, 4, 8, 4, 1, 2, 3, 4, 2, 0, 4, 8, 4, 5, 6, 7, 8]],
    ['a UID length of 5', [1, 1, 0, 4, 8, 5, 1, 2, 3, 4, 5]],
    ['a UID cut short', [1, 1, 0, 4, 8, 7, 1, 2, 3, 4]],
    ['trailing bytes without an ISO 14443-4 SAK', [1, 1, 0, 4, 8, 4, 1, 2, 3, 4, 9]],
    ['an ATS whose TL disagrees with its length', [1, 1, 0, 4, 0x28, 4, 1, 2, 3, 4, 5, 0x78, 0x80]],
    ['an empty count with trailing bytes', [0, 1]],
  ])('calls %s malformed', (_, params) => {
    expect(decodeInListPassiveTarget(Uint8Array.from(params))).toEqual({ kind: 'malformed' });
  });
});

describe('other responses', () => {
  it('decodes the firmware version PN532 v1.6', () => {
    const data = responseFrames[0]?.data ?? [];
    expect(decodeFirmwareVersion(Uint8Array.from(data.slice(1)))).toEqual({ ic: 0x32, version: 1, revision: 6, support: 7 });
    expect(decodeFirmwareVersion(Uint8Array.from([0x32, 1]))).toBeUndefined();
  });

  it('decodes the InRelease status', () => {
    expect(decodeStatus(Uint8Array.from([0x00]))).toBe(0);
    expect(decodeStatus(Uint8Array.from([0x41]))).toBe(0x01);
    expect(decodeStatus(Uint8Array.from([]))).toBeUndefined();
  });
});
