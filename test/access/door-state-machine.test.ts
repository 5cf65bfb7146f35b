/**
 * The door state machine, table-driven: each row is a sequence of inputs and
 * clock advances (vitest fake timers drive the runner's monotonic timer) with
 * the phase, lock and events expected after it. Together the rows cover every
 * transition in docs/door-states.md.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DoorMachineRunner } from '../../daemon/access/door-machine-runner.js';
import {
  initialDoorState,
  nextDeadline,
  stepDoor,
  type DoorInput,
  type DoorMachineConfig,
  type DoorMode,
  type DoorPhase,
} from '../../daemon/access/door-state-machine.js';

const config: DoorMachineConfig = { heldOpenMs: 30_000, preAlarmMs: 10_000, rexMode: 'unlock', rexMs: 3_000 };
const egress: DoorMachineConfig = { ...config, rexMode: 'free-egress' };

type Step =
  | DoorInput
  | { readonly type: 'wait'; readonly ms: number }
  | { readonly type: 'expect'; readonly phase: DoorPhase; readonly lock: 'locked' | 'unlocked' };

const open: DoorInput = { type: 'contact', level: 'open' };
const close: DoorInput = { type: 'contact', level: 'closed' };
const lost: DoorInput = { type: 'contact', level: 'unknown' };
const grant = (ms = 3_000): DoorInput => ({ type: 'grant', ms });
const wait = (ms: number): Step => ({ type: 'wait', ms });
const is = (phase: DoorPhase, lock: 'locked' | 'unlocked' = 'locked'): Step => ({ type: 'expect', phase, lock });
const mode = (m: DoorMode): DoorInput => ({ type: 'mode', mode: m });

interface Row {
  readonly name: string;
  readonly config?: DoorMachineConfig;
  readonly mode?: DoorMode;
  /** The contact's first report; default closed. */
  readonly boot?: 'open' | 'closed' | 'none';
  readonly steps: readonly Step[];
  /** Every event, as "kind" or "kind:alarm", in order. */
  readonly events: readonly string[];
}

const rows: readonly Row[] = [
  { name: 'a grant pulses the lock, which relocks when the pulse ends', steps: [is('locked'), grant(), is('unlocked', 'unlocked'), wait(2_999), is('unlocked', 'unlocked'), wait(1), is('locked')], events: [] },
  { name: 'a second grant extends a pulse, never shortens it', steps: [grant(3_000), wait(2_000), grant(3_000), wait(2_000), is('unlocked', 'unlocked'), grant(500), wait(999), is('unlocked', 'unlocked'), wait(1), is('locked')], events: [] },
  {
    name: 'relock on open: the strike relocks as the door opens, closing later is normal',
    steps: [grant(), wait(500), open, is('open'), wait(5_000), close, is('locked'), open, is('forced-open')],
    events: ['forced-open:forced-open'],
  },
  { name: 'forced open: the contact opens while locked, no grant, no REX', steps: [open, is('forced-open'), wait(60_000), is('forced-open'), close, is('locked')], events: ['forced-open:forced-open', 'closed-after-alarm:forced-open'] },
  {
    name: 'held open: pre-alarm at heldOpen - preAlarm, alarm at heldOpen, restored on close',
    steps: [grant(), open, wait(19_999), is('open'), wait(1), is('held-open-prealarm'), wait(9_999), is('held-open-prealarm'), wait(1), is('held-open'), wait(5_000), close, is('locked')],
    events: ['held-open-prealarm:held-open-prealarm', 'held-open:held-open', 'closed-after-alarm:held-open'],
  },
  { name: 'closing before the pre-alarm raises nothing', steps: [grant(), open, wait(19_000), close, wait(60_000), is('locked')], events: [] },
  { name: 'closing after the pre-alarm only restores it', steps: [grant(), open, wait(25_000), close, wait(60_000), is('locked')], events: ['held-open-prealarm:held-open-prealarm', 'closed-after-alarm:held-open-prealarm'] },
  { name: 'without a pre-alarm, held-open comes alone', config: { ...config, preAlarmMs: 0 }, steps: [grant(), open, wait(30_000), is('held-open')], events: ['held-open:held-open'] },
  { name: 'REX in unlock mode pulses the lock; opening is authorised', steps: [{ type: 'rex' }, is('unlocked', 'unlocked'), open, is('open'), close, wait(3_000), is('locked')], events: ['rex'] },
  {
    name: 'REX in free-egress mode keeps the lock and suppresses the forced alarm for its window',
    config: egress,
    steps: [{ type: 'rex' }, is('locked'), wait(2_000), open, is('open'), close, open, is('forced-open')],
    events: ['rex', 'forced-open:forced-open', ],
  },
  { name: 'the free-egress window expires', config: egress, steps: [{ type: 'rex' }, wait(3_000), open, is('forced-open')], events: ['rex', 'forced-open:forced-open'] },
  {
    name: 'a door found open at boot is open, not forced, and is supervised for held-open from then',
    boot: 'open',
    steps: [is('open'), wait(20_000), is('held-open-prealarm'), close, is('locked')],
    events: ['held-open-prealarm:held-open-prealarm', 'closed-after-alarm:held-open-prealarm'],
  },
  {
    name: 'a contact lost and back open is not forced; held-open counts again from its report',
    steps: [lost, open, is('open'), wait(19_999), is('open'), wait(1), is('held-open-prealarm')],
    events: ['held-open-prealarm:held-open-prealarm'],
  },
  { name: 'an alarm raised before the contact was lost stays until it reports closed', steps: [open, lost, is('locked'), close, is('locked')], events: ['forced-open:forced-open', 'closed-after-alarm:forced-open'] },
  {
    name: 'mode unlocked holds the lock released, opening is free and held-open is not supervised',
    steps: [mode('unlocked'), is('unlocked', 'unlocked'), open, is('open', 'unlocked'), wait(120_000), is('open', 'unlocked'), close, is('unlocked', 'unlocked'), grant(), wait(10_000), is('unlocked', 'unlocked')],
    events: ['mode-changed'],
  },
  {
    name: 'leaving mode unlocked relocks, and an open door is supervised from the change',
    mode: 'unlocked',
    steps: [open, wait(60_000), mode('normal'), is('open'), wait(20_000), is('held-open-prealarm')],
    events: ['mode-changed', 'held-open-prealarm:held-open-prealarm'],
  },
  {
    name: 'locked-down cuts a running pulse short and relocks at once',
    steps: [grant(10_000), mode('locked-down'), is('locked'), open, is('forced-open')],
    events: ['mode-changed', 'forced-open:forced-open'],
  },
  {
    name: 'locked-down honours a grant (the engine decided an override) and REX (egress)',
    mode: 'locked-down',
    steps: [grant(), is('unlocked', 'unlocked'), open, is('open'), close, { type: 'rex' }, is('unlocked', 'unlocked'), wait(3_000), is('locked')],
    events: ['rex'],
  },
  { name: 'a mode change to the same mode is no event', steps: [mode('normal')], events: [] },
];

describe('door state machine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(rows)('$name', (row) => {
    const events: string[] = [];
    const runner = new DoorMachineRunner({
      config: row.config ?? config,
      mode: row.mode ?? 'normal',
      onStep: (report) => events.push(...report.events.map((e) => (e.alarm === null || e.kind === 'rex' ? e.kind : `${e.kind}:${e.alarm}`))),
    });
    if (row.boot !== 'none') runner.send({ type: 'contact', level: row.boot ?? 'closed' });
    for (const step of row.steps) {
      if (step.type === 'wait') vi.advanceTimersByTime(step.ms);
      else if (step.type === 'expect') {
        expect({ phase: runner.phase, lock: runner.lockReleased ? 'unlocked' : 'locked' }).toEqual({ phase: step.phase, lock: step.lock });
      } else runner.send(step);
    }
    expect(events).toEqual(row.events);
    runner.stop();
  });

  it('reports a lock change exactly when the relay must be written', () => {
    const changes: boolean[] = [];
    const runner = new DoorMachineRunner({ config, mode: 'normal', onStep: (r) => r.lockChanged && changes.push(r.after.pulseUntil !== null || r.after.mode === 'unlocked') });
    runner.send(close);
    runner.send(grant());
    runner.send(grant()); // extension: no write
    runner.send(open); // relock on open
    runner.send(close);
    runner.send(mode('unlocked'));
    runner.send(mode('locked-down'));
    expect(changes).toEqual([true, false, true, false]);
    runner.stop();
  });

  it('measures how long the door was open in held-open and closed-after-alarm events', () => {
    let state = stepDoor(config, initialDoorState('normal'), close, 0).state;
    state = stepDoor(config, state, grant(), 0).state;
    state = stepDoor(config, state, open, 1_000).state;
    expect(nextDeadline(config, state)).toBe(21_000);
    const late = stepDoor(config, state, { type: 'tick' }, 40_000);
    // A late tick raises both alarms, in order.
    expect(late.events.map((e) => [e.kind, e.openMs])).toEqual([
      ['held-open-prealarm', 39_000],
      ['held-open', 39_000],
    ]);
    const closed = stepDoor(config, late.state, close, 45_500);
    expect(closed.events).toEqual([{ kind: 'closed-after-alarm', alarm: 'held-open', mode: 'normal', openMs: 44_500 }]);
    expect(nextDeadline(config, closed.state)).toBeNull();
  });

  it('a wall-clock jump changes nothing: only monotonic time moves deadlines', () => {
    const runner = new DoorMachineRunner({ config, mode: 'normal', onStep: () => undefined });
    runner.send(close);
    runner.send(grant(3_000));
    vi.setSystemTime(Date.now() + 3_600_000);
    expect(runner.phase).toBe('unlocked');
    vi.advanceTimersByTime(3_000);
    expect(runner.phase).toBe('locked');
    runner.stop();
  });
});
