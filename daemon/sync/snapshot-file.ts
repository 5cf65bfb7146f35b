/**
 * Snapshot files: the format `gatehouse sync import` and `store.seedFile`
 * read. One signed chunk envelope per line (JSON Lines), in chunk order,
 * exactly as the chunks travel on `sync/snapshot`; a one-chunk snapshot is a
 * one-line file. Lines are read one at a time, so a 100,000-person file is
 * never parsed in one piece.
 *
 * A seed file may instead be a plain, unsigned `gatehouse.dataset/1` JSON
 * file: the file is local configuration, as trusted as the YAML naming it.
 */
import { createReadStream } from 'node:fs';
import { SIGNED_SCHEMA } from '../cloud/signed-message.js';
import { SyncRejectedError } from './sync-engine.js';

/** The lines of a file, each at most `maxLineBytes` (a longer one is refused as oversized, not buffered). */
export async function* readLines(path: string, maxLineBytes: number): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const block of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = block.indexOf(0x0a, start); nl >= 0; nl = block.indexOf(0x0a, start)) {
      const line = Buffer.concat([...pending, block.subarray(start, nl)]);
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
      if (line.length > maxLineBytes) throw new SyncRejectedError('oversized', `a line of ${path} has ${line.length} bytes > ${maxLineBytes}`);
      yield line.toString('utf8');
    }
    pending.push(block.subarray(start));
    pendingBytes += block.length - start;
    if (pendingBytes > maxLineBytes) throw new SyncRejectedError('oversized', `a line of ${path} is longer than ${maxLineBytes} bytes`);
  }
  if (pendingBytes > 0) yield Buffer.concat(pending).toString('utf8');
}

/** Whether a file is a signed snapshot (its first line is a signed envelope) or anything else (a plain data set). */
export async function isSignedSnapshotFile(path: string, maxLineBytes: number): Promise<boolean> {
  for await (const line of readLines(path, maxLineBytes)) {
    if (line.trim() === '') continue;
    try {
      const first: unknown = JSON.parse(line);
      return typeof first === 'object' && first !== null && 'schema' in first && first.schema === SIGNED_SCHEMA;
    } catch {
      // A pretty-printed data set: its first line alone is not JSON.
      return false;
    }
  }
  return false;
}
