/**
 * Why the Bluetooth adapter cannot be used, and the one thing a technician
 * should do about it. The status shows this instead of a crash loop.
 */
import type { UnavailableReason } from './worker-messages.js';

export const CAPABILITY_FIX =
  'grant the daemon CAP_NET_RAW and CAP_NET_ADMIN: install systemd/gatehouse-ble.conf as /etc/systemd/system/gatehouse.service.d/ble.conf ' +
  '(AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN, AF_BLUETOOTH allowed), or for a manual run: sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))';

export function fixFor(reason: UnavailableReason, hciDevice: number): string {
  switch (reason) {
    case 'no-adapter':
      return `no Bluetooth LE adapter hci${hciDevice}: plug in a BLE dongle, check it with "hciconfig -a" (or "btmgmt info"), and set hciDevice on the BLE reader`;
    case 'powered-off':
      return `adapter hci${hciDevice} is powered off or blocked: "rfkill unblock bluetooth" and "sudo hciconfig hci${hciDevice} up"`;
    case 'unauthorized':
      return CAPABILITY_FIX;
    case 'busy':
      return `adapter hci${hciDevice} is held by another program (bluetoothd auto-connect or another scanner): stop it, or give Gatehouse a dedicated dongle`;
    case 'no-library':
      return '@stoprocent/noble could not be loaded: rebuild it for this Node version ("npm rebuild @stoprocent/noble @stoprocent/bluetooth-hci-socket"; needs libbluetooth-dev and libudev-dev)';
    case 'timeout':
      return `adapter hci${hciDevice} did not power on: check "hciconfig hci${hciDevice}", "rfkill list" and the kernel log (dmesg | grep -i bluetooth)`;
  }
}

/** Classify an error thrown by noble or its HCI socket. */
export function reasonOfError(error: unknown): UnavailableReason | null {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'EPERM' || code === 'EACCES' || /operation not permitted|permission denied/i.test(message)) return 'unauthorized';
  if (code === 'ENODEV' || /no such device/i.test(message)) return 'no-adapter';
  if (code === 'EBUSY' || code === 'EALREADY' || /busy|command disallowed/i.test(message)) return 'busy';
  if (code === 'ERFKILL' || /rf-?kill/i.test(message)) return 'powered-off';
  return null;
}

/** noble's adapter states that mean "cannot scan", by reason. */
export function reasonOfState(state: string): UnavailableReason | null {
  switch (state) {
    case 'poweredOff':
      return 'powered-off';
    case 'unauthorized':
      return 'unauthorized';
    case 'unsupported':
      return 'no-adapter';
    default:
      return null;
  }
}
