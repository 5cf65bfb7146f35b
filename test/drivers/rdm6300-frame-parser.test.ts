import { describe, expect, it } from 'vitest';
import { encodeRdmFrame, type RdmFrame } from '../../drivers/rdm6300/frame.js';
import { Rdm6300FrameParser, type FrameParserCounters } from '../../drivers/rdm6300/frame-parser.js';
import { negativeFrameBytes, realFrames, syntheticFrame, trapFrameBytes } from './rdm6300-test-vectors.js';

/** Feeds chunks through a fresh parser and collects everything it emitted. */
async function parse(chunks: readonly (readonly number[] | Uint8Array)[]): Promise<{
  frames: RdmFrame[];
  counters: FrameParserCounters;
}> {
  const parser = new Rdm6300FrameParser();
  const frames: RdmFrame[] = [];
  parser.on('data', (frame: RdmFrame) => frames.push(frame));
  const ended = new Promise<void>((resolve) => parser.once('end', () => resolve()));
  for (const chunk of chunks) parser.write(Buffer.from(chunk));
  parser.end();
  await ended;
  return { frames, counters: { ...parser.counters() } };
}

const ascii = (text: string) => [...Buffer.from(text, 'ascii')];

describe('Rdm6300FrameParser', () => {
  it.each(realFrames.map((v) => [v.decimal10, v] as const))('decodes the real frame of card %s', async (_, vector) => {
    const { frames, counters } = await parse([vector.bytes]);
    expect(frames).toEqual([{ customer: vector.customer, tag: vector.tag }]);
    expect(counters).toEqual({ framesOk: 1, badChecksum: 0, malformed: 0, zeroTag: 0, garbageBytes: 0 });
  });

  it('decodes the synthetic 0004614867 vector', async () => {
    const { frames } = await parse([syntheticFrame.bytes]);
    expect(frames).toEqual([{ customer: 0x0e, tag: 4614867 }]);
  });

  it('rejects the negative vector (altered customer byte) as a bad checksum', async () => {
    const { frames, counters } = await parse([negativeFrameBytes]);
    expect(frames).toEqual([]);
    expect(counters.badChecksum).toBe(1);
    expect(counters.framesOk).toBe(0);
  });

  it('rejects the edited forum "trap" frame as a bad checksum', async () => {
    const { frames, counters } = await parse([trapFrameBytes]);
    expect(frames).toEqual([]);
    expect(counters.badChecksum).toBe(1);
  });

  it('decodes a frame split at every byte boundary', async () => {
    for (const vector of [...realFrames, syntheticFrame]) {
      for (let cut = 1; cut < vector.bytes.length; cut += 1) {
        const { frames } = await parse([vector.bytes.slice(0, cut), vector.bytes.slice(cut)]);
        expect(frames, `cut at ${cut}`).toEqual([{ customer: vector.customer, tag: vector.tag }]);
      }
    }
  });

  it('decodes a frame delivered one byte per chunk', async () => {
    const { frames } = await parse(syntheticFrame.bytes.map((byte) => [byte]));
    expect(frames).toEqual([{ customer: 0x0e, tag: 4614867 }]);
  });

  it('decodes several frames in one chunk, in order', async () => {
    const { frames, counters } = await parse([realFrames.flatMap((v) => v.bytes)]);
    expect(frames).toEqual(realFrames.map((v) => ({ customer: v.customer, tag: v.tag })));
    expect(counters.framesOk).toBe(realFrames.length);
  });

  it('skips garbage before and between frames and counts it', async () => {
    const garbage = [0xff, 0x00, 0x41, 0x03, 0x0d, 0x0a];
    const { frames, counters } = await parse([
      [...garbage, ...syntheticFrame.bytes, ...garbage, ...garbage, ...(realFrames[0]?.bytes ?? [])],
    ]);
    expect(frames).toEqual([
      { customer: 0x0e, tag: 4614867 },
      { customer: 0x67, tag: 0x003b51c6 },
    ]);
    expect(counters.garbageBytes).toBe(3 * garbage.length);
  });

  it('resynchronises on STX after a truncated frame', async () => {
    const truncated = syntheticFrame.bytes.slice(0, 7);
    const { frames, counters } = await parse([truncated, syntheticFrame.bytes]);
    expect(frames).toEqual([{ customer: 0x0e, tag: 4614867 }]);
    expect(counters.malformed).toBe(1);
  });

  it('accepts the 16-byte ID-12LA variant (CR LF before ETX)', async () => {
    const bytes = [0x02, ...ascii('0E00466AD3F1'), 0x0d, 0x0a, 0x03];
    expect(bytes).toHaveLength(16);
    const { frames } = await parse([bytes]);
    expect(frames).toEqual([{ customer: 0x0e, tag: 4614867 }]);
  });

  it('accepts lowercase hex', async () => {
    const { frames } = await parse([[0x02, ...ascii('0e00466ad3f1'), 0x03]]);
    expect(frames).toEqual([{ customer: 0x0e, tag: 4614867 }]);
  });

  it('rejects an all-zero tag even with a valid checksum', async () => {
    const { frames, counters } = await parse([[0x02, ...ascii('000000000000'), 0x03], [0x02, ...ascii('120000000012'), 0x03]]);
    expect(frames).toEqual([]);
    expect(counters.zeroTag).toBe(2);
  });

  it('rejects payloads of the wrong length or with non-hex characters', async () => {
    const { frames, counters } = await parse([
      [0x02, ...ascii('0E00466AD3F'), 0x03], // 11 characters
      [0x02, ...ascii('0E00466AD3F1A'), 0x03], // 13 characters
      [0x02, ...ascii('0E00466AD3G1'), 0x03], // G is not hex
      [0x02, ...ascii('0E00466AD3F1'), 0x0a, 0x0d, 0x03], // LF CR is not the ID-12LA trailer
    ]);
    expect(frames).toEqual([]);
    expect(counters.malformed).toBe(4);
  });

  it('keeps at most one frame buffered however long the garbage runs', async () => {
    const parser = new Rdm6300FrameParser();
    parser.resume();
    parser.write(Buffer.from([0x02, ...new Array<number>(100_000).fill(0x41)]));
    expect(parser.pendingByteCount).toBeLessThanOrEqual(16);
    expect(parser.counters().malformed).toBe(1);
    expect(parser.counters().garbageBytes).toBe(100_000 - 14);
    parser.end();
  });

  it('drops an unfinished frame at end of input and counts it', async () => {
    const { frames, counters } = await parse([syntheticFrame.bytes.slice(0, 13)]);
    expect(frames).toEqual([]);
    expect(counters.malformed).toBe(1);
  });

  it('round-trips through the encoder for both variants and cases', async () => {
    const frame = { customer: 0xab, tag: 0xfedcba98 };
    const chunks = [
      encodeRdmFrame(frame),
      encodeRdmFrame(frame, { lowercase: true }),
      encodeRdmFrame(frame, { variant: 'id12la' }),
    ];
    expect([...(chunks[0] ?? [])]).toEqual([0x02, ...ascii('ABFEDCBA98'), ...ascii((0xab ^ 0xfe ^ 0xdc ^ 0xba ^ 0x98).toString(16).toUpperCase().padStart(2, '0')), 0x03]);
    const { frames } = await parse(chunks);
    expect(frames).toEqual([frame, frame, frame]);
  });

  it('encodes the synthetic vector byte-exactly', () => {
    expect([...encodeRdmFrame({ customer: 0x0e, tag: 4614867 })]).toEqual(syntheticFrame.bytes);
  });
});
