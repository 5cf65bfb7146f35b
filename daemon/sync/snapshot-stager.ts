/**
 * Writes one part of a data set (a snapshot chunk's data, or a slice of a
 * data set file) into a staging generation, in two steps:
 *   1. prepare: parse the JSON text, validate every record, hash and seal
 *      credentials, encode rows. CPU only, no lock.
 *   2. insert: the prepared rows.
 * On the staging worker, stage-queue.ts runs the two for a queue of parts,
 * into the file of the generation being built (generation-build.ts); a
 * part with an invalid record ends that generation. On the event loop (an
 * in-memory store) stagePartText() runs them for one part at a time, in
 * slices of short transactions, and a part with an invalid record inserts
 * nothing. Nothing staged is visible to decisions until the generation is
 * put in force.
 */
import type { z } from 'zod';
import { newStageCounts, type CacheWriter, type StageCounts, type StageRow } from '../store/cache-writer.js';
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
  /** Names the part in a refusal ("chunk 3"). */
  readonly label: string;
}

export type Refusal = { readonly ok: false; readonly invalid: string };

export type StagePartResult = { readonly ok: true; readonly counts: StageCounts } | Refusal;

/** A part's rows, ready to insert, and for each the record it came from (named in the refusal of a duplicate id). */
export interface PreparedPart {
  readonly rows: readonly StageRow[];
  readonly sources: readonly string[];
  readonly counts: StageCounts;
  /** Whether the part carries the settings. */
  readonly settings: boolean;
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

export const refusal = (text: string): Refusal => ({ ok: false, invalid: text.slice(0, 300) });

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

/**
 * Parse, validate and turn one part into rows; a refusal when the text or
 * a record is invalid. `settingsTaken`: settings were staged for the
 * generation already (a second set is invalid).
 */
export async function preparePart(writer: CacheWriter, request: StagePartRequest, settingsTaken: boolean, pace: Pace): Promise<PreparedPart | Refusal> {
  const { label } = request;
  await pace.pause();
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
    // Written by the engine from a data set that was validated already; lists it has none of are left out.
    const given = json as Partial<PartRecords>;
    part = { people: given.people ?? [], doors: given.doors ?? [], schedules: given.schedules ?? [], settings: given.settings };
  }
  try {
    return await prepareRecords(writer, request, part, request.validate ? validating : trusting, settingsTaken, pace);
  } catch (error) {
    if (error instanceof InvalidRecordError) return refusal(`${label}: ${error.message}`);
    throw error;
  }
}

async function prepareRecords(writer: CacheWriter, request: StagePartRequest, part: PartRecords, parse: Parsers, settingsTaken: boolean, pace: Pace): Promise<PreparedPart> {
  const { gen, at } = request;
  const rows: StageRow[] = [];
  const sources: string[] = [];
  const counts = newStageCounts();
  if (part.settings !== undefined) {
    const settings = parse.settings(part.settings, 0);
    if (settingsTaken) throw new InvalidRecordError('settings: a snapshot carries at most one set of settings');
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
  return { rows, sources, counts, settings: part.settings !== undefined };
}

/** Insert row `i` of a part (inside batch()); a duplicate id or a refused value is an InvalidRecordError naming its record. */
export function insertRow(writer: CacheWriter, part: PreparedPart, i: number): void {
  try {
    writer.insert(part.rows[i] as StageRow);
  } catch (error) {
    if (isConstraintError(error)) throw new InvalidRecordError(`${part.sources[i] ?? `row ${i}`}: ${error.message}`.slice(0, 300));
    throw error;
  }
}

/** Stage one part on this thread, in slices of `slicer` (the in-memory database's way; the worker's is stage-queue.ts). */
export async function stagePartText(writer: CacheWriter, request: StagePartRequest, slicer: Pace): Promise<StagePartResult> {
  const prepared = await preparePart(writer, request, writer.hasSettings(request.gen), slicer);
  if ('invalid' in prepared) return prepared;
  let i = 0;
  try {
    while (i < prepared.rows.length) {
      await slicer.pause();
      writer.batch(() => {
        do {
          insertRow(writer, prepared, i);
          i++;
        } while (i < prepared.rows.length && !slicer.spent);
      });
    }
  } catch (error) {
    if (error instanceof InvalidRecordError) return refusal(`${request.label}: ${error.message}`);
    throw error;
  }
  return { ok: true, counts: prepared.counts };
}

/** A duplicate id (primary key) or a value the table refuses; SQLite names columns, never values. */
function isConstraintError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT');
}
