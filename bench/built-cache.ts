/**
 * A data set put in force the way a site gets one: built into a generation
 * file of its own (generation-build.ts, what the staging worker runs) and
 * swapped in (cache-files.ts). The benches measure the cache a site has,
 * not one grown row by row (CredentialCache.applySnapshot, for small sets),
 * whose indexes are larger and less ordered.
 */
import { swapTo, generationPath } from '../daemon/store/cache-files.js';
import { newStageCounts } from '../daemon/store/cache-writer.js';
import type { CredentialCache } from '../daemon/store/cache.js';
import type { CredentialHasher } from '../daemon/store/credential-hash.js';
import type { Dataset } from '../daemon/sync/dataset.js';
import { GenerationBuild } from '../daemon/sync/generation-build.js';

export function putInForceBuilt(cache: CredentialCache, hasher: CredentialHasher, dataset: Dataset, at: number): void {
  const gen = cache.writer.allocateGeneration();
  const build = new GenerationBuild(generationPath(cache.db.name, gen), gen, hasher);
  const counts = newStageCounts();
  for (const person of dataset.people) build.writer.stagePerson(gen, person, at, counts);
  for (const door of dataset.doors) build.writer.stageDoor(gen, door, counts);
  for (const schedule of dataset.schedules) build.writer.stageSchedule(gen, schedule, counts);
  build.seal({ version: dataset.version, syncedAt: at, source: 'import', snapshotId: null, checksum: null, issuedAt: null }, dataset.settings);
  swapTo(cache.db, gen);
}
