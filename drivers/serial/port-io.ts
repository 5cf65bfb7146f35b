import type { SerialPort } from 'serialport';

export const DEFAULT_WRITE_TIMEOUT_MS = 2_000;

/**
 * Writes bytes and resolves once the OS has transmitted them (tcdrain).
 *
 * serialport queues write() and drain() until the next 'open' when the port is
 * closed, so a command sent to an unplugged device would hang forever. This
 * rejects instead: when the port is not open, when it closes or fails while the
 * bytes are in flight, and when a wedged device does not take them in time.
 */
export function writeAndDrain(port: SerialPort, bytes: Uint8Array, timeoutMs = DEFAULT_WRITE_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!port.isOpen) {
      reject(new Error(`serial port is not open: ${port.path}`));
      return;
    }
    let settled = false;
    const timer = setTimeout(() => settle(new Error(`device did not take the data within ${timeoutMs} ms`)), timeoutMs);
    const settle = (error: Error | null | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      port.off('close', onClose);
      port.off('error', onError);
      if (error) reject(new Error(`write failed on ${port.path}: ${error.message}`, { cause: error }));
      else resolve();
    };
    const onClose = () => settle(new Error('port closed'));
    const onError = (error: Error) => settle(error);
    port.on('close', onClose);
    port.on('error', onError);
    port.write(Buffer.from(bytes), (error) => {
      if (error) settle(error);
    });
    port.drain((error) => settle(error));
  });
}

/** Closes a port if it is open. Never rejects: closing is cleanup, and the device may already be gone. */
export function closeQuietly(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    // Errors on a port we are abandoning are expected (it may be unplugged); swallow them.
    port.on('error', () => undefined);
    if (port.closing) {
      // serialport is already closing it (its own disconnect handling): wait, or a quick reopen
      // would find the old descriptor still holding the lock.
      port.once('close', () => resolve());
      return;
    }
    if (!port.isOpen) {
      resolve();
      return;
    }
    port.close(() => resolve());
  });
}
