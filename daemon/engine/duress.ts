/**
 * Duress codes: a person forced to open a door types a variant of their PIN;
 * the door opens as usual and a silent alarm goes out. The variant is derived
 * from the PIN by a site-wide scheme, so nothing extra is stored or synced:
 * the gateway derives the real PIN from what was typed and looks that up.
 *
 *   off                  no duress codes
 *   last-digit-plus-one  24680 -> 24681 (a 9 wraps to 0), as Sonitrol's PIN+1
 *   reverse              24680 -> 08642; palindromic PINs have no duress code
 *
 * The real PIN always wins: a typed code that is somebody's real PIN (or a
 * visitor code) is that credential, never a duress variant of another PIN.
 */
export const duressSchemes = ['off', 'last-digit-plus-one', 'reverse'] as const;
export type DuressScheme = (typeof duressSchemes)[number];

const isDigits = (code: string): boolean => /^\d+$/.test(code);
const shiftLast = (code: string, by: number): string =>
  code.slice(0, -1) + String((Number(code.slice(-1)) + by + 10) % 10);
const reversed = (code: string): string => [...code].reverse().join('');

/** The duress code of a real PIN; null when the scheme gives it none. */
export function duressCodeOf(scheme: DuressScheme, pin: string): string | null {
  if (scheme === 'off' || pin.length === 0 || !isDigits(pin)) return null;
  const code = scheme === 'reverse' ? reversed(pin) : shiftLast(pin, 1);
  return code === pin ? null : code;
}

/** The real PIN a typed code would be the duress code of; null when it cannot be one. */
export function realPinOf(scheme: DuressScheme, typed: string): string | null {
  if (scheme === 'off' || typed.length === 0 || !isDigits(typed)) return null;
  const pin = scheme === 'reverse' ? reversed(typed) : shiftLast(typed, -1);
  return pin === typed ? null : pin;
}
