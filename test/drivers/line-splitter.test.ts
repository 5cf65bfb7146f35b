import { describe, expect, it } from 'vitest';
import { LineSplitter, type LineSplitterOptions } from '../../drivers/line-reader/line-splitter.js';

async function split(options: LineSplitterOptions, chunks: readonly string[]) {
  const splitter = new LineSplitter(options);
  const lines: string[] = [];
  splitter.on('data', (line: Buffer) => lines.push(line.toString('latin1')));
  const ended = new Promise<void>((resolve) => splitter.once('end', () => resolve()));
  for (const chunk of chunks) splitter.write(Buffer.from(chunk, 'latin1'));
  splitter.end();
  await ended;
  return { lines, counters: splitter.counters() };
}

const CRLF = Uint8Array.of(0x0d, 0x0a);

describe('LineSplitter', () => {
  it('splits S4A output on CR LF', async () => {
    const { lines } = await split({ terminator: CRLF, maxLength: 64 }, ['0000123478\r\n0008065495\r\n']);
    expect(lines).toEqual(['0000123478', '0008065495']);
  });

  it('keeps a lone CR or LF inside a line when the terminator is CR LF', async () => {
    const { lines } = await split({ terminator: CRLF, maxLength: 64 }, ['a\rb\nc\r\n']);
    expect(lines).toEqual(['a\rb\nc']);
  });

  it('accepts CR, LF and CR LF alike without a terminator, skipping empty lines', async () => {
    const { lines } = await split({ maxLength: 64 }, ['7B11D7\r\n', '0004614867\n', 'ABC\r', '\r\n\n']);
    expect(lines).toEqual(['7B11D7', '0004614867', 'ABC']);
  });

  it('splits on a custom terminator such as ETX', async () => {
    const { lines } = await split({ terminator: Uint8Array.of(0x03), maxLength: 64 }, ['\x02ABC\x03\x02DEF\x03']);
    expect(lines).toEqual(['\x02ABC', '\x02DEF']);
  });

  it('parses the same bytes split at every boundary', async () => {
    const input = '0000123478\r\n0008065495\r\n';
    for (let cut = 1; cut < input.length; cut += 1) {
      const { lines } = await split({ terminator: CRLF, maxLength: 64 }, [input.slice(0, cut), input.slice(cut)]);
      expect(lines, `cut at ${cut}`).toEqual(['0000123478', '0008065495']);
    }
  });

  it('drops an overlong line whole, up to its terminator, and counts it', async () => {
    const { lines, counters } = await split({ terminator: CRLF, maxLength: 8 }, ['0123456789ABCDEF\r\n', '12345678\r\n']);
    expect(lines).toEqual(['12345678']);
    expect(counters.overlongLines).toBe(1);
    const anyNewline = await split({ maxLength: 4 }, ['123456789\nabcd\n']);
    expect(anyNewline.lines).toEqual(['abcd']);
  });

  it('after dropped input, discards up to the next terminator so a tail is never a line', async () => {
    const splitter = new LineSplitter({ terminator: CRLF, maxLength: 64 });
    const lines: string[] = [];
    splitter.on('data', (line: Buffer) => lines.push(line.toString('latin1')));
    splitter.write(Buffer.from('noise t'));
    splitter.skipped(Buffer.from('ail and more noise 46'));
    splitter.write(Buffer.from('14867\r\n0001217496\r\n'));
    // Dropped input that ended on a terminator leaves the next line whole.
    splitter.skipped(Buffer.from('noise\r\n'));
    splitter.write(Buffer.from('0003887558\r\n'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual(['0001217496', '0003887558']);
  });

  it('drops a partial line at the end', async () => {
    const { lines } = await split({ terminator: CRLF, maxLength: 64 }, ['0000123478']);
    expect(lines).toEqual([]);
  });

  it('refuses an empty terminator', () => {
    expect(() => new LineSplitter({ terminator: new Uint8Array(0), maxLength: 8 })).toThrow(RangeError);
  });
});
