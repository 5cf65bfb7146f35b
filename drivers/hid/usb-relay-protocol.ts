/**
 * dcttech "USBRelayN" HID relay boards (V-USB, 16c0:05df): feature reports.
 *
 * Commands are 8-byte unnumbered feature reports, sent with report id 0 in
 * front (9 bytes). The state comes back from a feature report read with
 * report id 1 and length 8: five bytes of board serial, two unused, then the
 * relay bitmask (bit 0 = relay 1). Some stacks return the report id in front
 * (9 bytes); both layouts are accepted.
 */

export const USB_RELAY_MAX_CHANNELS = 8;
/** Report id and length for reading state; id 0 does not work on every stack (darrylb123/usbrelay PR #4). */
export const USB_RELAY_STATE_REPORT_ID = 1;
export const USB_RELAY_STATE_REPORT_LENGTH = 8;

const CHANNEL_ON = 0xff;
const CHANNEL_OFF = 0xfd;
const ALL_ON = 0xfe;
const ALL_OFF = 0xfc;
const SERIAL_LENGTH = 5;
const STATE_OFFSET = 7;

export function assertUsbRelayChannel(channel: number): void {
  if (!Number.isInteger(channel) || channel < 1 || channel > USB_RELAY_MAX_CHANNELS) {
    throw new RangeError(`USB HID relay channel must be 1..${USB_RELAY_MAX_CHANNELS}, got ${channel}`);
  }
}

/** `00 FF NN 00 00 00 00 00 00` (on) or `00 FD NN …` (off). */
export function encodeChannelCommand(channel: number, energised: boolean): Buffer {
  assertUsbRelayChannel(channel);
  return Buffer.from([0x00, energised ? CHANNEL_ON : CHANNEL_OFF, channel, 0, 0, 0, 0, 0, 0]);
}

/** `00 FE 00 …` (all on) or `00 FC 00 …` (all off). */
export function encodeAllCommand(energised: boolean): Buffer {
  return Buffer.from([0x00, energised ? ALL_ON : ALL_OFF, 0, 0, 0, 0, 0, 0, 0]);
}

export interface UsbRelayState {
  /** The board's own 5-character serial (not the USB iSerial); non-printable bytes as \xNN. */
  readonly serial: string;
  /** Bit 0 = relay 1. */
  readonly mask: number;
}

/** Parses the state report; undefined when it has neither known length. */
export function parseStateReport(report: Uint8Array): UsbRelayState | undefined {
  const offset =
    report.length === USB_RELAY_STATE_REPORT_LENGTH ? 0 : report.length === USB_RELAY_STATE_REPORT_LENGTH + 1 ? 1 : undefined;
  if (offset === undefined) return undefined;
  const serialBytes = report.subarray(offset, offset + SERIAL_LENGTH);
  const mask = report[offset + STATE_OFFSET] ?? 0;
  return { serial: decodeSerial(serialBytes), mask };
}

export function channelEnergised(state: UsbRelayState, channel: number): boolean {
  return ((state.mask >> (channel - 1)) & 1) === 1;
}

/** Trailing NULs dropped; fresh boards carry arbitrary bytes, shown escaped so they can still be configured. */
function decodeSerial(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  let serial = '';
  for (const byte of bytes.subarray(0, end)) {
    serial += byte >= 0x21 && byte <= 0x7e && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return serial;
}
