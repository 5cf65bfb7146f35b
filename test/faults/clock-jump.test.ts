/**
 * The wall clock stepped an hour forward and an hour back, as NTP or a
 * technician does it. Two things must not change length:
 *  - a running visitor token: the ClockWatch (injected wall and monotonic
 *    clocks, the real class) sees the step on its next tick and the same
 *    wiring as the gateway (followClockJumps) moves the token's start with it,
 *    so the pipeline on a real store grants until the same remaining time;
 *  - a door pulse: it runs on a monotonic timer, so a step of Date changes
 *    nothing (fake timers move Date, performance and setTimeout separately).
 *
 * Limits, on purpose: a step is seen at the next tick (1 s); a read decided
 * between the step and that tick uses the stepped clock with the old start. A
 * step while the daemon is not running (a cold boot before NTP) is not seen
 * at all: the token then runs by the corrected wall clock. Absolute times
 * (validFrom/validTo, schedules, plan months, the daily cut-off) follow the
 * wall clock by design: after a step it is a different hour for them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessPipeline, AccessSource } from '../../daemon/access/access-pipeline.js';
import { DoorController } from '../../daemon/access/door-controller.js';
import { configSchema } from '../../daemon/config/schema.js';
import { followClockJumps } from '../../daemon/runtime/clock-jumps.js';
import { ClockWatch } from '../../daemon/runtime/clock-watch.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import type { Db } from '../../daemon/store/database.js';
import { datasetSchema } from '../../daemon/sync/dataset.js';
import { SimRelay } from '../../drivers/sim/sim-relay.js';
import { openPipelineStore } from '../support/pipeline-store.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const london = (hhmm: string) => Date.parse(`2026-11-23T${hhmm}:00Z`);
const logger = memoryLogger('fatal').logger;

describe('wall clock jumping an hour', () => {
  describe('a running visitor token', () => {
    let dir: ReturnType<typeof tempDir>;
    let db: Db;
    let wall: number;
    let mono: number;
    let clock: ClockWatch;
    let pipeline: AccessPipeline;

    beforeEach(() => {
      dir = tempDir();
      wall = london('13:00');
      mono = 1_000;
      clock = new ClockWatch({ probe: null, wallNow: () => wall, monoNow: () => mono });
      const store = openPipelineStore(dir.path, logger, { pipeline: { now: () => wall, clock: () => ({ trusted: clock.trusted(), policy: 'trust' }) } });
      ({ db, pipeline } = store);
      const { cache, sessions } = store;
      followClockJumps(clock, sessions, logger);
      cache.applySnapshot(
        datasetSchema.parse({
          schema: 'gatehouse.dataset/1',
          version: 1,
          settings: { visitorTokenMinutes: 120, visitorTokenStart: 'first-checkin' },
          people: [
            {
              id: 'vic',
              kind: 'visitor',
              name: 'Vic',
              status: 'active',
              credentials: [{ id: 'vic-code', kind: 'visitor_code', value: '13579' }],
              entitlements: [{ id: 'vic-token', kind: 'visitor_token', validFrom: '2026-11-23T00:00:00Z', validTo: '2026-11-24T00:00:00Z' }],
            },
          ],
        }),
        london('08:00'),
      );
    });
    afterEach(() => {
      db.close();
      dir.remove();
    });

    /** Real time passes: both clocks move, and the watch ticks as its timer would. */
    const pass = (ms: number) => {
      wall += ms;
      mono += ms;
      clock.tick();
    };
    /** The wall clock is stepped; the monotonic clock does not move. */
    const step = (ms: number) => {
      wall += ms;
      clock.tick();
    };
    const entry: AccessSource = { id: 'lobby', channel: 'door', mode: 'entry', doorId: null, area: null, driver: 'sim' };
    const exit: AccessSource = { ...entry, id: 'lobby-out', mode: 'exit' };
    const vic = (source: AccessSource) => pipeline.present(source, { kind: 'keypad', code: new SecretValue('13579') }).decision;

    for (const jump of [HOUR, -HOUR]) {
      it(`${jump > 0 ? 'forward' : 'back'}: the token neither gains nor loses the hour`, () => {
        // Started at 13:00 for 120 minutes of real time.
        expect(vic(entry)).toMatchObject({ outcome: 'granted', validUntil: london('15:00') });
        pass(30 * MIN);
        vic(exit);
        expect(clock.status().jumps).toBe(0);

        step(jump);
        expect(clock.status().jumps).toBe(1);

        // 1 h 59 min of real time after the start: one minute left, by the stepped clock.
        pass(89 * MIN);
        expect(vic(entry)).toMatchObject({ outcome: 'granted', validUntil: london('15:00') + jump });
        vic(exit);
        pass(2 * MIN);
        expect(vic(entry)).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass' });
        expect(clock.status().jumps).toBe(1);
      });
    }
  });

  describe('a door pulse', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    for (const jump of [HOUR, -HOUR]) {
      it(`${jump > 0 ? 'forward' : 'back'}: the pulse ends after its own length of real time`, async () => {
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
        vi.setSystemTime(london('13:00'));
        const config = configSchema.parse({
          site: { id: 's', timezone: 'Europe/London' },
          gateway: { id: 'g' },
          secretsFile: 'x',
          store: { path: 'x' },
          doors: [{ id: 'front', relay: { driver: 'sim' }, pulseMs: 5_000 }],
        }).doors[0];
        if (config === undefined) throw new Error('no door');
        const relay = new SimRelay('door:front');
        const relaySupervisor = new Supervisor(relay, { logger });
        const door = new DoorController({ config, relay: relaySupervisor, schedule: null, unlockSchedule: null, timezone: 'Europe/London', mode: 'normal', logger, onEvent: () => undefined });
        relaySupervisor.start();
        door.start();
        await vi.advanceTimersByTimeAsync(0);
        try {
          door.unlock(5_000);
          await vi.advanceTimersByTimeAsync(1_000);
          expect(relay.energised).toBe(true);
          // The wall clock steps; no real time passes.
          vi.setSystemTime(Date.now() + jump);
          await vi.advanceTimersByTimeAsync(3_999);
          expect(relay.energised).toBe(true);
          expect(door.status().lock).toBe('unlocked');
          await vi.advanceTimersByTimeAsync(1);
          expect(relay.energised).toBe(false);
          expect(door.status()).toMatchObject({ state: 'locked', lock: 'locked' });
        } finally {
          await door.shutdown();
          await relaySupervisor.stop();
        }
      });
    }
  });
});
