/**
 * A relay board unplugged while its door is unlocked: the pulse ends while
 * the board is gone, and the locked state is written as soon as it returns.
 * (Reader unplug/replug is test/daemon/device-faults.test.ts, part of this suite.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const RELAY_ON = Buffer.from([0xa0, 0x01, 0x01, 0xa2]);
const RELAY_OFF = Buffer.from([0xa0, 0x01, 0x00, 0xa1]);

describe('relay unplugged while its door is unlocked', () => {
  let dir: ReturnType<typeof tempDir>;
  let board: PtyPair;
  let relay: HostPort;
  let gateway: Gateway | undefined;

  beforeEach(async () => {
    dir = tempDir();
    board = await createPty(dir.path, 'lcus');
    relay = await openHost(board.hostPath);
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await relay.close();
    await board.close();
    dir.remove();
  });

  it('the pulse ends while the board is away, and "locked" is the first thing it hears on return', async () => {
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: lcus, path: ${board.devicePath}, channel: 1 }, pulseMs: 1000 }
readers:
  - { id: front-in, driver: sim, door: front, mode: entry }
`,
    );
    const g = await Gateway.start(loadConfig(config), memoryLogger('fatal').logger, '0.0.0-test');
    gateway = g;
    const door = () => g.status().doors[0];
    expect(await relay.readBytes(4)).toEqual(RELAY_OFF);

    expect(g.simulate('card', demo.ada.card).decision.outcome).toBe('granted');
    expect(await relay.readBytes(4)).toEqual(RELAY_ON);
    expect(door()).toMatchObject({ state: 'unlocked', lock: 'unlocked' });

    await relay.close();
    await board.unplug();
    await waitFor(() => door()?.relay.state !== 'online', 'relay fault noticed');
    // The pulse runs out while nobody can tell the board.
    await waitFor(() => door()?.state === 'locked', 'pulse over', 10_000);

    await board.replug();
    relay = await openHost(board.hostPath);
    expect(await relay.readBytes(4, 20_000)).toEqual(RELAY_OFF);
    await waitFor(() => door()?.relay.state === 'online', 'relay back online', 20_000);
    expect(door()).toMatchObject({ state: 'locked', lock: 'locked' });
    // And it works again.
    expect(g.simulate('card', demo.grace.card).decision.outcome).toBe('granted');
    expect(await relay.readBytes(4)).toEqual(RELAY_ON);
  });
});
