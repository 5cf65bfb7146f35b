/**
 * Writes a complete site (config, secrets, data set) into a temp dir for
 * daemon-level tests, from the same demo data set the README uses.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../../daemon/runtime/logger.js';

export const DEMO_DATASET = join(import.meta.dirname, '../../config/demo-dataset.json');
export const TEST_SITE_KEY = Buffer.alloc(32, 42).toString('base64');

/** Demo people (see config/demo-dataset.json). */
export const demo = {
  ada: { id: 'm-1001', card: '0004614867', pin: '24680' },
  grace: { id: 'm-1002', card: '0003887558', pin: '13579' },
  alanNoPass: { id: 'm-1003', card: '0009357203', pin: '11235' },
  katherineSuspended: { id: 'm-1004', card: '0001217496' },
  veraVisitor: { id: 'v-2001', code: '57721' },
} as const;

export function writeSite(dir: string, body: string, options: { secrets?: string; logLevel?: string } = {}): string {
  copyFileSync(DEMO_DATASET, join(dir, 'dataset.json'));
  writeFileSync(join(dir, 'secrets.yaml'), `siteKey: ${TEST_SITE_KEY}\n${options.secrets ?? ''}`, { mode: 0o600 });
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(
    path,
    `site: { id: test, timezone: Europe/London }
gateway: { id: gw1 }
secretsFile: secrets.yaml
store: { path: gatehouse.db, seedFile: dataset.json }
control: { socket: control.sock }
log: { level: ${options.logLevel ?? 'warn'} }
${body}`,
  );
  return path;
}

/** A logger that keeps its JSON lines in memory (for asserting that secrets never appear). */
export function memoryLogger(level: pino.LevelWithSilent = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}
