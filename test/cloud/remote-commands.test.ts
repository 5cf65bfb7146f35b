/**
 * Remote commands through the whole daemon: a real Mosquitto, a real SQLite
 * file, simulated relays and readers, and a test client that signs commands
 * with the cloud key and reads the answers on cmd/response.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandEventSchema } from '../../daemon/cloud/command-event.js';
import type { CommandAction, CommandResponse } from '../../daemon/cloud/link-messages.js';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { buildCommand, CommandClient, signCommand } from '../../scripts/cloud-sim/commands.js';
import { cloudKey } from '../support/cloud-keys.js';
import { cloudClient, PREFIX, testCloudKey, waitForCommandSubscription, writeCloudSite } from '../support/cloud-site.js';
import { disposeAll, startMosquitto, subscribe, waitUntil, type Mosquitto, type Subscriber } from '../support/mosquitto.js';
import { demo, memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const WAIT_MS = 20_000;
const key = testCloudKey();
const signer = { keyId: key.id, privateKey: key.privateKey };

describe('remote commands', () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let configPath: string;
  let gateway: Gateway | undefined;
  let client: MqttClient;
  let commands: CommandClient;
  let events: Subscriber;

  const start = async () => {
    gateway = await Gateway.start(loadConfig(configPath), memoryLogger('warn').logger, '0.0.0-test');
    await waitUntil(() => gateway?.status().doors.every((d) => d.relay.state === 'online') === true, WAIT_MS, 'relays online');
    await waitForCommandSubscription(commands, 'gw1');
  };

  beforeEach(async () => {
    dir = tempDir();
    broker = await startMosquitto();
    configPath = writeCloudSite(dir.path, broker.url, key);
    client = await cloudClient(broker.url);
    commands = new CommandClient(client, { topicPrefix: PREFIX, signer });
    await commands.start();
    events = await subscribe(broker.url, [`${PREFIX}/gw1/events/command`]);
    await start();
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await new Promise<void>((resolve) => client.end(true, () => resolve()));
    await disposeAll();
    dir.remove();
  });

  const gw = (): Gateway => {
    if (gateway === undefined) throw new Error('gateway not started');
    return gateway;
  };
  const door = (id: string) => gw().status().doors.find((d) => d.id === id);
  const send = async (action: CommandAction, extra: { cmdId?: string; ttlS?: number; issuedAt?: Date; gatewayId?: string } = {}) =>
    (await commands.send({ gatewayId: extra.gatewayId ?? 'gw1', action, ...extra })).answers;
  const statuses = (answers: readonly CommandResponse[]) => answers.map((a) => (a.status === 'rejected' ? `rejected:${a.reason ?? ''}` : a.status));
  const commandEvents = () => gw().journal.recent(100).filter((e) => e.type === 'command');

  it('door.unlock opens the door for N seconds, answers accepted then done, and journals the command', async () => {
    // Long enough that a loaded machine still finds the door open after the broker round trip.
    const answers = await send({ kind: 'door.unlock', doorId: 'back', seconds: 4 });
    expect(statuses(answers)).toEqual(['accepted', 'done']);
    expect(door('back')?.state).toBe('unlocked');
    const unlockedUntil = door('back')?.unlockedUntil ?? 0;
    expect(unlockedUntil - Date.now()).toBeLessThanOrEqual(4000);
    await waitUntil(() => door('back')?.state === 'locked', WAIT_MS, 'the door relocks after 4 s');

    const [entry] = commandEvents();
    const event = commandEventSchema.parse(JSON.parse(entry?.payload ?? '{}'));
    expect(event).toMatchObject({ cmdId: answers[0]?.cmdId, keyId: key.id, action: { kind: 'door.unlock', doorId: 'back', seconds: 4 }, doorId: 'back', unlockMs: 4000, checkin: 'none' });
    expect(answers[1]?.eventId).toBe(event.eventId);
    // Published like any event, so operators see remote unlocks in the cloud.
    await events.waitFor((ms) => ms.some((m) => m.payload.includes(event.eventId)), WAIT_MS, 'the command event');
    expect(gw().status().cloud?.commands).toMatchObject({ done: 1, recorded: 1 });
  });

  it('door.lockdown relocks an open door and denies valid cards until door.release', async () => {
    expect(gw().simulate('card', demo.ada.card, 'front-in').decision).toMatchObject({ outcome: 'granted' });
    expect(door('front')?.state).toBe('unlocked'); // a 5 s pulse is running

    expect(statuses(await send({ kind: 'door.lockdown', doorId: 'front' }))).toEqual(['accepted', 'done']);
    expect(door('front')).toMatchObject({ state: 'locked', mode: 'locked-down' });
    expect(gw().simulate('card', demo.grace.card, 'front-in').decision).toMatchObject({ outcome: 'denied', reason: 'door_locked_down' });
    // A remote unlock does not get through a lockdown either.
    expect(statuses(await send({ kind: 'door.unlock', doorId: 'front', seconds: 5 }))).toEqual(['rejected:door_locked_down']);
    expect(door('front')?.state).toBe('locked');

    expect(statuses(await send({ kind: 'door.release', doorId: 'front' }))).toEqual(['accepted', 'done']);
    expect(door('front')?.mode).toBe('normal');
    expect(gw().simulate('card', demo.grace.card, 'front-in').decision).toMatchObject({ outcome: 'granted' });
    expect(commandEvents().map((e) => commandEventSchema.parse(JSON.parse(e.payload)).doorMode)).toEqual(['normal', 'locked-down']);
  });

  it('door.hold-open holds the door unlocked until door.lockdown or door.release, and survives a restart', async () => {
    expect(statuses(await send({ kind: 'door.hold-open', doorId: 'front' }))).toEqual(['accepted', 'done']);
    expect(door('front')).toMatchObject({ state: 'unlocked', mode: 'unlocked', lock: 'unlocked', unlockedUntil: null });
    await gw().stop();
    await start();
    expect(door('front')).toMatchObject({ state: 'unlocked', mode: 'unlocked' });
    expect(statuses(await send({ kind: 'door.lockdown', doorId: 'front' }))).toEqual(['accepted', 'done']);
    expect(door('front')).toMatchObject({ state: 'locked', mode: 'locked-down' });
    // Holding a locked-down door open takes an explicit release first.
    expect(statuses(await send({ kind: 'door.hold-open', doorId: 'front' }))).toEqual(['rejected:door_locked_down']);
    expect(statuses(await send({ kind: 'door.release', doorId: 'front' }))).toEqual(['accepted', 'done']);
    expect(door('front')).toMatchObject({ state: 'locked', mode: 'normal' });
    expect(commandEvents().map((e) => commandEventSchema.parse(JSON.parse(e.payload)).doorMode)).toEqual(['normal', 'locked-down', 'unlocked']);
  });

  it('a lockdown survives a restart of the gateway', async () => {
    expect(statuses(await send({ kind: 'door.lockdown', doorId: 'front' }))).toEqual(['accepted', 'done']);
    await gw().stop();
    await start();
    expect(door('front')?.mode).toBe('locked-down');
    expect(gw().simulate('card', demo.ada.card, 'front-in').decision).toMatchObject({ outcome: 'denied', reason: 'door_locked_down' });
    expect(statuses(await send({ kind: 'door.release', doorId: 'front' }))).toEqual(['accepted', 'done']);
    expect(gw().simulate('card', demo.ada.card, 'front-in').decision).toMatchObject({ outcome: 'granted' });
  });

  it('person.checkout closes the open session and journals a check-out', async () => {
    const checkin = gw().simulate('card', demo.ada.card, 'front-in');
    expect(checkin.decision.checkin).toBe('checked_in');
    const sessionId = gw().sessions.openSessions()[0]?.id;
    expect(gw().sessions.occupancy()).toBe(1);

    const answers = await send({ kind: 'person.checkout', personId: demo.ada.id });
    expect(statuses(answers)).toEqual(['accepted', 'done']);
    expect(gw().sessions.occupancy()).toBe(0);
    const event = commandEventSchema.parse(JSON.parse(commandEvents()[0]?.payload ?? '{}'));
    expect(event).toMatchObject({ personId: demo.ada.id, checkin: 'checked_out', sessionId, doorId: null, unlockMs: 0 });

    expect(statuses(await send({ kind: 'person.checkout', personId: demo.ada.id }))).toEqual(['rejected:not_checked_in']);
    expect(statuses(await send({ kind: 'person.checkout', personId: 'nobody' }))).toEqual(['rejected:unknown_person']);
    expect(commandEvents()).toHaveLength(1);
  });

  it('sync.resync calls the sync component', async () => {
    const reasons: string[] = [];
    gw().onResyncRequest((reason) => reasons.push(reason));
    const answers = await send({ kind: 'sync.resync' });
    expect(statuses(answers)).toEqual(['accepted', 'done']);
    expect(reasons).toEqual([`command ${answers[0]?.cmdId ?? ''}`]);
    expect(commandEvents()).toHaveLength(1);
  });

  it('rejects expired, replayed, unsigned, wrongly signed, misaddressed, malformed and unknown commands, with no effect', async () => {
    const resyncs: string[] = [];
    gw().onResyncRequest((reason) => resyncs.push(reason));
    // The subscription probes are unsigned too.
    const probesSeen = gw().status().cloud?.commands.rejected.unsigned ?? 0;
    const unlock: CommandAction = { kind: 'door.unlock', doorId: 'back', seconds: 30 };

    // Expired: issued 10 minutes ago, valid for one.
    expect(statuses(await send(unlock, { issuedAt: new Date(Date.now() - 600_000), ttlS: 60 }))).toEqual(['rejected:expired']);
    // Issued in the future beyond the clock-skew allowance.
    expect(statuses(await send(unlock, { issuedAt: new Date(Date.now() + 600_000) }))).toEqual(['rejected:not_yet_valid']);
    // Replayed: the same signed message twice; only the first is executed.
    const resync = signCommand(signer, buildCommand({ gatewayId: 'gw1', action: { kind: 'sync.resync' }, cmdId: 'replay-1' }));
    expect(statuses(await commands.sendRaw('gw1', resync, 'replay-1'))).toEqual(['accepted', 'done']);
    expect(statuses(await commands.sendRaw('gw1', resync, 'replay-1'))).toEqual(['rejected:duplicate']);
    expect(resyncs).toHaveLength(1);
    // Unsigned: the bare command.
    const bare = buildCommand({ gatewayId: 'gw1', action: unlock, cmdId: 'bare-1' });
    expect(statuses(await commands.sendRaw('gw1', JSON.stringify(bare), 'bare-1'))).toEqual(['rejected:unsigned']);
    // Signed by a key the gateway does not trust: under a trusted key id, and under its own.
    const impostor = cloudKey(key.id);
    const forged = buildCommand({ gatewayId: 'gw1', action: unlock, cmdId: 'forged-1' });
    expect(statuses(await commands.sendRaw('gw1', signCommand({ keyId: key.id, privateKey: impostor.privateKey }, forged), 'forged-1'))).toEqual([
      'rejected:bad_signature',
    ]);
    const unknown = buildCommand({ gatewayId: 'gw1', action: unlock, cmdId: 'forged-2' });
    expect(statuses(await commands.sendRaw('gw1', signCommand({ keyId: 'other', privateKey: impostor.privateKey }, unknown), 'forged-2'))).toEqual([
      'rejected:unknown_key',
    ]);
    // Signed for another gateway, delivered to this one.
    const misaddressed = buildCommand({ gatewayId: 'gw2', action: unlock, cmdId: 'misaddressed-1' });
    expect(statuses(await commands.sendRaw('gw1', signCommand(signer, misaddressed), 'misaddressed-1'))).toEqual(['rejected:wrong_gateway']);
    // Malformed: not JSON at all, and a signed payload that is not a command.
    expect(statuses(await commands.sendRaw('gw1', 'not json {', null))).toEqual(['rejected:malformed']);
    expect(statuses(await commands.sendRaw('gw1', signCommand(signer, { type: 'command', gatewayId: 'gw1', cmdId: 'half-1' }), 'half-1'))).toEqual([
      'rejected:invalid_command',
    ]);
    expect(statuses(await send({ kind: 'door.unlock', doorId: 'back', seconds: 86_400 }))).toEqual(['rejected:invalid_command']);
    // Unknown action and unknown door.
    const strange = { ...buildCommand({ gatewayId: 'gw1', action: unlock, cmdId: 'strange-1' }), action: { kind: 'door.explode', doorId: 'back' } };
    expect(statuses(await commands.sendRaw('gw1', signCommand(signer, strange), 'strange-1'))).toEqual(['rejected:unknown_action']);
    expect(statuses(await send({ kind: 'door.lockdown', doorId: 'cellar' }))).toEqual(['rejected:unknown_door']);

    // No effect: both doors locked and in normal mode, only the one resync journaled.
    expect(gw().status().doors.map((d) => [d.id, d.state, d.mode])).toEqual([
      ['front', 'locked', 'normal'],
      ['back', 'locked', 'normal'],
    ]);
    expect(commandEvents().map((e) => commandEventSchema.parse(JSON.parse(e.payload)).action.kind)).toEqual(['sync.resync']);
    expect(gw().status().cloud?.commands).toMatchObject({
      done: 1,
      rejected: {
        expired: 1,
        not_yet_valid: 1,
        duplicate: 1,
        unsigned: 1 + probesSeen,
        bad_signature: 1,
        unknown_key: 1,
        wrong_gateway: 1,
        malformed: 1,
        invalid_command: 2,
        unknown_action: 1,
        unknown_door: 1,
      },
    });
  });
});
