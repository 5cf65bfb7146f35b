import { stat } from 'node:fs/promises';

export const DEFAULT_PRESENCE_CHECK_MS = 1_000;

/**
 * Calls `onGone` once when the device node at `path` disappears or is replaced
 * by a new node (a replug under the same name).
 *
 * serialport alone misses some unplugs: when the tty is hung up while no read
 * is parked in its poller (e.g. right after open), read() returns 0 and
 * bindings-cpp retries it forever, spinning a CPU without ever emitting
 * 'close'. Watching the path catches that case.
 *
 * Returns a function that stops watching.
 */
export function watchDevicePresence(path: string, onGone: (reason: string) => void, intervalMs = DEFAULT_PRESENCE_CHECK_MS): () => void {
  let stopped = false;
  let identity: string | undefined;
  let checking = false;

  const check = async () => {
    if (checking || stopped) return;
    checking = true;
    try {
      const current = await nodeIdentity(path);
      if (stopped) return;
      if (current === undefined) gone('device node vanished');
      else if (identity === undefined) identity = current;
      else if (current !== identity) gone('device node was replaced');
    } finally {
      checking = false;
    }
  };
  const gone = (reason: string) => {
    stop();
    onGone(reason);
  };
  const timer = setInterval(() => void check(), intervalMs);
  // A watchdog must never be what keeps the daemon (or a test run) alive.
  timer.unref();
  void check();

  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  return stop;
}

/** Device number and inode of what `path` points to, or undefined if it is gone. */
async function nodeIdentity(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    return `${info.rdev}:${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}
