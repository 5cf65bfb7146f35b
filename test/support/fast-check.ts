/**
 * Property tests run with a fixed seed so CI is reproducible; set FC_SEED to
 * explore other seeds and FC_RUNS to run longer (npm run fuzz).
 */
export const FC_SEED = Number(process.env.FC_SEED ?? 20261122);

export function fcOptions(numRuns: number): { seed: number; numRuns: number } {
  const scale = Number(process.env.FC_RUNS_SCALE ?? 1);
  return { seed: FC_SEED, numRuns: Math.max(1, Math.round(numRuns * scale)) };
}
