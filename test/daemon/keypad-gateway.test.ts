/**
 * The gateway's wiring of code security: the config sections reach the
 * pipeline, lockouts and duress alarms land in the journal on events/alarm.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { alarmEventSchema } from '../../daemon/uplink/payloads.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const body = `
keypad: { duress: { scheme: reverse } }
guessing: { attempts: 3, lockoutS: 30 }
readers:
  - { id: front-in, driver: sim, mode: entry }
`;

describe('gateway code security', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway;

  beforeEach(async () => {
    dir = tempDir();
    gateway = await Gateway.start(loadConfig(writeSite(dir.path, body)), memoryLogger().logger, '0.0.0-test');
  });
  afterEach(async () => {
    await gateway.stop();
    dir.remove();
  });

  const alarms = () =>
    gateway.journal
      .recent(100)
      .filter((e) => e.type === 'alarm')
      .map((e) => ({ topic: e.topic, event: alarmEventSchema.parse(JSON.parse(e.payload)) }));

  it('applies guessing.attempts and journals the lockout on events/alarm', () => {
    for (const code of ['00000', '00001', '00002']) expect(gateway.simulate('keypad', code).decision.reason).toBe('unknown_credential');
    expect(gateway.simulate('keypad', demo.ada.pin).decision.reason).toBe('locked_out');
    const [only, ...more] = alarms();
    expect(more).toEqual([]);
    expect(only?.topic).toBe('gatehouse/v1/gw1/events/alarm');
    expect(only?.event).toMatchObject({
      type: 'lockout_started',
      source: 'keypad:front-in',
      siteId: 'test',
      gatewayId: 'gw1',
      lockout: { durationS: 30, level: 1, failures: 3 },
    });
  });

  it('applies keypad.duress.scheme', () => {
    const reversed = [...demo.grace.pin].reverse().join('');
    const result = gateway.simulate('keypad', reversed);
    expect(result.decision).toMatchObject({ outcome: 'granted', person: { id: demo.grace.id } });
    expect(alarms().map((a) => [a.event.type, a.event.priority, a.event.person?.id, a.event.accessEventId])).toEqual([
      ['duress', 'high', demo.grace.id, result.event?.id],
    ]);
  });
});
