/** A reload's new log level must reach child loggers created before it (pino copies the level at creation). */
import { describe, expect, it } from 'vitest';
import { createLogger, setLogLevel } from '../../daemon/runtime/logger.js';

describe('setLogLevel', () => {
  it('changes the level of the root, its children and grandchildren', () => {
    const lines: string[] = [];
    const root = createLogger('info', { write: (line: string) => lines.push(line) });
    const child = root.child({ component: 'outbox' });
    const grandchild = child.child({ door: 'front' });
    grandchild.debug('hidden');
    setLogLevel(root, 'debug');
    child.debug('child debug');
    grandchild.debug('grandchild debug');
    root.child({ component: 'late' }).debug('late debug');
    setLogLevel(root, 'warn');
    grandchild.info('hidden again');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['child debug', 'grandchild debug', 'late debug']);
  });
});
