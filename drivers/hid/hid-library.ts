/**
 * The slice of node-hid (v3, async API) that the HID drivers use. Drivers
 * depend on this interface, never on node-hid itself, so tests can hand them
 * a fake device at exactly this boundary and the daemon loads node-hid (and
 * its native binding) only when the config names a HID device.
 */
import { createRequire } from 'node:module';

/** What node-hid reports for one HID interface (`HID.devicesAsync()`). */
export interface HidDeviceInfo {
  readonly vendorId: number;
  readonly productId: number;
  readonly path?: string | undefined;
  readonly serialNumber?: string | undefined;
  readonly manufacturer?: string | undefined;
  readonly product?: string | undefined;
  readonly release: number;
  readonly interface: number;
  /** 0 (or absent) with the libusb backend, which cannot read report descriptors. */
  readonly usagePage?: number | undefined;
  readonly usage?: number | undefined;
}

/** One open HID interface (`HID.HIDAsync`). */
export interface HidDeviceHandle {
  /** Input reports; reading starts when the first listener attaches. */
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  /** The read thread failed (unplug) and has stopped. Without a listener this would throw. */
  on(event: 'error', listener: (error: unknown) => void): unknown;
  /** Byte 0 is the report id (0 for unnumbered reports). */
  sendFeatureReport(data: number[] | Buffer): Promise<number>;
  getFeatureReport(reportId: number, length: number): Promise<Buffer>;
  /** Output report; byte 0 is the report id. */
  write(data: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
}

export interface HidLibrary {
  devices(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidDeviceHandle>;
}

/**
 * hidraw: the kernel keeps its drivers; a keyboard's keys also reach the
 * console. libusb: hidapi detaches the kernel driver from the interface while
 * it is open, so nobody else receives the keys (see docs/drivers.md).
 */
export type HidBackend = 'hidraw' | 'libusb';

interface NodeHidModule {
  setDriverType(type: HidBackend): void;
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string): Promise<HidDeviceHandle> };
}

/** Debian packages that provide what node-hid's prebuilt binding links against. */
export const HID_SYSTEM_PACKAGES = 'libudev1 libusb-1.0-0';

/**
 * node-hid, loaded on first use with the given backend. node-hid caches its
 * binding on first use, so the backend is fixed per process; a failure to load
 * it (missing shared library) becomes a message naming the Debian packages.
 */
export function nodeHidLibrary(backend: HidBackend): HidLibrary {
  let loaded: NodeHidModule | undefined;
  const load = (): NodeHidModule => {
    if (loaded !== undefined) return loaded;
    try {
      const module = createRequire(import.meta.url)('node-hid') as NodeHidModule;
      module.setDriverType(backend);
      loaded = module;
      return module;
    } catch (error) {
      throw hidLoadError(error);
    }
  };
  const call = async <T>(operation: (module: NodeHidModule) => Promise<T>): Promise<T> => {
    const module = load();
    try {
      return await operation(module);
    } catch (error) {
      throw isBindingLoadFailure(error) ? hidLoadError(error) : asError(error);
    }
  };
  return {
    devices: () => call((module) => module.devicesAsync()),
    open: (path) => call((module) => module.HIDAsync.open(path)),
  };
}

function isBindingLoadFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /cannot open shared object|No native build was found|ERR_DLOPEN_FAILED|Cannot find module/i.test(message);
}

function hidLoadError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(
    `USB HID support is not available (${message}). On Debian/Ubuntu/Raspberry Pi OS install it with: apt install ${HID_SYSTEM_PACKAGES}`,
  );
}

/** node-hid rejects with strings in places; drivers always see an Error. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** USB ids as people write them: 16c0:05df. */
export function formatUsbId(vendorId: number, productId: number): string {
  const hex = (id: number) => id.toString(16).padStart(4, '0');
  return `${hex(vendorId)}:${hex(productId)}`;
}
