/**
 * The MQTT link silences mqtt.js's debug logger (it costs a quarter of what a
 * drain allocates) unless DEBUG asks for it, by the debug package's rules.
 */
import { describe, expect, it } from 'vitest';
import { mqttDebugWanted } from '../../daemon/uplink/mqtt-link.js';

describe("mqtt.js's debug output", () => {
  it.each([
    ['', false],
    ['gatehouse', false],
    ['mqttjs:packet', false],
    ['mqttjs*', true],
    ['mqttjs:*', true],
    ['mqtt*', true],
    ['*', true],
    ['gatehouse,mqttjs:client', true],
    ['gatehouse mqttjs*', true],
    ['*,-mqttjs*', false],
    ['mqttjs*,-mqttjs:client', false],
  ])('DEBUG=%j: wanted %s', (debug, wanted) => {
    expect(mqttDebugWanted(debug)).toBe(wanted);
  });
});
