import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../drivers/pn532/frame.js';
import { Pn532FrameParser, type Pn532Packet, type Pn532ParserCounters } from '../../drivers/pn532/frame-parser.js';
import { ACK, APPLICATION_ERROR, NACK, NO_TARGET, responseFrames, targetFrames } from './pn532-test-vectors.js';

async function parse(chunks: readonly (readonly number[])[]): Promise<{ packets: Pn532Packet[]; counters: Pn532ParserCounters }> {
  const parser = new Pn532FrameParser();
  const packets: Pn532Packet[] = [];
  parser.on('data', (packet: Pn532Packet) => packets.push(packet));
  const ended = new Promise<void>((resolve) => parser.once('end', () => resolve()));
  for (const chunk of chunks) parser.write(Buffer.from(chunk));
  parser.end();
  await ended;
  return { packets, counters: { ...parser.counters() } };
}

const frame = (data: readonly number[]): Pn532Packet => ({ kind: 'frame', tfi: 0xd5, data: Buffer.from(data) });
const FIRST_CARD = targetFrames[0]?.frame ?? [];

describe('Pn532FrameParser', () => {
  it.each(targetFrames.map((v) => [v.name, v] as const))('parses the real %s response', async (_, vector) => {
    const { packets, counters } = await parse([vector.frame]);
    expect(packets).toEqual([frame(vector.frame.slice(6, -2))]);
    expect(counters).toMatchObject({ framesOk: 1, badLength: 0, badChecksum: 0, garbageBytes: 0 });
  });

  it.each(responseFrames.map((v) => [v.name, v] as const))('parses the %s response', async (_, vector) => {
    const { packets } = await parse([vector.frame]);
    expect(packets).toEqual([frame(vector.data)]);
  });

  it('parses ACK, NACK, the application error frame and an empty poll', async () => {
    const { packets } = await parse([[...ACK, ...NACK, ...APPLICATION_ERROR, ...NO_TARGET]]);
    expect(packets).toEqual([{ kind: 'ack' }, { kind: 'nack' }, { kind: 'error' }, frame([0x4b, 0x00])]);
  });

  it('parses an ACK and its response arriving in one chunk', async () => {
    const { packets } = await parse([[...ACK, ...FIRST_CARD]]);
    expect(packets.map((p) => p.kind)).toEqual(['ack', 'frame']);
  });

  it('parses the same bytes split at every boundary, and one byte per chunk', async () => {
    const stream = [...ACK, ...FIRST_CARD];
    for (let cut = 1; cut < stream.length; cut += 1) {
      const { packets } = await parse([stream.slice(0, cut), stream.slice(cut)]);
      expect(packets.map((p) => p.kind), `cut at ${cut}`).toEqual(['ack', 'frame']);
    }
    const { packets } = await parse(stream.map((byte) => [byte]));
    expect(packets).toEqual([{ kind: 'ack' }, frame(FIRST_CARD.slice(6, -2))]);
  });

  it('accepts several 00 bytes of preamble and postamble, and no postamble at all', async () => {
    const { packets, counters } = await parse([[0x00, 0x00, 0x00, ...FIRST_CARD, 0x00, 0x00, ...FIRST_CARD.slice(0, -1), ...ACK]]);
    expect(packets.map((p) => p.kind)).toEqual(['frame', 'frame', 'ack']);
    expect(counters.garbageBytes).toBe(0);
  });

  it('skips and counts garbage around frames', async () => {
    const { packets, counters } = await parse([[0x55, 0xaa, 0xff, ...ACK, 0x13, 0x37, ...FIRST_CARD, 0x42]]);
    expect(packets.map((p) => p.kind)).toEqual(['ack', 'frame']);
    expect(counters.garbageBytes).toBe(6);
  });

  it('rejects a bad LCS and finds the real frame behind the false start', async () => {
    const { packets, counters } = await parse([[0x00, 0xff, 0x05, 0x05, ...FIRST_CARD]]);
    expect(packets).toEqual([frame(FIRST_CARD.slice(6, -2))]);
    expect(counters.badLength).toBe(1);
  });

  it('reports a bad DCS as corrupt, never as a frame', async () => {
    const corrupted = [...FIRST_CARD];
    corrupted[10] = 0x05; // one bit of the UID flipped in transit
    const { packets, counters } = await parse([corrupted]);
    expect(packets).toEqual([{ kind: 'corrupt' }]);
    expect(counters).toMatchObject({ framesOk: 0, badChecksum: 1 });
  });

  it('finds a frame hidden inside a false start whose length swallowed it', async () => {
    // 00 FF 10 F0 claims 16 bytes; the real ACK and response sit inside them. The DCS fails, and the rescan finds them.
    const { packets } = await parse([[0x00, 0xff, 0x10, 0xf0, ...ACK, ...FIRST_CARD]]);
    expect(packets.filter((p) => p.kind !== 'corrupt').map((p) => p.kind)).toEqual(['ack', 'frame']);
  });

  it('parses an extended frame', async () => {
    const data = Array.from({ length: 260 }, (_, i) => i & 0xff);
    const { packets } = await parse([[...encodeFrame(0xd5, Uint8Array.from(data))]]);
    expect(packets).toEqual([frame(data)]);
  });

  it('drops a partial frame on reset()', async () => {
    const parser = new Pn532FrameParser();
    const packets: Pn532Packet[] = [];
    parser.on('data', (packet: Pn532Packet) => packets.push(packet));
    parser.write(Buffer.from(FIRST_CARD.slice(0, 8)));
    expect(parser.pendingByteCount).toBeGreaterThan(0);
    parser.reset();
    parser.write(Buffer.from(FIRST_CARD.slice(8)));
    parser.write(Buffer.from(ACK));
    await new Promise((resolve) => setImmediate(resolve));
    expect(packets).toEqual([{ kind: 'ack' }]);
  });
});
