/**
 * The whole daemon in-process with simulated reader and relay, driven through
 * the real control socket as `gatehouse sim` does.
 */
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { sendControlRequest } from '../../daemon/control/control-server.js';
import type { ControlRequest } from '../../daemon/control/protocol.js';
import { Gateway, type GatewayStatusReport } from '../../daemon/runtime/gateway.js';
import { accessEventSchema } from '../../daemon/uplink/payloads.js';
import { waitFor } from '../support/pty.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const body = `
doors:
  - { id: front, relay: { driver: sim }, pulseMs: 300 }
readers:
  - { id: front-in, driver: sim, door: front, mode: toggle }
  - { id: lobby, driver: sim, mode: access-only }
`;

describe('gateway with simulated hardware', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway;
  let log: ReturnType<typeof memoryLogger>;
  let socket: string;

  beforeEach(async () => {
    dir = tempDir();
    const loaded = loadConfig(writeSite(dir.path, body));
    socket = loaded.config.control.socket;
    log = memoryLogger();
    gateway = await Gateway.start(loaded, log.logger, '0.0.0-test');
  });
  afterEach(async () => {
    await gateway.stop();
    dir.remove();
  });

  const ask = async (request: ControlRequest): Promise<unknown> => {
    const response = await sendControlRequest(socket, request);
    if (!response.ok) throw new Error(response.error);
    return response.data;
  };
  const status = async () => (await ask({ op: 'status' })) as GatewayStatusReport;
  const sim = async (kind: 'card' | 'keypad', value: string, reader?: string) =>
    (await ask({ op: 'sim', kind, value, reader })) as { outcome: string; reason: string; person: string | null; checkin: string; seq: number };

  it('a card opens the door, checks in, and the event waits in the journal', async () => {
    await waitFor(() => gateway.status().doors[0]?.relay.state === 'online', 'relay online');
    expect(await sim('card', demo.ada.card)).toMatchObject({ outcome: 'granted', reason: 'granted', person: demo.ada.id, checkin: 'checked_in', seq: 1 });
    let s = await status();
    expect(s.doors[0]).toMatchObject({ id: 'front', state: 'unlocked' });
    expect(s.journal.pending).toBe(1);
    expect(s.uplink).toEqual({ state: 'disabled' });
    expect(s.occupancy.people.map((p) => p.personId)).toEqual([demo.ada.id]);

    // The pulse ends and the door locks by itself.
    await waitFor(() => gateway.status().doors[0]?.state === 'locked', 'door relocks after its pulse');

    // Tapping again at a toggle reader checks out.
    expect(await sim('card', demo.ada.card)).toMatchObject({ outcome: 'granted', checkin: 'checked_out', seq: 2 });
    s = await status();
    expect(s.occupancy.count).toBe(0);

    const event = accessEventSchema.parse(JSON.parse(gateway.journal.get(1)?.payload ?? '{}'));
    expect(event).toMatchObject({ seq: 1, readerId: 'front-in', doorId: 'front', person: { id: demo.ada.id, kind: 'member' }, checkin: 'checked_in', unlockMs: 300 });
    expect(event.bootId).toBe(gateway.bootId);
  });

  it('denies with the reason the seeds describe, and records failed check-ins', async () => {
    expect(await sim('card', '0000000001')).toMatchObject({ outcome: 'denied', reason: 'unknown_credential', person: null, checkin: 'none' });
    expect(await sim('card', demo.alanNoPass.card)).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass', person: demo.alanNoPass.id, checkin: 'failed' });
    expect(await sim('card', demo.katherineSuspended.card)).toMatchObject({ outcome: 'denied', reason: 'person_inactive', checkin: 'failed' });
    expect(await sim('keypad', demo.veraVisitor.code)).toMatchObject({ outcome: 'granted', person: demo.veraVisitor.id, checkin: 'checked_in' });
    expect(await sim('keypad', demo.grace.pin, 'lobby')).toMatchObject({ outcome: 'granted', checkin: 'none' });
    expect(await sim('keypad', '12')).toMatchObject({ outcome: 'denied', reason: 'unknown_credential' });
    expect((await status()).journal.pending).toBe(6);
    expect(gateway.status().doors[0]?.state).toBe('unlocked');
  });

  it('never writes a card number or PIN to the log', async () => {
    await sim('card', demo.ada.card);
    await sim('keypad', demo.grace.pin);
    await sim('keypad', '99999');
    const text = log.lines.join('\n');
    expect(text).toContain('access decision');
    for (const secret of [demo.ada.card, '4614867', demo.grace.pin, '99999']) expect(text).not.toContain(secret);
  });

  it('refuses bad control requests without side effects, and the socket is owner-only', async () => {
    expect((statSync(socket).mode & 0o777).toString(8)).toBe('600');
    expect(await sendControlRequest(socket, { op: 'sim', kind: 'card', value: '1', reader: 'nope' })).toEqual({ ok: false, error: 'no simulated reader "nope"' });
    expect((await status()).journal.pending).toBe(0);
  });

  it('locks every door on stop', async () => {
    await sim('card', demo.ada.card);
    const door = gateway.doors.get('front');
    expect(door?.state).toBe('unlocked');
    await gateway.stop();
    expect(door?.state).toBe('locked');
    await expect(sendControlRequest(join(dir.path, 'control.sock'), { op: 'status' })).rejects.toThrow(/no Gatehouse daemon/);
  });
});
