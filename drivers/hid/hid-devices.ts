/**
 * Finding HID devices: which enumerated interface a config entry means, and
 * a listing for `gatehouse doctor`.
 */
import { formatUsbId, type HidDeviceInfo, type HidLibrary } from './hid-library.js';

/** How a config entry names its device. All given fields must match. */
export interface HidDeviceSelector {
  readonly vendorId?: number | undefined;
  readonly productId?: number | undefined;
  /** USB iSerial; tells two readers of the same model apart. */
  readonly serialNumber?: string | undefined;
  /** hidraw node or libusb path, as listed; changes when replugged elsewhere. */
  readonly path?: string | undefined;
  /** USB interface number, for readers with several interfaces (the keyboard is usually 0). */
  readonly interface?: number | undefined;
}

export type HidDeviceKind = 'keyboard' | 'relay' | 'other';

/** Generic desktop page, keyboard usage. */
const KEYBOARD_USAGE_PAGE = 0x01;
const KEYBOARD_USAGE = 0x06;
/** Known keyboard-wedge readers, for the libusb backend which cannot read usages. */
const KNOWN_WEDGE_IDS = new Set(['ffff:0035', '08ff:0009']);
export const USB_RELAY_VENDOR_ID = 0x16c0;
export const USB_RELAY_PRODUCT_ID = 0x05df;
/** 16c0:05df is the shared V-USB pair, so the product string is what identifies the relay boards. */
const USB_RELAY_PRODUCT = /^USBRelay([1-8])$/;

export function hidDeviceKind(device: HidDeviceInfo): HidDeviceKind {
  if (usbRelayChannelCount(device) !== undefined) return 'relay';
  if (device.usagePage === KEYBOARD_USAGE_PAGE && device.usage === KEYBOARD_USAGE) return 'keyboard';
  if (!device.usagePage && KNOWN_WEDGE_IDS.has(formatUsbId(device.vendorId, device.productId))) return 'keyboard';
  return 'other';
}

/** Relay count from the product string ("USBRelay4" → 4), or undefined when it is not such a board. */
export function usbRelayChannelCount(device: HidDeviceInfo): number | undefined {
  if (device.vendorId !== USB_RELAY_VENDOR_ID || device.productId !== USB_RELAY_PRODUCT_ID) return undefined;
  const match = USB_RELAY_PRODUCT.exec(device.product ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function describeSelector(selector: HidDeviceSelector): string {
  const parts: string[] = [];
  if (selector.vendorId !== undefined || selector.productId !== undefined) {
    parts.push(formatUsbId(selector.vendorId ?? 0, selector.productId ?? 0));
  }
  if (selector.serialNumber !== undefined) parts.push(`serial ${selector.serialNumber}`);
  if (selector.interface !== undefined) parts.push(`interface ${selector.interface}`);
  if (selector.path !== undefined) parts.push(`path ${selector.path}`);
  return parts.join(', ');
}

/**
 * The one interface the selector means. Where several match, keyboard
 * interfaces win (a reader may also expose a vendor interface); two readers
 * of one model without a serial or path are an error, never a guess.
 */
export function selectHidDevice(devices: readonly HidDeviceInfo[], selector: HidDeviceSelector): HidDeviceInfo {
  const matches = devices.filter(
    (d) =>
      d.path !== undefined &&
      (selector.vendorId === undefined || d.vendorId === selector.vendorId) &&
      (selector.productId === undefined || d.productId === selector.productId) &&
      (selector.serialNumber === undefined || d.serialNumber === selector.serialNumber) &&
      (selector.path === undefined || d.path === selector.path) &&
      (selector.interface === undefined || d.interface === selector.interface),
  );
  const keyboards = matches.filter((d) => hidDeviceKind(d) === 'keyboard');
  const candidates = keyboards.length > 0 ? keyboards : matches;
  const [first, second] = candidates;
  if (first === undefined) throw new Error(`no HID device ${describeSelector(selector)} is connected`);
  if (second !== undefined) {
    throw new Error(
      `${candidates.length} HID devices match ${describeSelector(selector)}; add serialNumber, interface or path to tell them apart`,
    );
  }
  return first;
}

/** One row of `gatehouse doctor`'s HID section. */
export interface HidDeviceListing {
  readonly vendorId: string;
  readonly productId: string;
  readonly manufacturer: string | null;
  readonly product: string | null;
  readonly serialNumber: string | null;
  readonly path: string | null;
  readonly interface: number;
  readonly usagePage: number | null;
  readonly usage: number | null;
  readonly kind: HidDeviceKind;
  /** For USBRelay boards: how many relays the product string announces. */
  readonly relayChannels: number | null;
}

/**
 * Every HID interface with what Gatehouse makes of it. The relay board's own
 * serial (the one `usb-hid-relay` needs) is not the USB iSerial; read it with
 * readUsbRelaySerial() from ./usb-relay.js if needed.
 */
export async function listHidDevices(library: HidLibrary): Promise<HidDeviceListing[]> {
  const devices = await library.devices();
  const hex = (id: number) => id.toString(16).padStart(4, '0');
  return devices.map((d) => ({
    vendorId: hex(d.vendorId),
    productId: hex(d.productId),
    manufacturer: d.manufacturer ?? null,
    product: d.product ?? null,
    serialNumber: d.serialNumber === undefined || d.serialNumber === '' ? null : d.serialNumber,
    path: d.path ?? null,
    interface: d.interface,
    usagePage: d.usagePage === undefined || d.usagePage === 0 ? null : d.usagePage,
    usage: d.usage === undefined || d.usagePage === 0 ? null : d.usage,
    kind: hidDeviceKind(d),
    relayChannels: usbRelayChannelCount(d) ?? null,
  }));
}
