import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStateReport } from '../../drivers/hid/usb-relay-protocol.js';
import { fcOptions } from '../support/fast-check.js';
import { KEY_UP, typeReports } from './hid-test-vectors.js';
import { timed, typeLines, type TimedReport } from './support/keyboard-pipeline.js';

// Fixed seed unless FC_SEED is set; see test/support/fast-check.ts.
/** Per property: each call is one property's options (FC_TALLY counts it). */
const runs = (): ReturnType<typeof fcOptions> => fcOptions(300);

const credentialArb = fc.stringMatching(/^[0-9A-Za-z]{4,16}$/);
/** Any bytes a broken or hostile device could send as one report, biased towards 8-byte reports. */
const reportArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 16 }),
  fc.uint8Array({ minLength: 8, maxLength: 8 }),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.array(fc.integer({ min: 0, max: 0x70 }), { minLength: 6, maxLength: 6 })).map(
    ([modifiers, keys]) => Uint8Array.from([modifiers, 0, ...keys]),
  ),
);
/** Reports that are certainly not a well-formed boot report or that cannot name their keys. */
const brokenReportArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 16 }).filter((bytes) => bytes.length !== 8),
  fc.constant(Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1])),
);

describe('keyboard report decoding under garbage', () => {
  it('never throws and only emits printable lines within the length limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reportArb, { maxLength: 80 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 80 }), async (reports, gaps) => {
        let at = 0;
        const input: TimedReport[] = reports.map((bytes, index) => ({ at: (at += gaps[index] ?? 1), bytes }));
        const { lines } = await typeLines(input, { maxLength: 32 });
        for (const line of lines) {
          expect(line.length).toBeGreaterThan(0);
          expect(line.length).toBeLessThanOrEqual(32);
          expect(line).not.toMatch(/[\r\n]/);
        }
      }),
      runs(),
    );
  });

  it('a read cut short (unplug, lost reports) never becomes a partial credential; the next whole read is exact', async () => {
    await fc.assert(
      fc.asyncProperty(credentialArb, fc.nat(), fc.boolean(), brokenReportArb, async (credential, cutSeed, byTimeout, broken) => {
        const reports = typeReports(`${credential}\n`);
        const cut = cutSeed % (reports.length - 2); // before the Enter
        const first = timed(reports.slice(0, cut));
        const interruption = byTimeout ? [] : [{ at: cut, bytes: broken }];
        const next = timed(reports, byTimeout ? cut + 1_000 : cut + 1);
        const { lines } = await typeLines([...first, ...interruption, ...next]);
        // Without a timeout, the broken report voids the line it falls into, so the retyped read is
        // lost too unless it starts a fresh line; either way nothing partial comes out.
        for (const line of lines) expect(line).toBe(credential);
        if (byTimeout) expect(lines).toEqual([credential]);
      }),
      runs(),
    );
  });

  it('garbage inside a read voids that read; a read after Enter is whole', async () => {
    await fc.assert(
      fc.asyncProperty(credentialArb, fc.nat(), brokenReportArb, async (credential, position, broken) => {
        const reports = typeReports(`${credential}\n`);
        const at = position % (reports.length - 2);
        const spoiled = [...reports.slice(0, at), Buffer.from(broken), Buffer.from(KEY_UP), ...reports.slice(at)];
        const { lines } = await typeLines(timed([...spoiled, ...typeReports(`${credential}\n`)]));
        expect(lines).toEqual([credential]);
      }),
      runs(),
    );
  });

  it('relay state reports: any bytes parse to a state or to nothing, never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        const state = parseStateReport(bytes);
        if (state === undefined) expect([8, 9]).not.toContain(bytes.length);
        else expect(state.mask).toBe(bytes[bytes.length - 1]);
      }),
      runs(),
    );
  });
});
