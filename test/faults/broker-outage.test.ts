/**
 * The broker stopped for a while under steady load, then started again: the
 * daemon (a real process) keeps deciding, and every event reaches a
 * persistent subscriber exactly once by eventId, in sequence order.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { delay, disposeAll, startMosquitto, subscribe, type Mosquitto, type Subscriber } from '../support/mosquitto.js';
import { waitFor } from '../support/pty.js';
import { writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { daemonStatus, deliveryReport, LOAD_CARDS, pollUntil, profile, seqRange, simCard } from './support.js';

describe(`broker outage under load (${profile.name} profile)`, () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let cloud: Subscriber;
  let daemon: DaemonProcess | undefined;

  beforeEach(async () => {
    dir = tempDir();
    // Persistent broker and subscriber session: the cloud side misses nothing while the broker is down.
    broker = await startMosquitto({ persistence: true });
    cloud = await subscribe(broker.url, ['gatehouse/v1/gw1/events/#'], { clientId: `cloud-${process.pid}`, clean: false });
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    await disposeAll();
    dir.remove();
  });

  it('every event decided before, during and after the outage is delivered once by id, in seq order', async () => {
    const config = writeSite(
      dir.path,
      `mqtt: { url: "${broker.url}", reconnectMs: 200 }
doors:
  - { id: front, relay: { driver: sim }, pulseMs: 200 }
readers:
  - { id: front-in, driver: sim, door: front, mode: toggle }
`,
      { logLevel: 'info' },
    );
    daemon = await startDaemon(config);
    const socket = join(dir.path, 'control.sock');
    const decided: number[] = [];
    let granted = 0;
    let running = true;
    // Steady load: one read after another, through the control socket, for the whole test.
    const load = (async () => {
      for (let i = 0; running; i++) {
        const answer = await simCard(socket, LOAD_CARDS[i % LOAD_CARDS.length] ?? '');
        if (answer.seq !== null) decided.push(answer.seq);
        if (answer.outcome === 'granted') granted++;
        await delay(10);
      }
    })();

    await waitFor(() => decided.length >= 20, 'load before the outage', 30_000);
    await broker.stop();
    const beforeOutage = decided.length;
    await delay(profile.brokerOutageMs);
    const duringOutage = decided.length - beforeOutage;
    await broker.start();
    const afterRestart = decided.length;
    await waitFor(() => decided.length >= afterRestart + 20, 'load after the outage', 30_000);
    running = false;
    await load;

    // The door kept opening while the broker was away.
    expect(duringOutage).toBeGreaterThan(0);
    expect(granted).toBeGreaterThan(0);
    await pollUntil(async () => (await daemonStatus(socket)).journal.pending === 0, 'journal drained', 60_000);
    await cloud.sync();

    // Every read the daemon answered was journaled: seq 1..n without a gap.
    const n = Math.max(...decided);
    expect([...decided].sort((a, b) => a - b)).toEqual(seqRange(n));
    // The cloud's view after dedup by eventId: each seq once, first seen in order.
    const report = deliveryReport(cloud.messages);
    expect(report.distinct).toBe(n);
    expect(report.firstSeen).toEqual(seqRange(n));
  });
});
