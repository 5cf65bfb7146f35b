/**
 * Type=notify for real: the daemon runs with NOTIFY_SOCKET pointing at a unix
 * datagram socket made by the test, and the messages systemd would act on
 * arrive, from one long-lived sender in the daemon's process tree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotifySocket, type NotifySocket } from '../support/notify-socket.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { waitFor } from '../support/pty.js';
import { writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);

describe('systemd notify (Type=notify, watchdog)', () => {
  let dir: ReturnType<typeof tempDir>;
  let notify: NotifySocket;
  let daemon: DaemonProcess | undefined;

  beforeEach(async () => {
    dir = tempDir();
    notify = await createNotifySocket(dir.path);
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    await notify.close();
    dir.remove();
  });

  it('sends READY after the doors are set, WATCHDOG from the loop, RELOADING/READY on SIGHUP, STOPPING on SIGTERM', async () => {
    const config = writeSite(dir.path, `doors:\n  - { id: front, relay: { driver: sim } }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n`, { logLevel: 'info' });
    daemon = await startDaemon(config, { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '200000' });
    const ready = await notify.waitFor('READY', '1');
    expect(ready.fields.STATUS).toMatch(/1 door\(s\), 0 unlocked, relays 1\/1 online; readers 1\/1 online; broker disabled; 0 event\(s\) queued/);
    expect(ready.fields.MAINPID).toBe(String(daemon.child.pid));
    // The boot state was written before READY: the log line of the relay precedes it.
    expect(daemon.output()).toContain('device online');

    await waitFor(() => notify.messages.filter((m) => m.fields.WATCHDOG === '1').length >= 5, 'five watchdog pings', 20_000);
    const firstPing = notify.messages.findIndex((m) => m.fields.WATCHDOG === '1');
    expect(firstPing).toBeGreaterThan(notify.messages.indexOf(ready));

    // One sender for everything, alive, and a child of the daemon: systemd can attribute it (NotifyAccess=all).
    const senders = new Set(notify.messages.map((m) => m.pid));
    expect(senders.size).toBe(1);
    const sender = [...senders][0] ?? 0;
    expect(parentOf(sender)).toBe(daemon.child.pid);

    // A stalled event loop stops the pings (SIGSTOP freezes the whole daemon; the helper has nothing to send).
    process.kill(daemon.child.pid ?? 0, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 300));
    const frozen = notify.messages.length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(notify.messages.length).toBe(frozen);
    process.kill(daemon.child.pid ?? 0, 'SIGCONT');
    await notify.waitFor('WATCHDOG', '1', frozen);

    // A bad file on SIGHUP: refused, still ready on the old config.
    writeFileSync(config, readFileSync(config, 'utf8').replace('mode: toggle', 'mode: sideways'));
    let mark = notify.messages.length;
    daemon.child.kill('SIGHUP');
    await notify.waitFor('RELOADING', '1', mark);
    const refused = await notify.waitFor('READY', '1', mark);
    expect(refused.fields.STATUS).toMatch(/^reload refused \(1 problem\(s\)/);

    mark = notify.messages.length;
    const exit = daemon.stop();
    const stopping = await notify.waitFor('STOPPING', '1', mark);
    expect(stopping.fields.STATUS).toContain('locking doors');
    expect(await exit).toBe(0);
    // The helper exits with the daemon.
    expect(() => process.kill(sender, 0)).toThrow();
  });

  it('refuses to start when NOTIFY_SOCKET is set but cannot be reached', async () => {
    const config = writeSite(dir.path, `doors:\n  - { id: front, relay: { driver: sim } }\n`);
    daemon = await startDaemon(config, { NOTIFY_SOCKET: `${dir.path}/missing.sock` }, false);
    const code = await new Promise<number | null>((r) => daemon?.child.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(daemon.output()).toMatch(/systemd notify helper exited \(3\): cannot reach NOTIFY_SOCKET .*missing\.sock/);
  });
});
