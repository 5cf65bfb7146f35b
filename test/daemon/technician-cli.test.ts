/**
 * The technician's tools against a real daemon: relay test on a real pty
 * (LCUS bytes), lookup (value from stdin, never printed), tail, outbox, and
 * doctor with a real broker and real device paths.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';
import { cliArgs, runCli, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { demo, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

describe('technician CLI', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: DaemonProcess | undefined;
  let pty: PtyPair | undefined;
  let host: HostPort | undefined;
  let broker: Mosquitto | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await daemon?.kill();
    await host?.close();
    await pty?.close();
    await broker?.dispose();
    daemon = undefined;
    host = undefined;
    pty = undefined;
    broker = undefined;
    dir.remove();
  });

  it('relay test, lookup, tail, outbox and doctor on a running daemon', async () => {
    pty = await createPty(dir.path, 'lcus');
    host = await openHost(pty.hostPath);
    broker = await startMosquitto();
    const config = writeSite(
      dir.path,
      `mqtt: { url: "${broker.url}" }\ndoors:\n  - { id: front, relay: { driver: lcus, path: ${pty.devicePath}, channel: 1 }, pulseMs: 1000 }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n`,
      { logLevel: 'info' },
    );
    daemon = await startDaemon(config);
    // Boot state: channel 1 released (fail-secure strike locked).
    expect([...(await host.readBytes(4))]).toEqual([0xa0, 0x01, 0x00, 0xa1]);

    // relay test: energise, then release after the pulse.
    const test = await runCli(['relay', 'test', 'front', '--config', config]);
    expect(test).toMatchObject({ code: 0 });
    expect(test.stdout).toMatch(/door front: relay door:front pulsed for 1000 ms/);
    expect([...(await host.readBytes(4))]).toEqual([0xa0, 0x01, 0x01, 0xa2]);
    expect([...(await host.readBytes(4))]).toEqual([0xa0, 0x01, 0x00, 0xa1]);
    const unknownDoor = await runCli(['relay', 'test', 'cellar', '--config', config]);
    expect(unknownDoor.code).toBe(1);
    expect(unknownDoor.stderr).toContain('no door "cellar" (doors: front)');

    // lookup: the value comes from stdin and is never printed back.
    const ada = await runCli(['lookup', 'card', '--config', config], {}, `${demo.ada.card}\n`);
    expect(ada.code).toBe(0);
    expect(ada.stdout).toMatch(/card fingerprint [0-9a-f]{8}: known\n {2}Ada Lovelace \(m-1001\), member, active/);
    expect(ada.stdout).toMatch(/pass .* \(valid now\)/);
    expect(ada.stdout + ada.stderr).not.toContain(demo.ada.card);
    const unknown = await runCli(['lookup', 'pin', '--config', config], {}, '99999\n');
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toContain('UNKNOWN');
    const bad = await runCli(['lookup', 'pin', 'abc', '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not a valid PIN or code');

    // tail: a decision appears as it happens.
    const tail = spawn(process.execPath, [...cliArgs, 'tail', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tailOut = '';
    let tailErr = '';
    tail.stdout.on('data', (d: Buffer) => (tailOut += d.toString()));
    tail.stderr.on('data', (d: Buffer) => (tailErr += d.toString()));
    await waitFor(() => tailErr.includes('following decisions'), 'tail connected', 20_000);
    await runCli(['sim', 'card', demo.grace.card, '--config', config]);
    await waitFor(() => tailOut.includes('front-in'), 'tail line', 20_000);
    expect(tailOut).toMatch(/front-in\s+front\s+GRANTED\s+granted\s+Grace Hopper \(m-1002\), checked in/);
    expect(tailOut).not.toContain(demo.grace.card);
    tail.kill('SIGINT');

    // outbox with the broker down: the events wait, with their age.
    await broker.stop();
    await runCli(['sim', 'pin', demo.ada.pin, '--config', config]);
    const outbox = await runCli(['outbox', '--json', '--config', config]);
    const parsed = JSON.parse(outbox.stdout) as { depth: { pending: number }; oldestAgeS: number; entries: { seq: number; type: string }[] };
    expect(parsed.depth.pending).toBeGreaterThanOrEqual(1);
    expect(parsed.oldestAgeS).toBeGreaterThanOrEqual(0);
    expect(parsed.entries.length).toBe(parsed.depth.pending);
    const readable = await runCli(['outbox', '--config', config]);
    expect(readable.stdout).toMatch(/^\d+ event\(s\) not yet delivered \(delivered = accepted by the broker\), oldest/);
    // outbox retry cannot send without a broker, and says so.
    const retryDown = await runCli(['outbox', 'retry', '--config', config]);
    expect(retryDown.code).toBe(1);
    expect(retryDown.stdout).toMatch(/nothing sent: not connected to the broker: the \d+ undelivered event\(s\) go out as soon as the link is back/);

    // doctor: broker down is a warning; the relay's port opens; the daemon answers.
    const doctor = await runCli(['doctor', '--config', config]);
    expect(doctor.stdout).toMatch(/ok {2}\s*config\s+.*is valid \(1 door\(s\), 1 reader\(s\)\)/);
    expect(doctor.stdout).toMatch(/ok {2}\s*secrets\s+.*secrets\.yaml mode 600/);
    expect(doctor.stdout).toMatch(/ok {2}\s*daemon\s+running since/);
    expect(doctor.stdout).toMatch(new RegExp(`ok  \\s*serial\\s+${pty.devicePath} \\(door front\\)`));
    expect(doctor.stdout).toMatch(/WARN\s+broker\s+127\.0\.0\.1:\d+: ECONNREFUSED; decisions continue/);
    expect(doctor.stdout).toMatch(/(ok {2}|WARN)\s+ntp/);
    // The cache in force is a file of its own; the check counts it (the next snapshot is built beside it).
    expect(doctor.stdout).toMatch(/(ok {2}|WARN)\s+disk\s+\d+ MB free on the store's file system; database [\d.]+ MB, cache [\d.]+ MB/);
    expect(doctor.stdout).toMatch(/ok {2}\s*disk\s+\d+ MB free/);
    expect([4, 1]).toContain(doctor.code);
    expect(doctor.code === 1).toBe(doctor.stdout.includes('FAIL'));

    await broker.start();
    const json = JSON.parse((await runCli(['doctor', '--json', '--config', config])).stdout) as { check: string; level: string }[];
    expect(json.find((c) => c.check === 'broker')?.level).toBe('ok');
    // With the broker back, a retry starts a new delivery round on the live connection.
    let retry = await runCli(['outbox', 'retry', '--json', '--config', config]);
    for (let i = 0; i < 100 && retry.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      retry = await runCli(['outbox', 'retry', '--json', '--config', config]);
    }
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout)).toMatchObject({ started: true });
  });

  it('doctor fails on a missing device and a group-readable secrets file, without a daemon', async () => {
    const config = writeSite(dir.path, `doors:\n  - { id: front, relay: { driver: lcus, path: ${dir.path}/ttyUSB-gone, channel: 1 } }\n`);
    const { chmodSync } = await import('node:fs');
    chmodSync(`${dir.path}/secrets.yaml`, 0o640);
    const doctor = await runCli(['doctor', '--config', config]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL\s+serial\s+.*ttyUSB-gone \(door front\): not present/);
    expect(doctor.stdout).toMatch(/FAIL\s+secrets\s+.*mode 640 is readable by group or others; run: chmod 600/);
    expect(doctor.stdout).toMatch(/WARN\s+daemon\s+no Gatehouse daemon is listening/);
  });
});
