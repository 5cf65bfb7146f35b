import type { DriverLogger } from '../../../drivers/serial/logger.js';
import type { PresentedCredential } from '../../../drivers/types.js';

/** Records log lines as JSON so tests can prove no credential reaches the log. */
export function capturingLogger(lines: string[]): DriverLogger {
  const record = (level: string) => (fields: object, message: string) => {
    lines.push(JSON.stringify({ level, ...fields, message }));
  };
  return { debug: record('debug'), info: record('info'), warn: record('warn') };
}

export function cardNumbers(reads: readonly PresentedCredential[]): string[] {
  return reads.map((read) => (read.kind === 'card' ? read.number.reveal() : `unexpected ${read.kind}`));
}
