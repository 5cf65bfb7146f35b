/**
 * Random schedules of appends, sends, PUBACKs (timely and late), failures,
 * disconnects and reconnects against OutboxWindow, checked against the
 * drainer's rules. The journal and the network are simple models here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutboxWindow } from '../../daemon/uplink/outbox-window.js';
import { fcOptions } from '../support/fast-check.js';

type Op =
  | { kind: 'append'; count: number }
  | { kind: 'pump' }
  | { kind: 'ack'; pick: number }
  | { kind: 'fail'; pick: number }
  | { kind: 'disconnect' }
  | { kind: 'connect' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'pump' }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('ack' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'disconnect' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'connect' }) },
);

interface Sent {
  readonly seq: number;
  readonly epoch: number;
}

/** Runs one schedule; throws (via expect) on the first broken rule. */
function simulate(maxInflight: number, batch: number, ops: readonly Op[]): void {
  const window = new OutboxWindow<{ seq: number }>(maxInflight);
  let appended = 0;
  const published = new Set<number>();
  /** Sends the broker has not answered yet, from any connection. */
  let network: Sent[] = [];
  const sentOn = new Set<string>();
  const lastSeqOnEpoch = new Map<number, number>();
  let lastFirstSend = 0;
  const everSent = new Set<number>();

  const pump = () => {
    for (;;) {
      if (window.wantsRows) {
        const rows: { seq: number }[] = [];
        for (let seq = window.cursor + 1; seq <= appended && rows.length < batch; seq++) {
          if (!published.has(seq)) rows.push({ seq });
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
      expect(published.has(seq), `row ${seq} sent after it was acknowledged`).toBe(false);
      expect(send.resend).toBe(everSent.has(seq));
      if (!everSent.has(seq)) {
        expect(seq, 'first sends go in seq order').toBeGreaterThan(lastFirstSend);
        lastFirstSend = seq;
        everSent.add(seq);
      }
      network.push({ seq, epoch: send.epoch });
      expect(window.inflight).toBeLessThanOrEqual(maxInflight);
    }
  };

  const take = (pick: number): Sent | undefined => {
    if (network.length === 0) return undefined;
    const index = pick % network.length;
    const [sent] = network.splice(index, 1);
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
      case 'ack': {
        // Any outstanding send may be answered, including late ones from an
        // earlier connection.
        const sent = take(op.pick);
        if (sent === undefined) break;
        const first = window.ack(sent.seq, sent.epoch);
        expect(first).toBe(!published.has(sent.seq));
        published.add(sent.seq);
        break;
      }
      case 'fail': {
        const sent = take(op.pick);
        if (sent !== undefined) window.fail(sent.seq, sent.epoch);
        break;
      }
      case 'disconnect':
        window.disconnect();
        break;
      case 'connect':
        if (!window.connected) window.connect();
        break;
    }
    // The window's in-flight count is exactly the current connection's unanswered sends.
    if (window.connected) expect(window.inflight).toBe(network.filter((s) => s.epoch === window.epoch).length);
    else expect(window.inflight).toBe(0);
    expect(window.inflight).toBeLessThanOrEqual(maxInflight);
  }

  // Liveness: a fresh, stable connection that acknowledges everything delivers
  // every row (rows that failed on the last connection are only resent on a new one).
  window.disconnect();
  window.connect();
  network = []; // whatever was outstanding is never answered
  for (let round = 0; round < appended + 10 && published.size < appended; round++) {
    pump();
    for (const sent of network.splice(0)) {
      if (window.ack(sent.seq, sent.epoch)) published.add(sent.seq);
    }
  }
  expect(published.size, 'every appended row is eventually acknowledged').toBe(appended);
  expect(window.unacked).toBe(0);
  expect(window.inflight).toBe(0);
}

describe('OutboxWindow (property)', () => {
  it('never sends a row twice per connection, keeps seq order, respects maxInflight, loses nothing', () => {
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

  it('resends rows unacknowledged at a disconnect first, in order, on the next connection', () => {
    const window = new OutboxWindow<{ seq: number }>(3);
    window.connect();
    window.offer([{ seq: 1 }, { seq: 2 }, { seq: 3 }, { seq: 4 }]);
    const first = [window.next(), window.next(), window.next()].map((s) => s?.row.seq);
    expect(first).toEqual([1, 2, 3]);
    expect(window.next()).toBeUndefined(); // window full
    expect(window.ack(2, 1)).toBe(true);
    window.disconnect();
    window.connect();
    const again = [window.next(), window.next(), window.next()].map((s) => [s?.row.seq, s?.resend]);
    expect(again).toEqual([
      [1, true],
      [3, true],
      [4, false],
    ]);
  });

  it('does not resend a row whose late PUBACK arrives while it waits in the resend queue', () => {
    const window = new OutboxWindow<{ seq: number }>(2);
    window.connect();
    window.offer([{ seq: 1 }, { seq: 2 }]);
    expect([window.next()?.row.seq, window.next()?.row.seq]).toEqual([1, 2]);
    window.disconnect();
    window.connect();
    expect(window.ack(1, 1)).toBe(true);
    expect(window.next()?.row.seq).toBe(2);
    expect(window.next()).toBeUndefined();
  });

  it('counts a late PUBACK from an old connection as delivery without freeing a current slot', () => {
    const window = new OutboxWindow<{ seq: number }>(1);
    window.connect();
    window.offer([{ seq: 1 }, { seq: 2 }]);
    expect(window.next()?.row.seq).toBe(1);
    window.disconnect();
    const epoch = window.connect();
    expect(window.next()).toMatchObject({ row: { seq: 1 }, epoch, resend: true });
    expect(window.ack(1, epoch - 1)).toBe(true); // late answer to the first send
    expect(window.next()).toBeUndefined(); // the resend still occupies the only slot
    expect(window.ack(1, epoch)).toBe(false); // its own PUBACK: already delivered
    expect(window.next()?.row.seq).toBe(2);
  });
});
