/**
 * OutboxWindow as the drainer uses it when delivery completes only with the
 * cloud's ack: rewound before every connection and fed from a journal whose
 * pending set is "not yet acked by the cloud". Random schedules of appends,
 * sends, PUBACKs (timely and late), failures, cloud acks, disconnects and
 * reconnects, checked against the rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutboxWindow } from '../../daemon/uplink/outbox-window.js';
import { fcOptions } from '../support/fast-check.js';

type Op =
  | { kind: 'append'; count: number }
  | { kind: 'pump' }
  | { kind: 'puback'; pick: number }
  | { kind: 'fail'; pick: number }
  | { kind: 'cloudAck'; pick: number }
  | { kind: 'disconnect' }
  | { kind: 'connect' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'pump' }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('puback' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cloudAck' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'disconnect' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'connect' }) },
);

interface Sent {
  readonly seq: number;
  readonly epoch: number;
}

function simulate(maxInflight: number, batch: number, ops: readonly Op[]): void {
  const window = new OutboxWindow<{ seq: number }>(maxInflight);
  let appended = 0;
  const cloudAcked = new Set<number>();
  let network: Sent[] = [];
  const sentOn = new Set<string>();
  const lastSeqOnEpoch = new Map<number, number>();

  const connect = () => {
    window.rewind();
    window.connect();
  };

  const pump = () => {
    for (;;) {
      if (window.wantsRows) {
        // The journal's pending set in cloud-ack mode: everything not acked by the cloud.
        const rows: { seq: number }[] = [];
        for (let seq = window.cursor + 1; seq <= appended && rows.length < batch; seq++) {
          if (!cloudAcked.has(seq)) rows.push({ seq });
        }
        window.offer(rows);
      }
      const send = window.next();
      if (send === undefined) return;
      const { seq } = send.row;
      const key = `${send.epoch}:${seq}`;
      expect(sentOn.has(key), `row ${seq} sent twice on connection ${send.epoch}`).toBe(false);
      sentOn.add(key);
      expect(seq, 'sends on one connection go in seq order').toBeGreaterThan(lastSeqOnEpoch.get(send.epoch) ?? 0);
      lastSeqOnEpoch.set(send.epoch, seq);
      network.push({ seq, epoch: send.epoch });
      expect(window.inflight).toBeLessThanOrEqual(maxInflight);
    }
  };

  const take = (pick: number): Sent | undefined => {
    if (network.length === 0) return undefined;
    const [sent] = network.splice(pick % network.length, 1);
    return sent;
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'append':
        appended += op.count;
        break;
      case 'pump':
        pump();
        break;
      case 'puback': {
        const sent = take(op.pick);
        if (sent !== undefined) window.ack(sent.seq, sent.epoch);
        break;
      }
      case 'fail': {
        const sent = take(op.pick);
        if (sent !== undefined) window.fail(sent.seq, sent.epoch);
        break;
      }
      case 'cloudAck':
        // The cloud can ack anything it has seen, in any order.
        if (appended > 0) cloudAcked.add((op.pick % appended) + 1);
        break;
      case 'disconnect':
        window.disconnect();
        break;
      case 'connect':
        if (!window.connected) connect();
        break;
    }
    if (window.connected) expect(window.inflight).toBe(network.filter((s) => s.epoch === window.epoch).length);
    else expect(window.inflight).toBe(0);
  }

  // A fresh connection that PUBACKs everything sends every row the cloud has
  // not acked exactly once, whatever happened before (PUBACKed on an earlier
  // connection or not), and nothing else.
  window.disconnect();
  connect();
  network = []; // outstanding sends of older connections are never answered
  const epoch = window.epoch;
  for (let round = 0; round < appended + 10; round++) {
    pump();
    for (const sent of network.splice(0)) window.ack(sent.seq, sent.epoch);
  }
  const sentOnLast = [...sentOn].filter((k) => k.startsWith(`${epoch}:`)).map((k) => Number(k.split(':')[1]));
  const expected = Array.from({ length: appended }, (_, i) => i + 1).filter((seq) => !cloudAcked.has(seq));
  expect(sentOnLast.sort((a, b) => a - b)).toEqual(expected);
  expect(window.unacked).toBe(0);
  expect(window.inflight).toBe(0);
}

describe('OutboxWindow with cloud acks (property)', () => {
  it('resends every row the cloud has not acked once per connection, in seq order, within maxInflight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(opArb, { maxLength: 80 }),
        (maxInflight, batch, ops) => simulate(maxInflight, batch, ops),
      ),
      fcOptions(400),
    );
  });

  it('refuses to rewind while connected', () => {
    const window = new OutboxWindow<{ seq: number }>(2);
    window.connect();
    expect(() => window.rewind()).toThrow(/between connections/);
  });
});
