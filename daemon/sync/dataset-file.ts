/** Reading a data set from a JSON file (seed file, offline bootstrap). */
import { readFileSync } from 'node:fs';
import { datasetSchema, type Dataset } from './dataset.js';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

export function readDatasetFile(path: string): Dataset {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DatasetError(`${path}: ${error instanceof SyntaxError ? `not valid JSON: ${error.message}` : String(error)}`);
  }
  const parsed = datasetSchema.safeParse(json);
  if (!parsed.success) {
    // Name the path of each problem, never the offending value: it may be a PIN.
    const problems = parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new DatasetError(`${path}: invalid data set\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
