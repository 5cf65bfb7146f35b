import type { SerialPort } from 'serialport';
import { DEFAULT_PRESENCE_CHECK_MS, watchDevicePresence } from './watch-device-presence.js';

export interface WatchPortFaultOptions {
  /** How often to check that the device node still exists. */
  readonly presenceCheckMs?: number;
}

/**
 * Reports, at most once, that an open port was lost.
 *
 * serialport signals an unplug by emitting 'close' with an error whose
 * `disconnected === true` (a failed read or write on a vanished device). An
 * 'error' event after open (e.g. a failed write) also leaves the port unusable.
 * Any 'close' we did not ask for counts as a fault, so callers must stop
 * watching before closing the port themselves. Because serialport can miss an
 * unplug entirely, the device node is watched as well.
 *
 * Returns a function that stops reporting. The port listeners stay attached: an
 * 'error' event with no listener would crash the process, and ports are never
 * reused after close, so they go away with the port.
 */
export function watchPortFault(
  port: SerialPort,
  onFault: (error: Error) => void,
  options: WatchPortFaultOptions = {},
): () => void {
  let active = true;
  const report = (error: Error) => {
    if (!active) return;
    stop();
    onFault(error);
  };
  const onPortEvent = (error: unknown) => report(asFaultError(port.path, error));
  port.on('close', onPortEvent);
  port.on('error', onPortEvent);
  const stopPresence = watchDevicePresence(
    port.path,
    (reason) => report(new Error(`device disconnected: ${port.path} (${reason})`)),
    options.presenceCheckMs ?? DEFAULT_PRESENCE_CHECK_MS,
  );
  const stop = () => {
    active = false;
    stopPresence();
  };
  return stop;
}

export function isDisconnectError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { disconnected?: unknown }).disconnected === true;
}

function asFaultError(path: string, error: unknown): Error {
  if (isDisconnectError(error)) {
    return new Error(`device disconnected: ${path}`, { cause: error });
  }
  if (error instanceof Error) {
    return new Error(`serial port failed: ${path}: ${error.message}`, { cause: error });
  }
  return new Error(`serial port closed unexpectedly: ${path}`);
}
