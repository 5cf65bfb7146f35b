/**
 * Property tests run with a fixed seed so CI is reproducible; set FC_SEED to
 * explore other seeds and FC_RUNS_SCALE to run longer (npm run fuzz).
 * FC_TALLY names a file each property appends its run count to, so a long
 * run can say how many cases it tried (one line per property).
 */
import { appendFileSync } from 'node:fs';

export const FC_SEED = Number(process.env.FC_SEED ?? 20261122);

export function fcOptions(numRuns: number): { seed: number; numRuns: number } {
  const scale = Number(process.env.FC_RUNS_SCALE ?? 1);
  const runs = Math.max(1, Math.round(numRuns * scale));
  if (process.env.FC_TALLY !== undefined) appendFileSync(process.env.FC_TALLY, `${runs}\n`);
  return { seed: FC_SEED, numRuns: runs };
}
