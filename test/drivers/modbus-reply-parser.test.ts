import { describe, expect, it } from 'vitest';
import type { RtuReply } from '../../drivers/modbus/rtu-frames.js';
import { RtuReplyParser, type RtuParserCounters } from '../../drivers/modbus/rtu-reply-parser.js';
import { EXCEPTION_ILLEGAL_ADDRESS, READ_COILS_REPLY_1_AND_3, writeCoilVectors } from './modbus-test-vectors.js';
import { waitFor } from '../support/pty.js';

async function parse(chunks: readonly (readonly number[])[]): Promise<{ replies: RtuReply[]; counters: RtuParserCounters }> {
  const parser = new RtuReplyParser();
  const replies: RtuReply[] = [];
  parser.on('data', (reply: RtuReply) => replies.push(reply));
  const ended = new Promise<void>((resolve) => parser.once('end', () => resolve()));
  for (const chunk of chunks) parser.write(Buffer.from(chunk));
  parser.end();
  await ended;
  return { replies, counters: { ...parser.counters() } };
}

const COIL0_ON = writeCoilVectors[0]?.frame ?? [];
const SLAVE2_ON = writeCoilVectors[6]?.frame ?? [];
const frames = (replies: readonly RtuReply[]) => replies.map((reply) => [...reply.frame]);

describe('RtuReplyParser', () => {
  it('parses an FC05 echo, an FC01 reply and an exception', async () => {
    const { replies } = await parse([[...COIL0_ON, ...READ_COILS_REPLY_1_AND_3, ...EXCEPTION_ILLEGAL_ADDRESS]]);
    expect(frames(replies)).toEqual([COIL0_ON, READ_COILS_REPLY_1_AND_3, EXCEPTION_ILLEGAL_ADDRESS]);
    expect(replies[1]).toMatchObject({ slave: 1, functionCode: 0x01, pdu: Buffer.from([0x01, 0x01, 0x05]) });
    expect(replies[2]).toMatchObject({ slave: 1, functionCode: 0x85 });
  });

  it('parses a reply split at every boundary and one byte per chunk', async () => {
    for (let cut = 1; cut < COIL0_ON.length; cut += 1) {
      const { replies } = await parse([COIL0_ON.slice(0, cut), COIL0_ON.slice(cut)]);
      expect(frames(replies), `cut at ${cut}`).toEqual([COIL0_ON]);
    }
    expect(frames((await parse(READ_COILS_REPLY_1_AND_3.map((b) => [b]))).replies)).toEqual([READ_COILS_REPLY_1_AND_3]);
  });

  it('finds replies behind garbage and counts it', async () => {
    const { replies, counters } = await parse([[0x00, 0xff, 0x42, ...COIL0_ON, 0xf8, ...SLAVE2_ON]]);
    expect(frames(replies)).toEqual([COIL0_ON, SLAVE2_ON]);
    expect(counters.garbageBytes).toBeGreaterThanOrEqual(3);
  });

  it('rejects a bad CRC and still finds a reply starting inside the bad frame', async () => {
    const corrupted = [...COIL0_ON];
    corrupted[7] = (corrupted[7] ?? 0) ^ 0x01;
    const { replies, counters } = await parse([[...corrupted.slice(0, 4), ...COIL0_ON]]);
    expect(frames(replies)).toEqual([COIL0_ON]);
    expect(counters.badCrc).toBeGreaterThanOrEqual(1);
    const only = await parse([corrupted]);
    expect(only.replies).toEqual([]);
  });

  it('abandons a partial frame after inter-byte silence', async () => {
    const parser = new RtuReplyParser({ interByteTimeoutMs: 20 });
    const replies: RtuReply[] = [];
    parser.on('data', (reply: RtuReply) => replies.push(reply));
    parser.write(Buffer.from(COIL0_ON.slice(0, 5)));
    await waitFor(() => parser.counters().incomplete === 1, 'partial frame abandoned');
    parser.write(Buffer.from(COIL0_ON));
    await waitFor(() => replies.length === 1, 'the next reply');
    expect(frames(replies)).toEqual([COIL0_ON]);
    parser.destroy();
  });
});
