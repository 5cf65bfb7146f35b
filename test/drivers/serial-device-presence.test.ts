import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchDevicePresence } from '../../drivers/serial/watch-device-presence.js';
import { waitFor } from '../support/pty.js';

// The watchdog only stats the path, so plain files stand in for device nodes here.
describe('watchDevicePresence', () => {
  let dir: string;
  const stops: (() => void)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-presence-'));
  });

  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await rm(dir, { recursive: true, force: true });
  });

  function watch(path: string) {
    const reasons: string[] = [];
    stops.push(watchDevicePresence(path, (reason) => reasons.push(reason), 20));
    return { reasons };
  }

  it('reports a node that vanishes, once', async () => {
    const path = join(dir, 'ttyUSB0');
    await writeFile(path, '');
    const { reasons } = watch(path);
    await rm(path);
    await waitFor(() => reasons.length > 0, 'vanished');
    await writeFile(path, ''); // coming back does not produce a second report
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reasons).toEqual(['device node vanished']);
  });

  it('reports a node replaced under the same name (a quick replug)', async () => {
    const path = join(dir, 'ttyUSB0');
    await writeFile(path, '');
    const { reasons } = watch(path);
    // Let the watchdog record the original node before swapping it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writeFile(join(dir, 'new'), '');
    await rename(join(dir, 'new'), path);
    await waitFor(() => reasons.length > 0, 'replaced');
    expect(reasons).toEqual(['device node was replaced']);
  });

  it('stays quiet while the node is there and after stop()', async () => {
    const path = join(dir, 'ttyUSB0');
    await writeFile(path, '');
    const { reasons } = watch(path);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(reasons).toEqual([]);
    for (const stop of stops.splice(0)) stop();
    await rm(path);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reasons).toEqual([]);
  });
});
