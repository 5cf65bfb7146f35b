import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accessTopic,
  gatewayTopic,
  gatewayTopics,
  isPublishableTopic,
  statusTopic,
  TopicError,
  topicNames,
  topicSpecs,
} from '../../daemon/uplink/topics.js';
import { fcOptions } from '../support/fast-check.js';

describe('topics', () => {
  it('places every topic under <prefix>/<gatewayId>/', () => {
    expect(statusTopic('gatehouse/v1', 'gw-1')).toBe('gatehouse/v1/gw-1/status');
    expect(accessTopic('gatehouse/v1', 'gw-1')).toBe('gatehouse/v1/gw-1/events/access');
    expect(gatewayTopics('acme', 'front')).toMatchObject({ status: 'acme/front/status', 'events/access': 'acme/front/events/access' });
    for (const [name, topic] of Object.entries(gatewayTopics('acme', 'front'))) expect(topic).toBe(`acme/front/${name}`);
  });

  it('retains only the status, live state and sync state reports, and publishes everything with QoS 1', () => {
    expect(topicNames.filter((name) => topicSpecs[name].retain)).toEqual(['status', 'state', 'sync/state']);
    expect(topicNames.every((name) => topicSpecs[name].qos === 1)).toBe(true);
  });

  it.each(['gw+1', 'gw#', 'a/b', '', 'nul\u0000'])('refuses the gateway id %j', (id) => {
    expect(() => statusTopic('gatehouse/v1', id)).toThrow(TopicError);
  });

  it.each(['', 'a/+/b', 'a/#', '/lead', 'trail/', 'a//b'])('refuses the prefix %j', (prefix) => {
    expect(() => accessTopic(prefix, 'gw')).toThrow(TopicError);
  });

  it('accepts exactly the ids that form one topic level (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.constantFrom(...topicNames), (id, name) => {
        const valid = id.length > 0 && !['+', '#', '/', String.fromCharCode(0)].some((c) => id.includes(c));
        if (!valid) {
          expect(() => gatewayTopic('gatehouse/v1', id, name)).toThrow(TopicError);
          return;
        }
        const topic = gatewayTopic('gatehouse/v1', id, name);
        expect(topic.split('/').slice(0, 3)).toEqual(['gatehouse', 'v1', id]);
        expect(isPublishableTopic(topic)).toBe(true);
      }),
      fcOptions(300),
    );
  });

  it('flags topics a broker would reject on PUBLISH', () => {
    expect(isPublishableTopic('a/b/c')).toBe(true);
    expect(isPublishableTopic('')).toBe(false);
    expect(isPublishableTopic('a/+/c')).toBe(false);
    expect(isPublishableTopic('a/#')).toBe(false);
  });
});
