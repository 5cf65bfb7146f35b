/**
 * The operator endpoint over real HTTP on a running daemon: Prometheus text
 * that parses by the exposition format's rules, the status JSON, the page,
 * read-only methods, and the token when bound beyond loopback.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { demo, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))$/;

/** Checks the text against the exposition format; returns samples as "name{labels}" -> value. */
function parseExposition(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples = new Map<string, number>();
  const seenFamilies: string[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      expect(name).toMatch(METRIC_NAME);
      if (kind === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        expect(types.has(name), `TYPE twice for ${name}`).toBe(false);
        types.set(name, rest);
        seenFamilies.push(name);
      } else {
        expect(helped.has(name), `HELP twice for ${name}`).toBe(false);
        helped.add(name);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, `not a valid sample line: ${line}`).not.toBeNull();
    const name = m?.[1] ?? '';
    const family = seenFamilies.at(-1) ?? '';
    // Samples belong to the family declared just before them (histograms add suffixes).
    expect([family, `${family}_bucket`, `${family}_sum`, `${family}_count`]).toContain(name);
    if (types.get(family) === 'counter') expect(Number(m?.[4])).toBeGreaterThanOrEqual(0);
    const key = `${name}{${m?.[3] ?? ''}}`;
    expect(samples.has(key), `duplicate series ${key}`).toBe(false);
    samples.set(key, Number(m?.[4]));
  }
  return samples;
}

describe('operator HTTP endpoint', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: DaemonProcess | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    dir.remove();
  });

  const portOf = (d: DaemonProcess): number => {
    const line = d.output().split('\n').find((l) => l.includes('status server listening')) ?? '';
    return (JSON.parse(line) as { port: number }).port;
  };

  it('serves /metrics, /status and the page on loopback, read-only', async () => {
    // A long pulse: the metrics below must find the door still unlocked however slow the machine is.
    const config = writeSite(dir.path, `http: { enabled: true, port: 0 }\ndoors:\n  - { id: front, relay: { driver: sim }, pulseMs: 60000 }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n`, { logLevel: 'info' });
    daemon = await startDaemon(config);
    await daemon.waitForLog('status server listening');
    expect(daemon.output()).toMatch(/"host":"127\.0\.0\.1"/);
    const base = `http://127.0.0.1:${portOf(daemon)}`;

    await runCli(['sim', 'card', demo.ada.card, '--config', config]);
    await runCli(['sim', 'pin', '00000', '--config', config]);
    await runCli(['sim', 'card', demo.katherineSuspended.card, '--config', config]);

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parseExposition(await metrics.text());
    expect(samples.get('gatehouse_decisions_total{outcome="granted",reason="granted"}')).toBe(1);
    expect(samples.get('gatehouse_decisions_total{outcome="denied",reason="unknown_credential"}')).toBe(1);
    expect(samples.get('gatehouse_decisions_total{outcome="denied",reason="person_inactive"}')).toBe(1);
    expect(samples.get('gatehouse_outbox_pending{}')).toBe(3);
    expect(samples.get('gatehouse_mqtt_connected{}')).toBe(0);
    expect(samples.get('gatehouse_device_state{kind="reader",id="front-in",state="online"}')).toBe(1);
    expect(samples.get('gatehouse_device_state{kind="relay",id="front",state="offline"}')).toBe(0);
    expect(samples.get('gatehouse_device_faults_total{kind="relay",id="front"}')).toBe(0);
    expect(samples.get('gatehouse_door_unlocked{door="front"}')).toBe(1);
    expect(samples.get('gatehouse_cache_version{}')).toBeGreaterThanOrEqual(0);
    expect(samples.get('gatehouse_event_loop_delay_seconds{quantile="0.99"}')).toBeGreaterThan(0);
    expect(samples.get('gatehouse_occupancy{}')).toBe(1);
    // Every read is in the latency histogram; buckets are cumulative up to +Inf = count.
    expect(samples.get('gatehouse_decision_latency_seconds_count{}')).toBe(3);
    expect(samples.get('gatehouse_decision_latency_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(samples.get('gatehouse_decision_latency_seconds_bucket{le="0.25"}')).toBeLessThanOrEqual(3);

    const status = (await (await fetch(`${base}/status`)).json()) as { gateway: { id: string }; journal: { pending: number }; doors: { id: string }[] };
    const cli = JSON.parse((await runCli(['status', '--json', '--config', config])).stdout) as typeof status;
    expect(status.gateway).toEqual(cli.gateway);
    expect(status.doors.map((d) => d.id)).toEqual(['front']);
    expect(status.journal.pending).toBe(3);

    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>Gatehouse status</title>');
    expect((await fetch(`${base}/status`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/../etc/passwd`)).status).toBe(404);
    // Nothing of the read's value in any answer.
    expect(JSON.stringify(status) + (await (await fetch(`${base}/metrics`)).text())).not.toContain(demo.ada.card.replace(/^0+/, ''));
  });

  it('beyond loopback: refuses to start without a token, and asks for it when it has one', async () => {
    const body = `http: { enabled: true, host: 0.0.0.0, port: 0 }\ndoors:\n  - { id: front, relay: { driver: sim } }\n`;
    const config = writeSite(dir.path, body, { logLevel: 'info' });
    const refused = await runCli(['config', 'check', '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('httpToken: required because http.host (0.0.0.0) is not a loopback address');

    const token = 'operator-token-0123456789';
    writeSite(dir.path, body, { logLevel: 'info', secrets: `httpToken: ${token}\n` });
    daemon = await startDaemon(config);
    await daemon.waitForLog('status server listening');
    const base = `http://127.0.0.1:${portOf(daemon)}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789x' } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${base}/status?token=${token}`)).status).toBe(200);
  });
});
