/**
 * Vectors from the hardware reference (§3 keyboard-wedge readers, §4a USBRelay
 * boards), byte-exact. Shared by the decoder, reader, relay and gateway tests.
 */

const KEY_UP = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
const down = (usage: number, modifiers = 0x00) => [modifiers, 0x00, usage, 0x00, 0x00, 0x00, 0x00, 0x00];

/** "0004614867⏎" as a Sycreader-style reader types it: 11 key-down reports, each followed by a key-up (22 reports, 176 bytes). */
export const WEDGE_0004614867: readonly (readonly number[])[] = [0x27, 0x27, 0x27, 0x21, 0x23, 0x1e, 0x21, 0x25, 0x23, 0x24, 0x28].flatMap(
  (usage) => [down(usage), KEY_UP],
);

/** The usages for digits 1..9, 0 and Enter, from the reference table. */
export const DIGIT_USAGES: Readonly<Record<string, number>> = {
  '1': 0x1e,
  '2': 0x1f,
  '3': 0x20,
  '4': 0x21,
  '5': 0x22,
  '6': 0x23,
  '7': 0x24,
  '8': 0x25,
  '9': 0x26,
  '0': 0x27,
};
export const USAGE_ENTER = 0x28;
export const LEFT_SHIFT = 0x02;

/** Reports that type `text` (digits, letters, Enter as "\n") with a key-up after each key, as most readers do. */
export function typeReports(text: string): Buffer[] {
  const reports: Buffer[] = [];
  for (const char of text) {
    let report: number[];
    if (char === '\n') report = down(USAGE_ENTER);
    else if (/[0-9]/.test(char)) report = down(DIGIT_USAGES[char] ?? 0);
    else if (/[a-z]/.test(char)) report = down(0x04 + char.charCodeAt(0) - 0x61);
    else if (/[A-Z]/.test(char)) report = down(0x04 + char.charCodeAt(0) - 0x41, LEFT_SHIFT);
    else throw new Error(`typeReports cannot type ${JSON.stringify(char)}`);
    reports.push(Buffer.from(report), Buffer.from(KEY_UP));
  }
  return reports;
}

export { KEY_UP, down as keyDown };

/** USBRelay commands (report id 0 + 8 data bytes). */
export const RELAY_3_ON = [0x00, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const RELAY_1_ON = [0x00, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const RELAY_1_OFF = [0x00, 0xfd, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const ALL_ON = [0x00, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const ALL_OFF = [0x00, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
/** Serial QWERT, relays 1 and 3 on: report id 1 length 8, and report id 0 length 9. */
export const STATE_QWERT_1_3_ID1 = [0x51, 0x57, 0x45, 0x52, 0x54, 0x00, 0x00, 0x05];
export const STATE_QWERT_1_3_ID0 = [0x00, 0x51, 0x57, 0x45, 0x52, 0x54, 0x00, 0x00, 0x05];
