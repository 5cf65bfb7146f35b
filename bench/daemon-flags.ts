/**
 * The Node flags the daemon runs with at a site: read from the ExecStart line
 * of systemd/gatehouse.service, so the benchmark measures the daemon as it is
 * deployed and cannot drift from the unit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const UNIT = join(import.meta.dirname, '../systemd/gatehouse.service');

/** The options between `node` and the script in ExecStart, e.g. ['--max-semi-space-size=2', '--v8-pool-size=1']. */
export function deployedNodeFlags(unit: string = readFileSync(UNIT, 'utf8')): string[] {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (line === undefined) throw new Error(`${UNIT} has no ExecStart line`);
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  const script = words.findIndex((w) => w.endsWith('/main.js'));
  if (script < 1) throw new Error(`ExecStart does not run main.js with node: ${line}`);
  return words.slice(1, script);
}
