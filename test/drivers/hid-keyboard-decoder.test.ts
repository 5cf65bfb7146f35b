import { describe, expect, it } from 'vitest';
import { usageToChar } from '../../drivers/hid/keyboard-layouts.js';
import { KEY_UP, LEFT_SHIFT, WEDGE_0004614867, keyDown, typeReports } from './hid-test-vectors.js';
import { timed, typeLines } from './support/keyboard-pipeline.js';

describe('boot keyboard reports to lines', () => {
  it('decodes the 22 reports of "0004614867⏎" from the reference', async () => {
    expect(WEDGE_0004614867.flat()).toHaveLength(176);
    const { lines, decoder, assembler } = await typeLines(timed(WEDGE_0004614867));
    expect(lines).toEqual(['0004614867']);
    expect(decoder.counters()).toEqual({ reports: 22, malformedReports: 0, rolloverReports: 0, unmappedKeys: 0 });
    expect(assembler.counters()).toMatchObject({ lines: 1, timedOutLines: 0, brokenLines: 0 });
  });

  it('needs a key-up between repeated digits: a repeated report is the same key still held', async () => {
    const zero = keyDown(0x27);
    const { lines } = await typeLines(timed([zero, zero, KEY_UP, zero, KEY_UP, keyDown(0x28), KEY_UP]));
    expect(lines).toEqual(['00']);
  });

  it('handles rollover: the next key down before the previous one is up', async () => {
    const reports = [
      [0, 0, 0x21, 0, 0, 0, 0, 0], // 4
      [0, 0, 0x21, 0x23, 0, 0, 0, 0], // 6 while 4 is held
      [0, 0, 0x23, 0, 0, 0, 0, 0], // 4 up
      [0, 0, 0x23, 0x1e, 0, 0, 0, 0], // 1 while 6 is held
      [0, 0, 0x1e, 0x28, 0, 0, 0, 0], // Enter while 1 is held
      KEY_UP,
    ];
    expect((await typeLines(timed(reports))).lines).toEqual(['461']);
  });

  it('applies shift for QR payloads and ignores modifier usages in the key slots', async () => {
    const reports = [
      [LEFT_SHIFT, 0, 0, 0, 0, 0, 0, 0],
      [LEFT_SHIFT, 0, 0x0b, 0, 0, 0, 0, 0], // H
      [0, 0, 0xe1, 0, 0, 0, 0, 0], // left shift as a usage: no character
      [0, 0, 0x08, 0, 0, 0, 0, 0], // e
      [0x20, 0, 0x1e, 0, 0, 0, 0, 0], // right shift + 1 = !
      KEY_UP,
      keyDown(0x2d, LEFT_SHIFT), // _
      KEY_UP,
      keyDown(0x58), // keypad Enter
      KEY_UP,
    ];
    expect((await typeLines(timed(reports))).lines).toEqual(['He!_']);
  });

  it('reads keypad digits as digits, whatever the shift state', async () => {
    const keypad = [0x62, 0x59, 0x5a, 0x61].flatMap((usage) => [keyDown(usage, LEFT_SHIFT), KEY_UP]);
    expect((await typeLines(timed([...keypad, keyDown(0x28), KEY_UP]))).lines).toEqual(['0129']);
  });

  it('types for the configured layout: AZERTY digits need shift, QWERTZ swaps y and z', async () => {
    const azerty = [0x27, 0x1e].flatMap((usage) => [keyDown(usage, LEFT_SHIFT), KEY_UP]);
    expect((await typeLines(timed([...azerty, keyDown(0x28)]), { layout: 'fr' })).lines).toEqual(['01']);
    expect((await typeLines(timed([keyDown(0x1e), KEY_UP, keyDown(0x28)]), { layout: 'fr' })).lines).toEqual(['&']);
    expect(usageToChar('de', 0x1c, false)).toBe('z');
    expect(usageToChar('de', 0x1d, true)).toBe('Y');
    expect(usageToChar('us', 0x1c, false)).toBe('y');
  });

  it('drops a line with an ErrorRollOver report, a malformed report, Ctrl or an unmapped key in it', async () => {
    const rollover = [0, 0, 1, 1, 1, 1, 1, 1];
    const cases: (readonly number[])[][] = [
      [keyDown(0x27), rollover, KEY_UP, keyDown(0x1e), KEY_UP],
      [keyDown(0x27), KEY_UP, [0, 0, 0x1e, 0, 0, 0, 0], keyDown(0x1e), KEY_UP],
      [keyDown(0x27), KEY_UP, keyDown(0x1e, 0x01), KEY_UP],
      [keyDown(0x27), KEY_UP, keyDown(0x3a), KEY_UP], // F1
    ];
    for (const reports of cases) {
      const { lines, assembler } = await typeLines(timed([...reports, keyDown(0x28), KEY_UP, ...typeReports('42\n')]));
      expect(lines).toEqual(['42']);
      expect(assembler.counters().brokenLines).toBe(1);
    }
  });

  it('drops a partial read after the inter-key timeout, and the next read is whole', async () => {
    const partial = timed(typeReports('00046'), 0);
    const whole = timed(typeReports('0004614867\n'), 1_000);
    const { lines, assembler } = await typeLines([...partial, ...whole]);
    expect(lines).toEqual(['0004614867']);
    expect(assembler.counters().timedOutLines).toBe(1);
  });

  it('never completes a line typed slower than the timeout (a person at a keyboard)', async () => {
    const { lines } = await typeLines(timed(typeReports('1234\n'), 0, 150));
    expect(lines).toEqual([]);
  });

  it('drops overlong lines whole and strips a configured report id', async () => {
    const long = await typeLines(timed(typeReports(`${'1'.repeat(20)}\n12\n`)), { maxLength: 10 });
    expect(long.lines).toEqual(['12']);
    expect(long.assembler.counters().overlongLines).toBe(1);
    const numbered = typeReports('77\n').map((report) => [0x01, ...report]);
    expect((await typeLines(timed(numbered), { reportId: 1 })).lines).toEqual(['77']);
    expect((await typeLines(timed(typeReports('77\n')), { reportId: 1 })).lines).toEqual([]);
  });
});
