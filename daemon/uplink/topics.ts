/**
 * The MQTT topic tree of one gateway, Zigbee2MQTT style: one typed map from
 * topic name to payload, delivery options and schema, and functions that build
 * the full topic strings. Nothing else in the daemon spells a topic by hand.
 *
 * Every topic lives under `<topicPrefix>/<gatewayId>/`, so a broker ACL can
 * confine a gateway to its own subtree with a single pattern.
 */
import type { z } from 'zod';
import { commandEventSchema, type CommandEvent } from '../cloud/command-event.js';
import { commandResponseSchema, type CommandResponse } from '../cloud/link-messages.js';
import { envelopeSchema, type SignedEnvelope } from '../cloud/signed-message.js';
import { syncRequestSchema, syncStateSchema, type SyncRequest, type SyncState } from '../sync/messages.js';
import {
  accessEventSchema,
  alarmEventSchema,
  checkoutEventSchema,
  conflictReportSchema,
  doorEventSchema,
  gatewayStatusSchema,
  registrationEventSchema,
  siteStateSchema,
  type AccessEvent,
  type AlarmEvent,
  type CheckoutEvent,
  type ConflictReport,
  type DoorEvent,
  type GatewayStatus,
  type RegistrationEvent,
  type SiteState,
} from './payloads.js';

/** Topic name (relative to the gateway's subtree) to the payload published there. */
export interface TopicPayloads {
  status: GatewayStatus;
  state: SiteState;
  'events/access': AccessEvent;
  'events/checkout': CheckoutEvent;
  'events/conflicts': ConflictReport;
  'events/command': CommandEvent;
  'events/alarm': AlarmEvent;
  'events/door': DoorEvent;
  'events/registration': RegistrationEvent;
  'cmd/response': CommandResponse;
  cmd: SignedEnvelope;
  'events/ack': SignedEnvelope;
  'sync/snapshot': SignedEnvelope;
  'sync/delta': SignedEnvelope;
  'sync/request': SyncRequest;
  'sync/state': SyncState;
}

export type TopicName = keyof TopicPayloads;

export interface TopicSpec<K extends TopicName> {
  readonly qos: 1;
  readonly retain: boolean;
  readonly schema: z.ZodType<TopicPayloads[K]>;
  /** `in`: published by the cloud, subscribed by the gateway. Default: published by the gateway. */
  readonly direction?: 'in';
}

export const topicSpecs: { readonly [K in TopicName]: TopicSpec<K> } = {
  // Retained so a consumer that subscribes later still learns whether the
  // gateway is up; also registered as the Last Will (state offline).
  status: { qos: 1, retain: true, schema: gatewayStatusSchema },
  // Retained like status: a dashboard that subscribes later sees the doors as they are.
  state: { qos: 1, retain: true, schema: siteStateSchema },
  // Not retained: a retained event would be replayed to every new subscriber
  // as if it had just happened.
  'events/access': { qos: 1, retain: false, schema: accessEventSchema },
  'events/checkout': { qos: 1, retain: false, schema: checkoutEventSchema },
  'events/conflicts': { qos: 1, retain: false, schema: conflictReportSchema },
  'events/command': { qos: 1, retain: false, schema: commandEventSchema },
  'events/alarm': { qos: 1, retain: false, schema: alarmEventSchema },
  'events/door': { qos: 1, retain: false, schema: doorEventSchema },
  'events/registration': { qos: 1, retain: false, schema: registrationEventSchema },
  // Not retained: an answer is for the command in flight, not for whoever subscribes next.
  'cmd/response': { qos: 1, retain: false, schema: commandResponseSchema },
  // Never retained by the cloud either: a retained command would be
  // delivered again on every reconnect (rejected as duplicate, but noisy).
  cmd: { qos: 1, retain: false, schema: envelopeSchema, direction: 'in' },
  'events/ack': { qos: 1, retain: false, schema: envelopeSchema, direction: 'in' },
  // Cache sync (daemon/sync). The cloud never retains snapshots or deltas: a
  // retained chunk or delta would come back, stale, on every connection.
  'sync/snapshot': { qos: 1, retain: false, schema: envelopeSchema, direction: 'in' },
  'sync/delta': { qos: 1, retain: false, schema: envelopeSchema, direction: 'in' },
  'sync/request': { qos: 1, retain: false, schema: syncRequestSchema },
  // Retained, like status: whoever subscribes learns the cache's version and age at once.
  'sync/state': { qos: 1, retain: true, schema: syncStateSchema },
};

export const topicNames = Object.keys(topicSpecs) as TopicName[];

export class TopicError extends Error {
  override readonly name = 'TopicError';
}

// MQTT forbids wildcards in topic names and NUL anywhere; "/" would add a level
// and let one id escape into another gateway's subtree.
const NUL = String.fromCharCode(0);
const hasForbidden = (text: string, chars: string) => text.includes(NUL) || [...chars].some((c) => text.includes(c));

/** Throws TopicError unless `value` can be used as exactly one topic level. */
export function assertTopicSegment(value: string, what = 'topic segment'): void {
  if (value.length === 0) throw new TopicError(`${what} must not be empty`);
  if (hasForbidden(value, '+#/')) {
    throw new TopicError(`${what} ${JSON.stringify(value)} must not contain "+", "#", "/" or NUL`);
  }
}

/** Throws TopicError unless `prefix` is one or more non-empty, wildcard-free levels. */
export function assertTopicPrefix(prefix: string): void {
  if (prefix.length === 0) throw new TopicError('topic prefix must not be empty');
  if (hasForbidden(prefix, '+#')) {
    throw new TopicError(`topic prefix ${JSON.stringify(prefix)} must not contain "+", "#" or NUL`);
  }
  if (prefix.split('/').some((level) => level.length === 0)) {
    throw new TopicError(`topic prefix ${JSON.stringify(prefix)} must not have empty levels (leading, trailing or double "/")`);
  }
}

/** The full topic of `name` for one gateway. */
export function gatewayTopic(topicPrefix: string, gatewayId: string, name: TopicName): string {
  assertTopicPrefix(topicPrefix);
  assertTopicSegment(gatewayId, 'gateway id');
  return `${topicPrefix}/${gatewayId}/${name}`;
}

export function statusTopic(topicPrefix: string, gatewayId: string): string {
  return gatewayTopic(topicPrefix, gatewayId, 'status');
}

/**
 * Where access events go. Producers pass this to Journal.append as the row's
 * topic; the drainer publishes the row to exactly that topic.
 */
export function accessTopic(topicPrefix: string, gatewayId: string): string {
  return gatewayTopic(topicPrefix, gatewayId, 'events/access');
}

/** Where executed remote commands are journaled and published. */
export function commandEventTopic(topicPrefix: string, gatewayId: string): string {
  return gatewayTopic(topicPrefix, gatewayId, 'events/command');
}

/** Where duress alarms and code-guessing lockouts are journaled and published. */
export function alarmTopic(topicPrefix: string, gatewayId: string): string {
  return gatewayTopic(topicPrefix, gatewayId, 'events/alarm');
}

/** Where door events (alarms, REX, mode changes, input faults) are journaled and published. */
export function doorEventTopic(topicPrefix: string, gatewayId: string): string {
  return gatewayTopic(topicPrefix, gatewayId, 'events/door');
}

/** All topics of one gateway, validated once. */
export function gatewayTopics(topicPrefix: string, gatewayId: string): { readonly [K in TopicName]: string } {
  return Object.fromEntries(topicNames.map((name) => [name, gatewayTopic(topicPrefix, gatewayId, name)])) as {
    readonly [K in TopicName]: string;
  };
}

/**
 * Whether a broker would accept `topic` as a PUBLISH topic name. A journal row
 * whose topic fails this would make the broker drop the connection on every
 * attempt, so the drainer checks before sending.
 */
export function isPublishableTopic(topic: string): boolean {
  return topic.length > 0 && Buffer.byteLength(topic, 'utf8') <= 65_535 && !hasForbidden(topic, '+#');
}
