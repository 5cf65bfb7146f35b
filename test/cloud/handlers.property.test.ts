/**
 * The command and ack handlers against random input, on a real SQLite store:
 * nothing that arrives makes them throw, no command that fails a check has
 * any effect, a valid command runs at most once however often it is
 * replayed, and no ack that fails a check acknowledges anything.
 *
 * Doors are recording stand-ins (the relay is not what is under test); the
 * database, journal, sessions and signatures are the real ones.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandDoor } from '../../daemon/cloud/command-executor.js';
import { CommandExecutor } from '../../daemon/cloud/command-executor.js';
import { CommandHandler } from '../../daemon/cloud/command-handler.js';
import { EventAckHandler } from '../../daemon/cloud/event-acks.js';
import type { Command, CommandAction, CommandResponse } from '../../daemon/cloud/link-messages.js';
import { CloudKeyring, SIGNED_SCHEMA, signPayload } from '../../daemon/cloud/signed-message.js';
import type { DoorMode } from '../../daemon/engine/types.js';
import { openDatabase } from '../../daemon/store/database.js';
import { Journal } from '../../daemon/store/journal.js';
import { CheckinSessions } from '../../daemon/store/sessions.js';
import { cloudKey } from '../support/cloud-keys.js';
import { fcOptions } from '../support/fast-check.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const NOW = Date.parse('2026-11-22T09:00:00.000Z');
const key = cloudKey('k1');
const impostor = cloudKey('k1');
const keyring = new CloudKeyring([{ id: key.id, key: key.publicPem }]);
const logger = memoryLogger('fatal').logger;

class RecordingDoor implements CommandDoor {
  readonly calls: string[] = [];
  #mode: DoorMode = 'normal';
  constructor(readonly id: string) {}
  policy() {
    return { id: this.id, pulseMs: 3000, extendedPulseMs: null, mode: this.#mode, schedule: null };
  }
  unlock(ms: number): void {
    this.calls.push(`unlock ${ms}`);
  }
  setMode(mode: DoorMode): void {
    this.#mode = mode;
    this.calls.push(`mode ${mode}`);
  }
}

// One store for all runs (a fresh file per run would make the property slow);
// every run checks deltas, and command ids are random so runs cannot collide.
const dir = tempDir('gatehouse-handlers-');
const db = openDatabase(join(dir.path, 'gatehouse.db'));
afterAll(() => {
  db.close();
  dir.remove();
});
const journal = new Journal(db, randomUUID(), { delivery: 'cloud-ack' });
const sessions = new CheckinSessions(db);
const doors = new Map([['front', new RecordingDoor('front')]]);
const resyncs: string[] = [];
const responses: CommandResponse[] = [];
const executor = new CommandExecutor({
  db,
  journal,
  sessions,
  doors,
  commandTopic: 'gatehouse/v1/gw1/events/command',
  siteId: 'site',
  gatewayId: 'gw1',
  requestResync: (reason) => resyncs.push(reason),
  logger,
});
const commands = new CommandHandler({ gatewayId: 'gw1', keyring, maxMessageBytes: 65_536, executor, respond: (r) => responses.push(r), logger, now: () => NOW });
const acks = new EventAckHandler({ gatewayId: 'gw1', keyring, maxMessageBytes: 65_536, journal, logger, now: () => NOW });

const effects = () => ({ door: doors.get('front')?.calls.length ?? 0, resyncs: resyncs.length, journal: journal.recent(1)[0]?.seq ?? 0 });

const actionArb: fc.Arbitrary<CommandAction> = fc.oneof(
  fc.record({ kind: fc.constant('door.unlock' as const), doorId: fc.constant('front'), seconds: fc.integer({ min: 1, max: 3600 }) }),
  fc.record({ kind: fc.constant('door.lockdown' as const), doorId: fc.constant('front') }),
  fc.record({ kind: fc.constant('door.release' as const), doorId: fc.constant('front') }),
  fc.record({ kind: fc.constant('door.hold-open' as const), doorId: fc.constant('front') }),
  fc.constant<CommandAction>({ kind: 'sync.resync' }),
);

const validCommandArb: fc.Arbitrary<Command> = fc.record({
  action: actionArb,
  ageS: fc.integer({ min: 0, max: 50 }),
  ttlS: fc.integer({ min: 60, max: 3600 }),
}).map(({ action, ageS, ttlS }) => ({
  type: 'command' as const,
  gatewayId: 'gw1',
  cmdId: randomUUID(),
  issuedAt: new Date(NOW - ageS * 1000).toISOString(),
  expiresAt: new Date(NOW - ageS * 1000 + ttlS * 1000).toISOString(),
  action,
}));

type Fault =
  | 'wrong_gateway'
  | 'expired'
  | 'not_yet_valid'
  | 'unsigned'
  | 'wrong_key'
  | 'tampered'
  | 'unknown_action'
  | 'unknown_door'
  | 'bad_seconds'
  | 'extra_field'
  | 'missing_field';

const faultArb = fc.constantFrom<Fault>(
  'wrong_gateway',
  'expired',
  'not_yet_valid',
  'unsigned',
  'wrong_key',
  'tampered',
  'unknown_action',
  'unknown_door',
  'bad_seconds',
  'extra_field',
  'missing_field',
);

/** A valid command broken in exactly one way, as the bytes that arrive. */
function broken(command: Command, fault: Fault, junk: string): string {
  const sign = (payload: unknown) => signPayload(key.privateKey, key.id, payload);
  switch (fault) {
    case 'wrong_gateway':
      return sign({ ...command, gatewayId: junk === 'gw1' ? 'gw2' : `gw-${junk}` });
    case 'expired':
      return sign({ ...command, issuedAt: new Date(NOW - 7_200_000).toISOString(), expiresAt: new Date(NOW - 61_000).toISOString() });
    case 'not_yet_valid':
      return sign({ ...command, issuedAt: new Date(NOW + 61_000).toISOString(), expiresAt: new Date(NOW + 600_000).toISOString() });
    case 'unsigned':
      return JSON.stringify(command);
    case 'wrong_key':
      return signPayload(impostor.privateKey, key.id, command);
    case 'tampered': {
      const envelope = JSON.parse(sign(command)) as { payload: string };
      const changed = Buffer.from(JSON.stringify({ ...command, action: { kind: 'door.unlock', doorId: 'front', seconds: 3600 }, junk }));
      return JSON.stringify({ ...envelope, payload: changed.toString('base64') });
    }
    case 'unknown_action':
      return sign({ ...command, action: { kind: `door.${junk}x`, doorId: 'front' } });
    case 'unknown_door':
      return sign({ ...command, action: { kind: 'door.unlock', doorId: `x${junk}`, seconds: 5 } });
    case 'bad_seconds':
      return sign({ ...command, action: { kind: 'door.unlock', doorId: 'front', seconds: junk.length % 2 === 0 ? 0 : 3601 } });
    case 'extra_field':
      return sign({ ...command, [`x${junk}`]: 1 });
    case 'missing_field': {
      const { cmdId: _drop, ...rest } = command;
      return sign(rest);
    }
  }
}

const junkMessageArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .record({ keyId: fc.string({ maxLength: 70 }), payload: fc.jsonValue(), sig: fc.base64String({ maxLength: 120 }) })
    .map(({ keyId, payload, sig }) =>
      Buffer.from(JSON.stringify({ schema: SIGNED_SCHEMA, keyId, payload: Buffer.from(JSON.stringify(payload) ?? 'null').toString('base64'), sig })),
    ),
  // Correctly signed, but whatever the payload is.
  fc.jsonValue().map((v) => Buffer.from(signPayload(key.privateKey, key.id, v))),
  fc
    .record({ type: fc.constantFrom('command', 'events.ack', 'x'), gatewayId: fc.constantFrom('gw1', 'gw2'), cmdId: fc.string(), action: fc.jsonValue() })
    .map((v) => Buffer.from(signPayload(key.privateKey, key.id, v))),
);

beforeEach(() => {
  responses.length = 0;
});

describe('command handler (property)', () => {
  it('never throws and never executes random input', () => {
    fc.assert(
      fc.property(junkMessageArb, (raw) => {
        const before = effects();
        const answer = commands.handle(raw);
        expect(answer.status).toBe('rejected');
        expect(effects()).toEqual(before);
      }),
      fcOptions(500),
    );
  });

  it('never executes a command broken in any one way, and answers with a reason', () => {
    fc.assert(
      fc.property(validCommandArb, faultArb, fc.string({ maxLength: 8 }), (command, fault, junk) => {
        const before = effects();
        const answer = commands.handle(Buffer.from(broken(command, fault, junk)));
        expect(answer).toMatchObject({ status: 'rejected', schema: 'gatehouse.cmd-response/1' });
        expect(answer.reason).toBeDefined();
        expect(effects()).toEqual(before);
      }),
      fcOptions(500),
    );
  });

  it('executes a valid command once, however often it is replayed', () => {
    fc.assert(
      fc.property(validCommandArb, fc.integer({ min: 1, max: 4 }), (command, replays) => {
        const raw = Buffer.from(signPayload(key.privateKey, key.id, command));
        const before = effects();
        const first = commands.handle(raw);
        const after = effects();
        for (let i = 0; i < replays; i++) expect(commands.handle(raw)).toMatchObject({ status: 'rejected', reason: 'duplicate', cmdId: command.cmdId });
        expect(effects()).toEqual(after);
        if ((command.action.kind === 'door.unlock' || command.action.kind === 'door.hold-open') && doors.get('front')?.policy().mode === 'locked-down') {
          expect(first).toMatchObject({ status: 'rejected', reason: 'door_locked_down' });
          expect(after).toEqual(before);
        } else {
          expect(first).toMatchObject({ status: 'done', cmdId: command.cmdId });
          expect(after.journal).toBe(before.journal + 1);
        }
      }),
      fcOptions(200),
    );
  });
});

describe('event ack handler (property)', () => {
  it('acknowledges nothing unless the ack is signed, well-formed and for this gateway', () => {
    const pending = () => journal.depth().pending;
    const event = journal.append('access', 'gatehouse/v1/gw1/events/access', NOW, (s) => ({ eventId: s.eventId, seq: s.seq }));
    const ackArb = fc.oneof(
      junkMessageArb,
      fc.constant(Buffer.from(JSON.stringify({ type: 'events.ack', gatewayId: 'gw1', eventIds: [event.id] }))),
      fc.constant(Buffer.from(signPayload(impostor.privateKey, key.id, { type: 'events.ack', gatewayId: 'gw1', eventIds: [event.id] }))),
      fc.string({ minLength: 1 }).map((gw) => Buffer.from(signPayload(key.privateKey, key.id, { type: 'events.ack', gatewayId: gw === 'gw1' ? 'gw9' : gw, eventIds: [event.id] }))),
      fc.array(fc.uuid(), { maxLength: 5 }).map((ids) => Buffer.from(signPayload(key.privateKey, key.id, { type: 'events.ack', gatewayId: 'gw1', eventIds: ids }))),
      fc.integer({ min: event.seq + 1 }).map((seq) => Buffer.from(signPayload(key.privateKey, key.id, { type: 'events.ack', gatewayId: 'gw1', throughSeq: seq }))),
    );
    fc.assert(
      fc.property(ackArb, (raw) => {
        const before = pending();
        acks.handle(raw);
        expect(pending()).toBe(before);
        expect(journal.get(event.seq)?.ackedAt).toBeNull();
      }),
      fcOptions(500),
    );
    expect(acks.handle(Buffer.from(signPayload(key.privateKey, key.id, { type: 'events.ack', gatewayId: 'gw1', eventIds: [event.id] })))).toMatchObject({
      applied: true,
      result: { acked: 1 },
    });
  });
});
