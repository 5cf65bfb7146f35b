/**
 * What a visitor's QR code may contain (docs/kiosk-api.md, "QR codes"):
 *
 *   57721                                   the bare code, 4 to 12 digits
 *   https://any.host/path?code=57721        a URL (http or https) whose query
 *                                           has `code` or `visitorCode`
 *
 * Anything else is refused before it reaches the engine, so a stray QR code
 * (a Wi-Fi login, a web page) is a clear "not a check-in code" rather than a
 * wrong code counting towards the lockout.
 */
export type QrContent = { readonly ok: true; readonly code: string } | { readonly ok: false; readonly error: string };

/** Longer than any URL a registration email would carry. */
export const MAX_QR_LENGTH = 2048;
const CODE = /^\d{4,12}$/;
const CODE_PARAMETERS = ['code', 'visitorcode'];

export function parseQrContent(text: string): QrContent {
  if (text.length > MAX_QR_LENGTH) return { ok: false, error: 'the QR code holds too much text to be a check-in code' };
  const trimmed = text.trim();
  if (CODE.test(trimmed)) return { ok: true, code: trimmed };
  if (!/^https?:\/\//i.test(trimmed)) return { ok: false, error: 'the QR code is not a check-in code' };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, error: 'the QR code holds a malformed address' };
  }
  const codes = [...url.searchParams].filter(([name]) => CODE_PARAMETERS.includes(name.toLowerCase())).map(([, value]) => value.trim());
  const distinct = [...new Set(codes)];
  const [only] = distinct;
  if (only === undefined || distinct.length > 1) return { ok: false, error: 'the address in the QR code carries no single check-in code' };
  if (!CODE.test(only)) return { ok: false, error: 'the code in the QR code is not 4 to 12 digits' };
  return { ok: true, code: only };
}
