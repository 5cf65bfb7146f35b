/**
 * Node side of bench/pty-device.py: kernel pty pairs with a python3 process
 * playing the devices on their master sides. The timing is taken in that
 * process (see the header of pty-device.py), so the bench process, its
 * event loop and its garbage collector stay out of the measured interval.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const HELPER = join(import.meta.dirname, 'pty-device.py');

interface Answer {
  readonly ok: boolean;
  readonly ns?: number;
  readonly t0?: number;
  readonly t1?: number;
  readonly error?: string;
  readonly got?: string;
}

/** One timed write-to-first-byte interval. */
export interface PtySample {
  readonly ms: number;
  /** CLOCK_MONOTONIC ns (process.hrtime.bigint() in node) just before the write(2) and at the first byte: to line up with traces. */
  readonly sentNs: number;
  readonly firstByteNs: number;
}

export interface PtyDevices {
  /** The slave path of each pty by name (/dev/pts/N): what the process under test opens. */
  readonly paths: Readonly<Record<string, string>>;
  /**
   * Writes `bytes` into `write`'s pty and returns the ms from just after
   * that write(2) to the first byte arriving on `read`; resolves once
   * `expect` has arrived in full.
   */
  sample(write: string, bytes: Buffer, read: string, expect: Buffer, timeoutMs?: number): Promise<PtySample>;
  /** Resolves once `bytes` arrived on `port` (since the last sample or expect). */
  expect(port: string, bytes: Buffer, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function openPtyDevices(names: readonly string[]): Promise<PtyDevices> {
  const child = spawn('python3', [HELPER, ...names], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A missing python3 ends the readline below; the error itself is reported there.
  child.once('error', () => undefined);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done === true) throw new Error('pty-device.py exited');
    return line.value;
  };
  // One command at a time: the helper answers in order and the benches never overlap requests.
  let queue: Promise<unknown> = Promise.resolve();
  const call = (command: Record<string, unknown>): Promise<Answer> => {
    const result = queue.then(async () => {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      const answer = JSON.parse(await nextLine()) as Answer;
      if (!answer.ok) throw new Error(`pty-device ${String(command.op)}: ${answer.error ?? '?'} (got ${answer.got || 'nothing'})`);
      return answer;
    });
    queue = result.catch(() => undefined);
    return result;
  };
  const hello = JSON.parse(await nextLine()) as { ports: Record<string, string> };
  return {
    paths: hello.ports,
    sample: async (write, bytes, read, expect, timeoutMs = 5000) => {
      const answer = await call({ op: 'sample', write, bytes: bytes.toString('hex'), read, expect: expect.toString('hex'), timeoutMs });
      return { ms: (answer.ns ?? Number.NaN) / 1e6, sentNs: answer.t0 ?? Number.NaN, firstByteNs: answer.t1 ?? Number.NaN };
    },
    expect: async (port, bytes, timeoutMs = 10_000) => {
      await call({ op: 'expect', port, bytes: bytes.toString('hex'), timeoutMs });
    },
    close: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
