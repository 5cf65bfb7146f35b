/**
 * MqttLink against a real Mosquitto: the retained status and Last Will
 * lifecycle, refused credentials, and a broker that is not there.
 */
import { connect as connectMqtt } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttConfig } from '../../daemon/config/schema.js';
import { LinkNotConnectedError, MqttLink, redactUrl, type MqttLinkOptions } from '../../daemon/uplink/mqtt-link.js';
import { gatewayStatusSchema, type GatewayStatus } from '../../daemon/uplink/payloads.js';
import { statusTopic } from '../../daemon/uplink/topics.js';
import {
  createMosquitto,
  delay,
  disposeAll,
  startMosquitto,
  startTcpProxy,
  subscribe,
  waitUntil,
  type ReceivedMessage,
} from '../support/mosquitto.js';

const WAIT_MS = 20_000;

interface LogRecord {
  level: number;
  msg: string;
}

/** A pino logger writing JSON lines into memory, at trace level so nothing escapes the checks. */
function captureLogger(): { logger: pino.Logger; text: () => string; records: () => LogRecord[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    text: () => lines.join(''),
    records: () => lines.map((line) => JSON.parse(line) as LogRecord),
  };
}

function mqttConfig(url: string, overrides: Partial<MqttConfig> = {}): MqttConfig {
  return {
    url,
    topicPrefix: 'gatehouse/v1',
    keepaliveS: 30,
    reconnectMs: 200,
    connectTimeoutMs: 5_000,
    maxInflight: 64,
    ...overrides,
  };
}

const links: MqttLink[] = [];

function newLink(options: Omit<MqttLinkOptions, 'siteId' | 'version' | 'bootId'> & Partial<MqttLinkOptions>): MqttLink {
  const link = new MqttLink({ siteId: 'site-1', version: '9.8.7', bootId: 'boot-1', ...options });
  links.push(link);
  return link;
}

afterEach(async () => {
  await Promise.all(links.splice(0).map((link) => link.stop(2_000)));
  await disposeAll();
});

function status(message: ReceivedMessage | undefined): GatewayStatus {
  if (message === undefined) throw new Error('no status message');
  return gatewayStatusSchema.parse(JSON.parse(message.payload));
}

const states = (messages: readonly ReceivedMessage[]) => messages.map((m) => status(m).state);

describe('MqttLink', () => {
  it('publishes a retained online status, the broker publishes its Will when the connection dies, and stop() says offline', async () => {
    const broker = await startMosquitto();
    const proxy = await startTcpProxy(broker.port);
    const { logger } = captureLogger();
    const link = newLink({ config: mqttConfig(proxy.url), gatewayId: 'gw-status', logger });
    const topic = statusTopic('gatehouse/v1', 'gw-status');
    const seen: string[] = [];
    link.onStateChange((state) => seen.push(state));

    link.start();
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');

    // A consumer that subscribes later still learns that the gateway is up.
    const watcher = await subscribe(broker.url, [topic]);
    await watcher.waitFor((m) => m.length >= 1, WAIT_MS, 'the retained status');
    expect(watcher.messages[0]?.retain).toBe(true);
    expect(status(watcher.messages[0])).toMatchObject({
      schema: 'gatehouse.status/1',
      state: 'online',
      gatewayId: 'gw-status',
      siteId: 'site-1',
      bootId: 'boot-1',
      version: '9.8.7',
    });

    // The network dies: no DISCONNECT reaches the broker, so it publishes the Will.
    proxy.refuse(true);
    proxy.cut();
    await watcher.waitFor((m) => states(m).includes('offline'), WAIT_MS, 'the Last Will');
    await waitUntil(() => link.state !== 'connected', WAIT_MS, 'the link to notice');
    const newcomer = await subscribe(broker.url, [topic]);
    await newcomer.waitFor((m) => m.length >= 1, WAIT_MS, 'the retained Will');
    expect(newcomer.messages[0]?.retain).toBe(true);
    expect(status(newcomer.messages[0])).toMatchObject({ state: 'offline', bootId: 'boot-1', gatewayId: 'gw-status' });

    // Back online: the status is republished on every connect.
    proxy.refuse(false);
    await watcher.waitFor((m) => states(m).join() === 'online,offline,online', WAIT_MS, 'online after reconnect');
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to reconnect');
    expect(link.counters).toMatchObject({ connects: 2, disconnects: 1 });
    expect(link.lastError).toMatchObject({ kind: 'closed' });

    await link.stop();
    expect(link.state).toBe('stopped');
    await watcher.waitFor((m) => states(m).join() === 'online,offline,online,offline', WAIT_MS, 'offline on stop');
    const afterStop = await subscribe(broker.url, [topic]);
    await afterStop.waitFor((m) => m.length >= 1, WAIT_MS, 'the retained offline status');
    expect(afterStop.messages[0]?.retain).toBe(true);
    expect(status(afterStop.messages[0])).toMatchObject({ state: 'offline', bootId: 'boot-1' });
    // connecting, connected, then disconnected/connecting while refused, connected again, stopped.
    expect(seen.slice(0, 3)).toEqual(['connecting', 'connected', 'disconnected']);
    expect(seen.slice(-2)).toEqual(['connected', 'stopped']);
    expect(seen.slice(2, -2).every((s) => s === 'disconnected' || s === 'connecting')).toBe(true);
  });

  it('reports refused credentials, keeps retrying at a quiet log level, and never logs the password', async () => {
    const rightPassword = 'correct-horse-battery-staple';
    const wrongPassword = 'Tr0ub4dor&3-not-it';
    const broker = await startMosquitto({ auth: { username: 'gatehouse', password: rightPassword } });
    const log = captureLogger();
    const link = newLink({
      config: mqttConfig(broker.url, { username: 'gatehouse', reconnectMs: 100 }),
      password: wrongPassword,
      gatewayId: 'gw-auth',
      logger: log.logger,
    });

    expect(() => link.start()).not.toThrow();
    await waitUntil(() => link.counters.connectFailures >= 5, WAIT_MS, 'five refused attempts');
    expect(link.state).not.toBe('connected');
    expect(link.counters.connects).toBe(0);
    expect(link.lastError).toMatchObject({ kind: 'auth' });
    expect([4, 5]).toContain(link.lastError?.code);
    expect(link.lastError?.message).toMatch(/refused the credentials.*CONNACK [45]/);
    await expect(link.publish('gatehouse/v1/gw-auth/x', 'y')).rejects.toBeInstanceOf(LinkNotConnectedError);

    // One warning for the whole run of identical failures; the rest at debug.
    const failures = log.records().filter((r) => r.msg === 'cannot connect to MQTT broker; retrying');
    expect(failures.length).toBeGreaterThanOrEqual(5);
    expect(failures.filter((r) => r.level >= 40)).toHaveLength(1);

    // The same broker with the right password: the password does reach the broker.
    const good = newLink({
      config: mqttConfig(broker.url, { username: 'gatehouse' }),
      password: rightPassword,
      gatewayId: 'gw-auth-ok',
      logger: log.logger,
    });
    good.start();
    await waitUntil(() => good.state === 'connected', WAIT_MS, 'the link with the right password to connect');
    await good.stop();
    await link.stop();

    const text = log.text();
    expect(text).toContain('refused the credentials');
    expect(text).not.toContain(wrongPassword);
    expect(text).not.toContain(rightPassword);
  });

  it('keeps retrying a broker that is not listening, without throwing, and stop() ends the loop', async () => {
    const broker = await createMosquitto(); // port chosen, nothing listening yet
    const { logger } = captureLogger();
    const link = newLink({ config: mqttConfig(broker.url, { reconnectMs: 100 }), gatewayId: 'gw-down', logger });

    expect(() => link.start()).not.toThrow();
    await waitUntil(() => link.counters.connectFailures >= 3, WAIT_MS, 'three failed attempts');
    expect(link.state).not.toBe('connected');
    expect(link.lastError).toMatchObject({ kind: 'network', code: 'ECONNREFUSED' });

    await link.stop();
    expect(link.state).toBe('stopped');
    const attempts = link.counters.connectAttempts;
    await delay(500); // five reconnect periods: enough for a loop that was still running to show
    expect(link.counters.connectAttempts).toBe(attempts);
    expect(() => link.start()).toThrow(/cannot be restarted/);
  });

  it('never logs credentials embedded in the broker URL', () => {
    expect(redactUrl('mqtts://user:s3cret@broker.example:8883')).toBe('mqtts://[redacted]@broker.example:8883');
    expect(redactUrl('mqtt://broker.example:1883')).toBe('mqtt://broker.example:1883');
  });
});

describe('MqttLink inbound subscriptions', () => {
  it('delivers messages on subscribed topics, again after the broker restarts, and survives a throwing handler', async () => {
    const broker = await startMosquitto();
    const { logger, records } = captureLogger();
    const link = newLink({ config: mqttConfig(broker.url), gatewayId: 'gw-in', logger });
    const received: string[] = [];
    link.subscribe('gatehouse/v1/gw-in/cmd', (payload) => {
      const text = payload.toString();
      if (text === 'explode') throw new Error('handler bug');
      received.push(text);
    });
    expect(() => link.subscribe('gatehouse/v1/+/cmd', () => undefined)).toThrow(/exact topics/);
    link.start();
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'connected');
    // The link subscribes right after CONNACK; publish until the subscription is in place.
    const publish = (text: string) =>
      new Promise<void>((resolve) => {
        const c = connectMqtt(broker.url);
        c.on('connect', () => c.publish('gatehouse/v1/gw-in/cmd', text, { qos: 1 }, () => c.end(false, {}, () => resolve())));
      });
    const publishUntil = async (text: string) => {
      const deadline = Date.now() + WAIT_MS;
      while (!received.includes(text) && Date.now() < deadline) {
        await publish(text);
        await delay(100);
      }
    };
    await publishUntil('one');
    expect(received).toContain('one');
    await publish('explode');
    await publishUntil('after-explode');
    expect(records().some((r) => r.msg === 'inbound message handler failed')).toBe(true);
    expect(link.state).toBe('connected');

    await broker.stop();
    await broker.start();
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'reconnected');
    await publishUntil('two');
    expect(received).toContain('two');
    expect(link.counters.messagesIn).toBeGreaterThanOrEqual(3);
  });
});
