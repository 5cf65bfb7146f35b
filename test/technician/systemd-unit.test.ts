/**
 * The unit file is checked with systemd's own tools: it must verify cleanly
 * and keep its exposure score at or below 2.5.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const unit = join(import.meta.dirname, '../../systemd/gatehouse.service');

describe('systemd/gatehouse.service', () => {
  it('passes systemd-analyze verify', async () => {
    const { stderr } = await run('systemd-analyze', ['verify', unit]);
    expect(stderr).toBe('');
  });

  it('has an exposure score of at most 2.5', async () => {
    const { stdout } = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]).catch(
      // systemd-analyze exits non-zero above its own threshold; the score is still printed.
      (e: { stdout: string }) => ({ stdout: e.stdout }),
    );
    const score = Number(/Overall exposure level for gatehouse\.service: ([\d.]+)/.exec(stdout)?.[1]);
    expect(score).toBeLessThanOrEqual(2.5);
  });
});
