/**
 * HID keyboard usages (page 0x07) to characters, per host keyboard layout.
 *
 * A keyboard-wedge reader sends key positions, not characters: it "types"
 * for a host layout chosen when it was configured. Most are set up for US;
 * an AZERTY-configured scanner sends Shift+1 for "1", a QWERTZ one swaps Y
 * and Z. The layout here must match the one the device was configured for.
 */

export const KEYBOARD_LAYOUTS = ['us', 'de', 'fr'] as const;
export type KeyboardLayout = (typeof KEYBOARD_LAYOUTS)[number];

/** usage → [unshifted, shifted]. */
type KeyTable = ReadonlyMap<number, readonly [string, string]>;

const USAGE_A = 0x04;
const USAGE_1 = 0x1e;

function usBase(): Map<number, readonly [string, string]> {
  const table = new Map<number, readonly [string, string]>();
  for (let index = 0; index < 26; index += 1) {
    const letter = String.fromCharCode(0x61 + index);
    table.set(USAGE_A + index, [letter, letter.toUpperCase()]);
  }
  const digitsShifted = '!@#$%^&*()';
  for (let index = 0; index < 10; index += 1) {
    table.set(USAGE_1 + index, [String((index + 1) % 10), digitsShifted.charAt(index)]);
  }
  const punctuation: readonly (readonly [number, string, string])[] = [
    [0x2b, '\t', '\t'],
    [0x2c, ' ', ' '],
    [0x2d, '-', '_'],
    [0x2e, '=', '+'],
    [0x2f, '[', '{'],
    [0x30, ']', '}'],
    [0x31, '\\', '|'],
    [0x32, '#', '~'],
    [0x33, ';', ':'],
    [0x34, "'", '"'],
    [0x35, '`', '~'],
    [0x36, ',', '<'],
    [0x37, '.', '>'],
    [0x38, '/', '?'],
    [0x64, '\\', '|'],
  ];
  for (const [usage, plain, shifted] of punctuation) table.set(usage, [plain, shifted]);
  return table;
}

function withOverrides(overrides: readonly (readonly [number, string, string])[]): KeyTable {
  const table = usBase();
  for (const [usage, plain, shifted] of overrides) table.set(usage, [plain, shifted]);
  return table;
}

const LAYOUTS: Readonly<Record<KeyboardLayout, KeyTable>> = {
  us: usBase(),
  de: withOverrides([
    [0x1c, 'z', 'Z'],
    [0x1d, 'y', 'Y'],
    [0x1f, '2', '"'],
    [0x20, '3', '§'],
    [0x23, '6', '&'],
    [0x24, '7', '/'],
    [0x25, '8', '('],
    [0x26, '9', ')'],
    [0x27, '0', '='],
    [0x2d, 'ß', '?'],
    [0x2e, '´', '`'],
    [0x2f, 'ü', 'Ü'],
    [0x30, '+', '*'],
    [0x31, '#', "'"],
    [0x32, '#', "'"],
    [0x33, 'ö', 'Ö'],
    [0x34, 'ä', 'Ä'],
    [0x35, '^', '°'],
    [0x36, ',', ';'],
    [0x37, '.', ':'],
    [0x38, '-', '_'],
    [0x64, '<', '>'],
  ]),
  fr: withOverrides([
    [0x04, 'q', 'Q'],
    [0x14, 'a', 'A'],
    [0x1a, 'z', 'Z'],
    [0x1d, 'w', 'W'],
    [0x33, 'm', 'M'],
    [0x10, ',', '?'],
    [0x1e, '&', '1'],
    [0x1f, 'é', '2'],
    [0x20, '"', '3'],
    [0x21, "'", '4'],
    [0x22, '(', '5'],
    [0x23, '-', '6'],
    [0x24, 'è', '7'],
    [0x25, '_', '8'],
    [0x26, 'ç', '9'],
    [0x27, 'à', '0'],
    [0x2d, ')', '°'],
    [0x2e, '=', '+'],
    [0x2f, '^', '¨'],
    [0x30, '$', '£'],
    [0x31, '*', 'µ'],
    [0x32, '*', 'µ'],
    [0x34, 'ù', '%'],
    [0x35, '²', '²'],
    [0x36, ';', '.'],
    [0x37, ':', '/'],
    [0x38, '!', '§'],
    [0x64, '<', '>'],
  ]),
};

/** Keypad keys type the same in every layout (Num Lock on, as readers assume). */
const KEYPAD: ReadonlyMap<number, string> = new Map([
  [0x54, '/'],
  [0x55, '*'],
  [0x56, '-'],
  [0x57, '+'],
  [0x59, '1'],
  [0x5a, '2'],
  [0x5b, '3'],
  [0x5c, '4'],
  [0x5d, '5'],
  [0x5e, '6'],
  [0x5f, '7'],
  [0x60, '8'],
  [0x61, '9'],
  [0x62, '0'],
  [0x63, '.'],
]);

export const USAGE_ENTER = 0x28;
export const USAGE_KEYPAD_ENTER = 0x58;

/** The character a key types, or undefined for keys that type nothing usable (arrows, F-keys, Esc, Backspace). */
export function usageToChar(layout: KeyboardLayout, usage: number, shift: boolean): string | undefined {
  const keypad = KEYPAD.get(usage);
  if (keypad !== undefined) return keypad;
  const pair = LAYOUTS[layout].get(usage);
  return pair === undefined ? undefined : pair[shift ? 1 : 0];
}
