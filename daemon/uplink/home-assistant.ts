/**
 * Home Assistant MQTT discovery: retained config messages that make every
 * door appear in Home Assistant as sensors (lock state, contact, alarm, mode)
 * plus the site's occupancy, all read from the retained `state` topic, with
 * the gateway's retained `status` as availability (its Last Will turns them
 * unavailable). Read-only on purpose: nothing here lets Home Assistant open a
 * door; remote unlocks go through signed cloud commands.
 */
import type { SiteState } from './payloads.js';

export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: string;
}

export interface DiscoveryContext {
  readonly discoveryPrefix: string;
  readonly gatewayId: string;
  readonly siteName: string;
  readonly version: string;
  readonly stateTopic: string;
  readonly statusTopic: string;
  readonly doors: readonly { readonly id: string; readonly name: string; readonly hasContact: boolean }[];
}

/** Object ids must be [a-zA-Z0-9_-]: gateway and door ids already are, bar nothing. */
const objectId = (...parts: string[]): string => parts.join('_').replace(/[^a-zA-Z0-9_-]/g, '_');

export function discoveryMessages(c: DiscoveryContext): DiscoveryMessage[] {
  const node = objectId('gatehouse', c.gatewayId);
  const common = {
    state_topic: c.stateTopic,
    availability_topic: c.statusTopic,
    availability_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
    device: {
      identifiers: [node],
      name: `Gatehouse ${c.siteName}`,
      manufacturer: 'Gatehouse',
      model: 'check-in and access gateway',
      sw_version: c.version,
    },
  };
  const message = (component: string, id: string, config: Record<string, unknown>): DiscoveryMessage => ({
    topic: `${c.discoveryPrefix}/${component}/${node}/${id}/config`,
    payload: JSON.stringify({ ...common, unique_id: `${node}_${id}`, object_id: `${node}_${id}`, ...config }),
  });
  const door = (id: string, field: string): string =>
    `{% set d = value_json.doors | selectattr('id', 'equalto', '${id}') | first %}{{ ${field} }}`;
  const messages: DiscoveryMessage[] = [
    message('sensor', 'occupancy', { name: 'On site', icon: 'mdi:account-group', state_class: 'measurement', value_template: '{{ value_json.occupancy }}' }),
  ];
  for (const d of c.doors) {
    const id = objectId(d.id);
    messages.push(
      message('binary_sensor', `${id}_lock`, {
        name: `${d.name} lock`,
        device_class: 'lock',
        value_template: door(d.id, "'ON' if d.lock == 'unlocked' else 'OFF'"),
      }),
      message('sensor', `${id}_mode`, { name: `${d.name} mode`, icon: 'mdi:door', value_template: door(d.id, 'd.mode') }),
      message('binary_sensor', `${id}_alarm`, {
        name: `${d.name} alarm`,
        device_class: 'problem',
        value_template: door(d.id, "'ON' if d.alarm else 'OFF'"),
        json_attributes_topic: c.stateTopic,
        json_attributes_template: door(d.id, '{"alarm": d.alarm} | tojson'),
      }),
    );
    if (d.hasContact) {
      messages.push(
        message('binary_sensor', `${id}_open`, {
          name: `${d.name} contact`,
          device_class: 'door',
          value_template: door(d.id, "'ON' if d.open else 'OFF'"),
        }),
      );
    }
  }
  return messages;
}

/** The state a discovery config's templates read, for tests and tools. */
export type { SiteState };
