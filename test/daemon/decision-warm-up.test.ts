/**
 * The gateway warms the decision path at start (AccessPipeline.warmUp) and
 * the warm-up leaves nothing behind; a warm-up that fails is only logged:
 * it is a speed-up, and must never keep the doors from starting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessPipeline } from '../../daemon/access/access-pipeline.js';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const body = `
guessing: { attempts: 2, lockoutS: 30 }
readers:
  - { id: front-in, driver: sim, mode: entry }
`;

describe('the decision warm-up at gateway start', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway | undefined;
  let log: ReturnType<typeof memoryLogger>;

  beforeEach(() => {
    dir = tempDir();
    log = memoryLogger('debug');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await gateway?.stop();
    gateway = undefined;
    dir.remove();
  });

  it('runs at start and journals, logs and counts nothing', async () => {
    const warmUp = vi.spyOn(AccessPipeline.prototype, 'warmUp');
    gateway = await Gateway.start(loadConfig(writeSite(dir.path, body)), log.logger, '0.0.0-test');
    expect(warmUp).toHaveBeenCalledTimes(1);
    expect(warmUp.mock.calls[0]?.[0].map((s) => s.id)).toEqual(['front-in']);
    expect(gateway.journal.recentOfType('access', 10)).toEqual([]);
    expect(log.lines.filter((l) => l.includes('access decision'))).toEqual([]);
    // Two wrong codes lock this reader out: had the warm-up's made-up code counted, this one would be the second.
    expect(gateway.simulate('keypad', '99999').decision.reason).toBe('unknown_credential');
    expect(gateway.simulate('keypad', demo.ada.pin).decision).toMatchObject({ outcome: 'granted', person: { id: demo.ada.id } });
  });

  it('is only logged when it fails, and the gateway starts and decides', async () => {
    vi.spyOn(AccessPipeline.prototype, 'warmUp').mockImplementation(() => {
      throw new Error('disk I/O error');
    });
    gateway = await Gateway.start(loadConfig(writeSite(dir.path, body)), log.logger, '0.0.0-test');
    expect(log.lines.some((l) => l.includes('decision warm-up failed') && l.includes('disk I/O error'))).toBe(true);
    expect(gateway.simulate('card', demo.ada.card).decision).toMatchObject({ outcome: 'granted', person: { id: demo.ada.id } });
  });
});
