/**
 * PN532 frames over HSU (NXP UM0701-02 §6.2):
 *
 *   normal    00 | 00 FF | LEN | LCS | TFI PD0…PDn | DCS | 00     (LEN + LCS) & FF = 0, (TFI + ΣPD + DCS) & FF = 0
 *   extended  00 | 00 FF FF FF | LENM LENL | LCS | TFI … | DCS | 00
 *   ACK       00 00 FF 00 FF 00     host→PN532 it aborts the running command
 *   NACK      00 00 FF FF 00 00     host→PN532: send the last response again
 *   error     00 00 FF 01 FF 7F 81 00   application-level error (syntax)
 */
export const TFI_HOST_TO_PN532 = 0xd4;
export const TFI_PN532_TO_HOST = 0xd5;
export const APPLICATION_ERROR = 0x7f;

export const ACK_FRAME: Buffer = Buffer.from([0x00, 0x00, 0xff, 0x00, 0xff, 0x00]);
export const NACK_FRAME: Buffer = Buffer.from([0x00, 0x00, 0xff, 0xff, 0x00, 0x00]);

/** Longest TFI + data an extended frame carries. */
export const MAX_EXTENDED_LENGTH = 265;

/**
 * HSU wake-up from LowVbat/power-down: 55 55 and a run of zeros, long enough
 * for the oscillator to start. Sent right before SAMConfiguration, whose own
 * preamble completes the common 24-byte one-shot (hardware reference §2).
 */
export const WAKE_UP: Buffer = Buffer.from([0x55, 0x55, ...new Array<number>(12).fill(0x00)]);

export function checksum(bytes: Iterable<number>): number {
  let sum = 0;
  for (const byte of bytes) sum += byte;
  return (0x100 - (sum & 0xff)) & 0xff;
}

/** A normal information frame (extended above 254 data bytes) with preamble and postamble. */
export function encodeFrame(tfi: number, data: Uint8Array): Buffer {
  const body = Buffer.from([tfi, ...data]);
  const dcs = checksum(body);
  if (body.length <= 0xfe) {
    return Buffer.from([0x00, 0x00, 0xff, body.length, checksum([body.length]), ...body, dcs, 0x00]);
  }
  if (body.length > MAX_EXTENDED_LENGTH) throw new RangeError(`PN532 frame too long: ${body.length} bytes`);
  const lenm = body.length >> 8;
  const lenl = body.length & 0xff;
  return Buffer.from([0x00, 0x00, 0xff, 0xff, 0xff, lenm, lenl, checksum([lenm, lenl]), ...body, dcs, 0x00]);
}

/** A host→PN532 command frame: TFI D4, command code, parameters. */
export function encodeCommand(code: number, params: Uint8Array = new Uint8Array(0)): Buffer {
  return encodeFrame(TFI_HOST_TO_PN532, Uint8Array.from([code, ...params]));
}
