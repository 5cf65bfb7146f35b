/**
 * DoorController with a simulated relay and simulated contact and REX inputs
 * under their supervisors, on fake timers: what the relay is told at boot, on
 * a grant, on opening, on shutdown, per lock type; alarms and faults as door
 * events; the unlock schedule with first-person-in and lockdown.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DoorController } from '../../daemon/access/door-controller.js';
import type { DoorEventRecord } from '../../daemon/access/door-events.js';
import { configSchema, type DoorConfig } from '../../daemon/config/schema.js';
import type { DoorMode, WeeklySchedule } from '../../daemon/engine/types.js';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import { SimInput } from '../../drivers/sim/sim-input.js';
import { SimRelay } from '../../drivers/sim/sim-relay.js';
import { memoryLogger } from '../support/site.js';

const logger = memoryLogger('fatal').logger;

function doorConfig(extra: Record<string, unknown> = {}): DoorConfig {
  const config = configSchema.parse({
    site: { id: 's', timezone: 'Europe/London' },
    gateway: { id: 'g' },
    secretsFile: 'x',
    store: { path: 'x' },
    schedules: { office: { mon: ['09:00-17:00'] } },
    doors: [{ id: 'front', relay: { driver: 'sim' }, contact: { driver: 'sim' }, rex: { driver: 'sim' }, pulseMs: 3000, ...extra }],
  });
  const door = config.doors[0];
  if (door === undefined) throw new Error('no door');
  return door;
}

const office: WeeklySchedule = { mon: ['09:00-17:00'], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [], hol: [] };
/** Monday 2026-11-23 in London (UTC in winter). */
const at = (hhmm: string) => Date.parse(`2026-11-23T${hhmm}:00.000Z`);

describe('DoorController', () => {
  let wall: number;
  let relay: SimRelay;
  let contact: SimInput;
  let rex: SimInput;
  let supervisors: Supervisor<SimRelay | SimInput>[];
  let events: DoorEventRecord[];
  let door: DoorController;

  beforeEach(() => {
    vi.useFakeTimers();
    wall = at('08:00');
    relay = new SimRelay('door:front');
    contact = new SimInput('door:front:contact');
    rex = new SimInput('door:front:rex');
    events = [];
    supervisors = [];
  });
  afterEach(async () => {
    await door.shutdown();
    for (const s of supervisors) await s.stop();
    vi.useRealTimers();
  });

  async function boot(options: { config?: DoorConfig; mode?: DoorMode; unlockSchedule?: WeeklySchedule; contactOpen?: boolean } = {}) {
    // contactOpen: the door stands open when the daemon starts, so the input's first report is "open".
    const relaySup = new Supervisor(relay, { logger });
    if (options.contactOpen === true) contact = new SimInput('door:front:contact', true);
    const contactSup = new Supervisor(contact, { logger });
    const rexSup = new Supervisor(rex, { logger });
    supervisors.push(relaySup, contactSup, rexSup);
    door = new DoorController({
      config: options.config ?? doorConfig(),
      relay: relaySup,
      contact: contactSup,
      rex: rexSup,
      schedule: null,
      unlockSchedule: options.unlockSchedule ?? null,
      timezone: 'Europe/London',
      mode: options.mode ?? 'normal',
      logger,
      onEvent: (e) => events.push(e),
      now: () => wall,
    });
    relaySup.start();
    await vi.advanceTimersByTimeAsync(0);
    contactSup.start();
    rexSup.start();
    door.start();
    await vi.advanceTimersByTimeAsync(0);
  }
  const energised = () => relay.history.map((h) => h.energised);
  const kinds = () => events.map((e) => (e.alarm === null ? e.kind : `${e.kind}:${e.alarm}`));

  it('boot: a fail-secure strike is released (locked) as soon as the relay opens', async () => {
    await boot();
    expect(energised()).toEqual([false]);
    expect(door.status()).toMatchObject({ state: 'locked', lock: 'locked', contact: { active: false }, rex: { active: false } });
  });

  it('boot: a fail-safe maglock is energised (locked); a grant releases it for the pulse', async () => {
    await boot({ config: doorConfig({ lockType: 'fail-safe' }) });
    door.unlock(3000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(energised()).toEqual([true, false, true]);
  });

  it('a door found open at boot is open, not forced', async () => {
    await boot({ contactOpen: true });
    expect(door.state).toBe('open');
    expect(kinds()).toEqual([]);
  });

  it('relock on open: the strike relocks as the door opens; the pulse does not run on', async () => {
    await boot();
    door.unlock(3000);
    await vi.advanceTimersByTimeAsync(800);
    contact.set(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(energised()).toEqual([false, true, false]);
    expect(door.state).toBe('open');
    contact.set(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(energised()).toEqual([false, true, false]);
    expect(kinds()).toEqual([]);
  });

  it('forced open and held open become door events, each restored on close', async () => {
    await boot();
    contact.set(true);
    expect(door.status()).toMatchObject({ state: 'forced-open', alarm: 'forced-open' });
    contact.set(false);
    door.unlock(3000);
    contact.set(true);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(door.state).toBe('held-open');
    wall += 31_000;
    contact.set(false);
    expect(kinds()).toEqual([
      'forced-open:forced-open',
      'closed-after-alarm:forced-open',
      'held-open-prealarm:held-open-prealarm',
      'held-open:held-open',
      'closed-after-alarm:held-open',
    ]);
    expect(events.at(-1)).toMatchObject({ doorId: 'front', mode: 'normal', openMs: 30_000, at: wall });
  });

  it('REX in unlock mode pulses the relay; in free-egress mode it only suppresses the forced alarm', async () => {
    await boot();
    rex.press();
    await vi.advanceTimersByTimeAsync(3000);
    expect(energised()).toEqual([false, true, false]);
    await door.shutdown();
    relay = new SimRelay('door:front');
    contact = new SimInput('door:front:contact');
    rex = new SimInput('door:front:rex');
    events = [];
    await boot({ config: doorConfig({ rexMode: 'free-egress' }) });
    rex.press();
    contact.set(true);
    expect(energised()).toEqual([false]);
    expect(door.state).toBe('open');
    expect(kinds()).toEqual(['rex']);
  });

  it('a lost contact input is one input-fault event, and it reports again when back', async () => {
    await boot();
    contact.unplug();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(kinds()).toEqual(['input-fault']);
    expect(events[0]).toMatchObject({ input: 'contact' });
    expect(door.status().contact).toMatchObject({ active: false, device: { state: 'online', faults: 1 } });
  });

  it('a remote hold-open (mode unlocked) keeps the relay released until release', async () => {
    await boot();
    door.setMode('unlocked');
    expect(door.status()).toMatchObject({ state: 'unlocked', mode: 'unlocked', lock: 'unlocked' });
    door.unlock(3000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(door.state).toBe('unlocked');
    door.setMode('normal');
    expect(energised()).toEqual([false, true, false]);
    expect(kinds()).toEqual(['mode-changed', 'mode-changed']);
  });

  it('scheduled unlock with first-person-in starts at the first grant of the window and ends with it', async () => {
    await boot({ config: doorConfig({ firstPersonIn: true }), unlockSchedule: office });
    wall = at('09:00');
    await vi.advanceTimersByTimeAsync(15_000);
    expect(door.status()).toMatchObject({ state: 'locked', scheduledUnlock: 'waiting-first-person', mode: 'normal' });
    door.unlock(3000);
    expect(door.status()).toMatchObject({ state: 'unlocked', scheduledUnlock: 'active', mode: 'unlocked' });
    expect(door.policy().mode).toBe('unlocked');
    wall = at('17:00');
    await vi.advanceTimersByTimeAsync(15_000);
    expect(door.status()).toMatchObject({ state: 'locked', scheduledUnlock: 'off', mode: 'normal' });
    expect(energised()).toEqual([false, true, false]);
  });

  it('a lockdown cancels the scheduled unlock; after release the window waits for a first person', async () => {
    await boot({ unlockSchedule: office });
    wall = at('10:00');
    await vi.advanceTimersByTimeAsync(15_000);
    expect(door.status()).toMatchObject({ state: 'unlocked', scheduledUnlock: 'active' });
    door.setMode('locked-down');
    expect(door.status()).toMatchObject({ state: 'locked', mode: 'locked-down', scheduledUnlock: 'waiting-first-person' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(door.state).toBe('locked');
    door.setMode('normal');
    expect(door.status()).toMatchObject({ state: 'locked', mode: 'normal' });
    door.unlock(3000);
    expect(door.status()).toMatchObject({ state: 'unlocked', mode: 'unlocked', scheduledUnlock: 'active' });
  });

  it('shutdown locks, also a held-open door, and writes before returning', async () => {
    await boot({ config: doorConfig({ lockType: 'fail-safe' }), mode: 'unlocked' });
    expect(energised()).toEqual([false]);
    await door.shutdown();
    expect(energised()).toEqual([false, true]);
    expect(door.state).toBe('locked');
    door.unlock(3000);
    expect(energised()).toEqual([false, true]);
  });

  it('exposes the extended pulse in its policy for the engine', async () => {
    await boot({ config: doorConfig({ extendedPulseMs: 12_000 }) });
    expect(door.policy()).toMatchObject({ pulseMs: 3000, extendedPulseMs: 12_000 });
  });
});
