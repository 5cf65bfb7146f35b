/**
 * Writes one part of a data set (a snapshot chunk's data, or a slice of a
 * data set file) into a staging generation, the same way on the staging
 * worker and on the event loop (in-memory databases):
 *   1. prepare: parse the JSON text, validate every record, hash and seal
 *      credentials, encode rows. CPU only, no lock: on the worker it runs
 *      straight through; on the event loop it is cut into slices.
 *   2. insert: the prepared rows, in transactions as short as the write
 *      pace says (a few ms on the worker, so the daemon's own writes never
 *      wait long for the lock; one slice on the event loop).
 * A part with an invalid record inserts nothing. Nothing staged is visible
 * to decisions until the generation is swapped in.
 */
import type { z } from 'zod';
import { newStageCounts, PreemptedError, type CacheWriter, type StageCounts, type StageRow } from '../store/cache-writer.js';
import type { Pace } from './cooperative.js';
import {
  doorRecordSchema,
  personRecordSchema,
  scheduleRecordSchema,
  siteSettingsSchema,
  type DoorRecord,
  type PersonRecord,
  type ScheduleRecord,
  type SiteSettings,
} from './dataset.js';
import { snapshotPartOutlineSchema } from './messages.js';

/** A record that does not match the data set schema, or clashes with one staged before (duplicate id). */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
}

export interface StagePartRequest {
  readonly gen: number;
  /** Stamped on every person as updated_at. */
  readonly at: number;
  /** JSON text of one part: { people?, doors?, schedules?, settings? }. */
  readonly data: string;
  /** True for records from the cloud; false for a slice of a data set that was validated already. */
  readonly validate: boolean;
  /** Settings were staged for this generation already: a second set is invalid. */
  readonly settingsTaken: boolean;
  /** Names the part in a refusal ("chunk 3"). */
  readonly label: string;
}

export type StagePartResult =
  | { readonly ok: true; readonly counts: StageCounts; readonly settings: boolean }
  | { readonly ok: false; readonly invalid: string };

/** The two paces of staging: preparing (CPU) and inserting (holds the write lock). */
export interface StagePaces {
  readonly prepare: Pace;
  readonly write: Pace;
}

/** Records of one part, checked only in outline (arrays of anything). */
interface PartRecords {
  readonly people: unknown[];
  readonly doors: unknown[];
  readonly schedules: unknown[];
  readonly settings?: unknown;
}

/** Where a record is and which id it claims; never its content. */
function describe(list: string, index: number, raw: unknown): string {
  const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string' ? ` (id ${JSON.stringify(raw.id.slice(0, 64))})` : '';
  return `${list}[${index}]${id}`;
}

const refusal = (text: string): StagePartResult => ({ ok: false, invalid: text.slice(0, 300) });

function parser<S extends z.ZodType>(schema: S, list: string): (raw: unknown, index: number) => z.infer<S> {
  return (raw, index) => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw new InvalidRecordError(`${describe(list, index, raw)}${path === '' ? '' : `.${path}`}: ${issue?.message ?? 'invalid'}`.slice(0, 300));
  };
}

interface Parsers {
  person: (raw: unknown, index: number) => PersonRecord;
  door: (raw: unknown, index: number) => DoorRecord;
  schedule: (raw: unknown, index: number) => ScheduleRecord;
  settings: (raw: unknown, index: number) => SiteSettings;
}

const validating: Parsers = {
  person: parser(personRecordSchema, 'people'),
  door: parser(doorRecordSchema, 'doors'),
  schedule: parser(scheduleRecordSchema, 'schedules'),
  settings: parser(siteSettingsSchema, 'settings'),
};
const trusted = <T>(raw: unknown): T => raw as T;
const trusting: Parsers = { person: trusted, door: trusted, schedule: trusted, settings: trusted };

/** Rows ready to insert, and for each the record it came from (named in the refusal of a duplicate id). */
interface Prepared {
  readonly rows: StageRow[];
  readonly sources: string[];
}

/** Stage one part; a refusal (invalid JSON, an invalid record, a duplicate id) is a result, other failures throw. */
export async function stagePartText(writer: CacheWriter, request: StagePartRequest, paces: StagePaces): Promise<StagePartResult> {
  const { label } = request;
  await paces.prepare.pause();
  let json: unknown;
  try {
    json = JSON.parse(request.data);
  } catch {
    return refusal(`${label}: data is not JSON`);
  }
  let part: PartRecords;
  if (request.validate) {
    const outline = snapshotPartOutlineSchema.safeParse(json);
    if (!outline.success) {
      const issue = outline.error.issues[0];
      return refusal(`${label}: data ${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    part = outline.data;
  } else {
    // Written by the engine from a data set that was validated already.
    part = json as PartRecords;
  }
  const counts = newStageCounts();
  try {
    const prepared = await prepare(writer, request, part, request.validate ? validating : trusting, counts, paces.prepare);
    await insert(writer, prepared, paces.write);
  } catch (error) {
    if (error instanceof InvalidRecordError) return refusal(`${label}: ${error.message}`);
    throw error;
  }
  return { ok: true, counts, settings: part.settings !== undefined };
}

async function prepare(writer: CacheWriter, request: StagePartRequest, part: PartRecords, parse: Parsers, counts: StageCounts, pace: Pace): Promise<Prepared> {
  const { gen, at } = request;
  const prepared: Prepared = { rows: [], sources: [] };
  const { rows, sources } = prepared;
  if (part.settings !== undefined) {
    const settings = parse.settings(part.settings, 0);
    if (request.settingsTaken) throw new InvalidRecordError('settings: a snapshot carries at most one set of settings');
    rows.push(writer.prepareSettings(gen, settings));
    sources.push('settings');
  }
  const lists: [string, unknown[], (raw: unknown, index: number) => void][] = [
    ['people', part.people, (raw, i) => writer.preparePerson(gen, parse.person(raw, i), at, counts, rows)],
    ['doors', part.doors, (raw, i) => rows.push(writer.prepareDoor(gen, parse.door(raw, i), counts))],
    ['schedules', part.schedules, (raw, i) => rows.push(writer.prepareSchedule(gen, parse.schedule(raw, i), counts))],
  ];
  for (const [list, items, put] of lists) {
    for (let i = 0; i < items.length; i++) {
      if (pace.spent) await pace.pause();
      const raw = items[i];
      put(raw, i);
      const source = describe(list, i, raw);
      while (sources.length < rows.length) sources.push(source);
      // Done with: the record dies young instead of being copied by every
      // garbage collection until the whole part is done.
      items[i] = undefined;
    }
  }
  return prepared;
}

async function insert(writer: CacheWriter, prepared: Prepared, pace: Pace): Promise<void> {
  const { rows, sources } = prepared;
  let i = 0;
  while (i < rows.length) {
    await pace.pause();
    const from = i;
    try {
      writer.batch(() => {
        do {
          try {
            writer.insert(rows[i] as StageRow);
          } catch (error) {
            if (isConstraintError(error)) throw new InvalidRecordError(`${sources[i] ?? `row ${i}`}: ${error.message}`.slice(0, 300));
            throw error;
          }
          i++;
        } while (i < rows.length && !pace.spent);
      });
    } catch (error) {
      if (!(error instanceof PreemptedError)) throw error;
      // Rolled back for the daemon's write: the same rows again, after it.
      i = from;
    }
  }
}

/** A duplicate id (primary key) or a value the table refuses; SQLite names columns, never values. */
function isConstraintError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT');
}
