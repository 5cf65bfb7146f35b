import { BootReportDecoder, type Keystroke } from '../../../drivers/hid/boot-report-decoder.js';
import { KeyLineAssembler } from '../../../drivers/hid/key-line-assembler.js';
import type { KeyboardLayout } from '../../../drivers/hid/keyboard-layouts.js';

/** A report arriving at a time on the test's monotonic clock. */
export interface TimedReport {
  readonly at: number;
  readonly bytes: Uint8Array;
}

/** Reports one millisecond apart from `start`, as a reader sends them. */
export function timed(reports: readonly (readonly number[] | Uint8Array)[], start = 0, stepMs = 1): TimedReport[] {
  return reports.map((bytes, index) => ({ at: start + index * stepMs, bytes: Uint8Array.from(bytes) }));
}

/** Runs reports through the decoder and the line assembler, as the HID keyboard reader wires them. */
export async function typeLines(
  reports: readonly TimedReport[],
  options: { layout?: KeyboardLayout; reportId?: number; interKeyTimeoutMs?: number; maxLength?: number } = {},
): Promise<{ lines: string[]; keystrokes: Keystroke[]; decoder: BootReportDecoder; assembler: KeyLineAssembler }> {
  let now = 0;
  const clock = { now: () => now };
  const interKeyTimeoutMs = options.interKeyTimeoutMs ?? 200;
  const decoder = new BootReportDecoder({ layout: options.layout ?? 'us', reportId: options.reportId, releaseAfterMs: interKeyTimeoutMs, clock });
  const assembler = new KeyLineAssembler({ interKeyTimeoutMs, maxLength: options.maxLength ?? 256, clock });
  const lines: string[] = [];
  const keystrokes: Keystroke[] = [];
  decoder.on('data', (keystroke: Keystroke) => {
    keystrokes.push(keystroke);
    assembler.write(keystroke);
  });
  assembler.on('data', (line: string) => lines.push(line));
  for (const report of reports) {
    now = report.at;
    decoder.write(Buffer.from(report.bytes));
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { lines, keystrokes, decoder, assembler };
}
