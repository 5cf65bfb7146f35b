/**
 * `gatehouse doctor`: the USB HID devices attached, what Gatehouse makes of
 * each (keyboard-wedge reader, USBRelay board, other), and whether every
 * configured HID reader finds its device. Loaded by the doctor command;
 * node-hid is only opened here, never for a site without HID devices.
 */
import { listHidDevices, type HidDeviceListing } from '../../drivers/hid/hid-devices.js';
import { nodeHidLibrary, type HidLibrary } from '../../drivers/hid/hid-library.js';
import { parseStateReport, USB_RELAY_STATE_REPORT_ID, USB_RELAY_STATE_REPORT_LENGTH } from '../../drivers/hid/usb-relay-protocol.js';
import { registerDoctorCheck, type CheckResult, type DoctorContext } from './doctor.js';

const describe = (d: HidDeviceListing): string =>
  `${d.vendorId}:${d.productId} ${d.kind}${d.relayChannels === null ? '' : ` (${d.relayChannels} relays)`} "${d.product ?? '?'}"` +
  `${d.serialNumber === null ? '' : ` serial ${d.serialNumber}`} interface ${d.interface}${d.path === null ? '' : ` at ${d.path}`}`;

export async function hidCheck({ loaded }: DoctorContext, library?: HidLibrary): Promise<CheckResult[]> {
  const readers = loaded?.config.readers.filter((r) => r.driver === 'hid-keyboard') ?? [];
  const relays = loaded?.config.doors.filter((d) => d.relay.driver === 'usb-hid-relay') ?? [];
  const needed = readers.length + relays.length > 0;
  let devices: HidDeviceListing[];
  try {
    devices = await listHidDevices(library ?? nodeHidLibrary(loaded?.config.hid.backend ?? 'libusb'));
  } catch (error) {
    const detail = `cannot list USB HID devices: ${error instanceof Error ? error.message : String(error)}`;
    return [{ check: 'hid', level: needed ? 'fail' : 'warn', detail }];
  }
  const hid = library ?? nodeHidLibrary(loaded?.config.hid.backend ?? 'libusb');
  const usedUsbIds = new Set(readers.flatMap((r) => (r.driver === 'hid-keyboard' && r.usbId !== undefined ? [r.usbId.toLowerCase()] : [])));
  const usedSerials = new Set(relays.flatMap((d) => (d.relay.driver === 'usb-hid-relay' ? [d.relay.serial] : [])));
  const results: CheckResult[] = [];
  for (const d of devices.filter((x) => x.kind !== 'other')) {
    results.push({ check: 'hid', level: 'ok', detail: describe(d) });
    const snippet = await configSnippet(d, usedUsbIds, usedSerials, hid);
    if (snippet !== null) results.push({ check: 'hid', level: 'ok', detail: `  not in the config yet; for example: ${snippet}` });
  }
  for (const reader of readers) {
    if (reader.driver !== 'hid-keyboard') continue;
    const [vendor, product] = reader.usbId?.toLowerCase().split(':') ?? [];
    const found = devices.filter(
      (d) =>
        (reader.path === undefined || d.path === reader.path) &&
        (vendor === undefined || (d.vendorId === vendor && d.productId === product)) &&
        (reader.serialNumber === undefined || d.serialNumber === reader.serialNumber),
    );
    results.push(
      found.length > 0
        ? { check: 'hid', level: 'ok', detail: `reader ${reader.id}: ${describe(found[0] as HidDeviceListing)}` }
        : { check: 'hid', level: 'fail', detail: `reader ${reader.id}: no HID device ${reader.usbId ?? reader.path ?? ''} is attached (lsusb; check the cable and the udev rule in systemd/60-gatehouse.rules)` },
    );
  }
  if (relays.length > 0 && !devices.some((d) => d.kind === 'relay')) {
    results.push({ check: 'hid', level: 'fail', detail: `no USBRelay board (16c0:05df) is attached, but door(s) ${relays.map((d) => d.id).join(', ')} use one` });
  }
  if (results.length === 0) results.push({ check: 'hid', level: 'ok', detail: 'no USB HID readers or relay boards attached or configured' });
  return results;
}

/**
 * A config line for a recognised device the config does not use yet. For a
 * relay board the board's own serial is read from its state report (opened
 * and closed again, nothing switched).
 */
async function configSnippet(
  d: HidDeviceListing,
  usedUsbIds: ReadonlySet<string>,
  usedSerials: ReadonlySet<string>,
  library: HidLibrary,
): Promise<string | null> {
  const usbId = `${d.vendorId}:${d.productId}`;
  if (d.kind === 'keyboard') {
    if (usedUsbIds.has(usbId)) return null;
    const serial = d.serialNumber === null ? '' : `, serialNumber: "${d.serialNumber}"`;
    return `readers: - { id: desk-reader, driver: hid-keyboard, usbId: "${usbId}"${serial}, mode: toggle }`;
  }
  if (d.kind === 'relay' && d.path !== null) {
    let serial = '<board serial>';
    try {
      const handle = await library.open(d.path);
      try {
        const state = parseStateReport(await handle.getFeatureReport(USB_RELAY_STATE_REPORT_ID, USB_RELAY_STATE_REPORT_LENGTH));
        if (state !== undefined) serial = state.serial;
      } finally {
        await handle.close();
      }
    } catch {
      // In use by the running daemon, or no permission: the placeholder says what to fill in.
    }
    if (usedSerials.has(serial)) return null;
    return `relay: { driver: usb-hid-relay, serial: "${serial}", channel: 1 }   (channels 1-${d.relayChannels ?? 1})`;
  }
  return null;
}

registerDoctorCheck((context) => hidCheck(context));
