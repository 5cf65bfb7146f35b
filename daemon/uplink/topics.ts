/**
 * The MQTT topic tree of one gateway, Zigbee2MQTT style: one typed map from
 * topic name to payload, delivery options and schema, and functions that build
 * the full topic strings. Nothing else in the daemon spells a topic by hand.
 *
 * Every topic lives under `<topicPrefix>/<gatewayId>/`, so a broker ACL can
 * confine a gateway to its own subtree with a single pattern.
 */
import type { z } from 'zod';
import { accessEventSchema, gatewayStatusSchema, type AccessEvent, type GatewayStatus } from './payloads.js';

/** Topic name (relative to the gateway's subtree) to the payload published there. */
export interface TopicPayloads {
  status: GatewayStatus;
  'events/access': AccessEvent;
}

export type TopicName = keyof TopicPayloads;

export interface TopicSpec<K extends TopicName> {
  readonly qos: 1;
  readonly retain: boolean;
  readonly schema: z.ZodType<TopicPayloads[K]>;
}

export const topicSpecs: { readonly [K in TopicName]: TopicSpec<K> } = {
  // Retained so a consumer that subscribes later still learns whether the
  // gateway is up; also registered as the Last Will (state offline).
  status: { qos: 1, retain: true, schema: gatewayStatusSchema },
  // Not retained: a retained event would be replayed to every new subscriber
  // as if it had just happened.
  'events/access': { qos: 1, retain: false, schema: accessEventSchema },
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

/** All topics of one gateway, validated once. */
export function gatewayTopics(topicPrefix: string, gatewayId: string): { readonly [K in TopicName]: string } {
  return { status: statusTopic(topicPrefix, gatewayId), 'events/access': accessTopic(topicPrefix, gatewayId) };
}

/**
 * Whether a broker would accept `topic` as a PUBLISH topic name. A journal row
 * whose topic fails this would make the broker drop the connection on every
 * attempt, so the drainer checks before sending.
 */
export function isPublishableTopic(topic: string): boolean {
  return topic.length > 0 && Buffer.byteLength(topic, 'utf8') <= 65_535 && !hasForbidden(topic, '+#');
}
