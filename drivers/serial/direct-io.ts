/**
 * Reads and writes of an open serial port done on the event loop instead of
 * the libuv thread pool.
 *
 * serialport's unix binding (@serialport/bindings-cpp 13) reads with
 * fs.read and writes with fs.write, both on the thread pool: a read costs a
 * poller event plus a pool round trip (and starts with one that only returns
 * EAGAIN), and a door command waits for a pool thread to be scheduled before
 * its bytes reach the kernel. On a 2-core box whose cores are busy that wait
 * is the tail of card-to-relay latency. The binding opens every port
 * O_NONBLOCK, so read(2) and write(2) on its descriptor never block: doing
 * them directly puts a relay command in the kernel in the same turn that
 * decided it, before anything else (the journal's fsync) runs.
 *
 * Semantics are the binding's: EAGAIN waits for its poller, other errors
 * reach the stream (which treats them as a disconnect), a closed port
 * rejects reads with `canceled`. Only the I/O calls change. Ports whose
 * binding has no descriptor and poller (Windows) are left as they are.
 */
import { readSync, writeSync } from 'node:fs';
import type { SerialPort } from 'serialport';

interface Poller {
  once(event: 'readable' | 'writable', listener: (error?: Error | null) => void): unknown;
}

/** The part of LinuxPortBinding / DarwinPortBinding this relies on. */
interface UnixPortBinding {
  readonly fd: number | null;
  readonly isOpen: boolean;
  readonly poller: Poller;
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
  write(buffer: Buffer): Promise<void>;
  drain(): Promise<void>;
}

function isUnixPortBinding(binding: unknown): binding is UnixPortBinding {
  if (typeof binding !== 'object' || binding === null) return false;
  const candidate = binding as Partial<Record<keyof UnixPortBinding, unknown>>;
  const poller = candidate.poller as Partial<Poller> | undefined;
  return typeof candidate.fd === 'number' && typeof poller?.once === 'function' && typeof candidate.drain === 'function';
}

/**
 * Switches an open port to direct I/O. Call before anything reads or writes
 * (openSerialPort does, in its open callback). Returns false when the
 * port's binding is not a unix one and nothing was changed.
 */
export function useDirectIo(port: SerialPort): boolean {
  const binding: unknown = port.port;
  if (!isUnixPortBinding(binding)) return false;
  const libraryDrain = binding.drain.bind(binding);
  // tcdrain must come after the write's last byte, which may still wait for the poller.
  let writing: Promise<void> = Promise.resolve();
  Object.assign(binding, {
    read: (buffer: Buffer, offset: number, length: number) => readNow(binding, buffer, offset, length),
    write: (buffer: Buffer) => {
      writing = writeNow(binding, buffer);
      return writing;
    },
    drain: async () => {
      await writing;
      await libraryDrain();
    },
  });
  return true;
}

const wouldBlock = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR';
};

/** What the stream expects from a read on a port that was closed: canceled, not a disconnect. */
const notOpen = (): Error => Object.assign(new Error('Port is not open'), { canceled: true });

function until(binding: UnixPortBinding, event: 'readable' | 'writable'): Promise<void> {
  return new Promise((resolve, reject) => {
    binding.poller.once(event, (error) => (error ? reject(error) : resolve()));
  });
}

async function readNow(binding: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
  for (;;) {
    const fd = binding.fd;
    if (!binding.isOpen || fd === null) throw notOpen();
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buffer, offset, length, null);
    } catch (error) {
      if (!wouldBlock(error)) throw error;
      await until(binding, 'readable');
      continue;
    }
    if (bytesRead > 0) return { buffer, bytesRead };
    // 0 from a hung-up tty: the binding retries too (the stream would end on 0).
    // Yield between tries; device-presence watching notices the unplug.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The first write(2) happens synchronously, in the caller's turn. */
async function writeNow(binding: UnixPortBinding, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const fd = binding.fd;
    if (!binding.isOpen || fd === null) throw new Error('Port is not open');
    try {
      offset += writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      if (!wouldBlock(error)) throw error;
      await until(binding, 'writable');
    }
  }
}
