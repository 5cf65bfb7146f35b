/** The pure reload plan: what changes live, what restarts, what needs a process restart. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { planReload } from '../../daemon/runtime/reload-plan.js';
import { writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

describe('planReload', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const site = (body: string, secrets = '') => {
    const path = writeSite(dir.path, body, { secrets });
    return loadConfig(path);
  };

  it('relay change restarts the door, removal removes it, unchanged parts stay out of the plan', () => {
    const a = site(`doors:\n  - { id: front, relay: { driver: sim } }\n  - { id: back, relay: { driver: lcus, path: /dev/ttyUSB0, channel: 1 } }\n  - { id: side, relay: { driver: sim } }\nreaders:\n  - { id: r1, driver: sim, door: front, mode: entry }\n  - { id: r2, driver: sim, door: side, mode: entry }\n`);
    const b = site(`doors:\n  - { id: front, relay: { driver: sim } }\n  - { id: back, relay: { driver: lcus, path: /dev/ttyUSB0, channel: 2 } }\nreaders:\n  - { id: r1, driver: sim, door: front, mode: entry }\n`);
    const plan = planReload(a, b);
    expect(plan.doors.relayChanged.map((d) => d.id)).toEqual(['back']);
    expect(plan.doors.removed).toEqual(['side']);
    expect(plan.doors.settingsChanged).toEqual([]);
    expect(plan.readers.removed).toEqual(['r2']);
    expect(plan.readers.changed).toEqual([]);
    expect(plan.restartRequired).toEqual([]);
  });

  it('a schedule edit applies to the doors using it; store, mqtt and secrets need a restart and are named, not shown', () => {
    const body = `schedules:\n  day: { mon: ["08:00-18:00"] }\ndoors:\n  - { id: front, relay: { driver: sim }, schedule: day }\n  - { id: back, relay: { driver: sim } }\n`;
    const a = site(body);
    const b = site(`${body.replace('08:00-18:00', '07:00-19:00')}mqtt: { url: "mqtt://127.0.0.1:1883", username: gw }\n`, 'mqttPassword: hunter2-secret\n');
    const plan = planReload(a, b);
    expect(plan.doors.settingsChanged.map((d) => d.id)).toEqual(['front']);
    expect(plan.restartRequired).toEqual(['mqtt', 'secrets.mqttPassword']);
    expect(JSON.stringify(plan)).not.toContain('hunter2');
  });
});
