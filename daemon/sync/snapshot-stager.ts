/**
 * Writes the records of a data set (or of one snapshot chunk) into a staging
 * generation, validating each record as it goes, in batches that each fit a
 * time slice, yielding to the event loop between batches. Nothing staged is
 * visible to decisions until the generation is swapped in.
 */
import type { z } from 'zod';
import type { CacheWriter, StageCounts } from '../store/cache-writer.js';
import type { Slicer } from './cooperative.js';
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

/** A record that does not match the data set schema, or clashes with one staged before (duplicate id). */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
}

/** Records of one part, checked only in outline (arrays of anything) or already parsed. */
export interface PartRecords {
  readonly people: unknown[];
  readonly doors: unknown[];
  readonly schedules: unknown[];
  readonly settings?: unknown;
}

export interface StageTarget {
  readonly writer: CacheWriter;
  readonly gen: number;
  readonly at: number;
  readonly counts: StageCounts;
  readonly slicer: Slicer;
  /** False when settings were already staged for this generation (a second set is an error). */
  readonly claimSettings: () => boolean;
}

/** Where a record is and which id it claims; never its content. */
function describe(list: string, index: number, raw: unknown): string {
  const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string' ? ` (id ${JSON.stringify(raw.id.slice(0, 64))})` : '';
  return `${list}[${index}]${id}`;
}

function parser<S extends z.ZodType>(schema: S, list: string): (raw: unknown, index: number) => z.infer<S> {
  return (raw, index) => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw new InvalidRecordError(`${describe(list, index, raw)}${path === '' ? '' : `.${path}`}: ${issue?.message ?? 'invalid'}`.slice(0, 300));
  };
}

const parsePerson = parser(personRecordSchema, 'people');
const parseDoor = parser(doorRecordSchema, 'doors');
const parseSchedule = parser(scheduleRecordSchema, 'schedules');
const parseSettings = parser(siteSettingsSchema, 'settings');

const trusted = <T>(raw: unknown): T => raw as T;

/**
 * Stage a part, validating every record (records from the cloud). The part is
 * consumed: each record is dropped from its array once staged, so it dies
 * young instead of being copied by every garbage collection until the whole
 * chunk is done (those copies are event-loop pauses too).
 */
export function stagePart(target: StageTarget, part: PartRecords): Promise<void> {
  return stage(target, part, { person: parsePerson, door: parseDoor, schedule: parseSchedule, settings: parseSettings }, true);
}

/** Stage records that were validated already (a parsed data set file). */
export function stageParsed(
  target: StageTarget,
  part: { people: readonly PersonRecord[]; doors: readonly DoorRecord[]; schedules: readonly ScheduleRecord[]; settings: SiteSettings },
): Promise<void> {
  return stage(target, { ...part, people: part.people as unknown[], doors: part.doors as unknown[], schedules: part.schedules as unknown[] }, { person: trusted, door: trusted, schedule: trusted, settings: trusted }, false);
}

interface Parsers {
  person: (raw: unknown, index: number) => PersonRecord;
  door: (raw: unknown, index: number) => DoorRecord;
  schedule: (raw: unknown, index: number) => ScheduleRecord;
  settings: (raw: unknown, index: number) => SiteSettings;
}

async function stage(target: StageTarget, part: PartRecords, parse: Parsers, consume: boolean): Promise<void> {
  const { writer, gen, at, counts } = target;
  if (part.settings !== undefined) {
    const settings = parse.settings(part.settings, 0);
    if (!target.claimSettings()) throw new InvalidRecordError('settings: a snapshot carries at most one set of settings');
    writer.batch(() => writer.stageSettings(gen, settings));
  }
  await stageList(target, 'people', part.people, consume, (raw, i) => writer.stagePerson(gen, parse.person(raw, i), at, counts));
  await stageList(target, 'doors', part.doors, consume, (raw, i) => writer.stageDoor(gen, parse.door(raw, i), counts));
  await stageList(target, 'schedules', part.schedules, consume, (raw, i) => writer.stageSchedule(gen, parse.schedule(raw, i), counts));
}

async function stageList(target: StageTarget, list: string, items: unknown[], consume: boolean, put: (raw: unknown, index: number) => void): Promise<void> {
  const { writer, slicer } = target;
  let i = 0;
  while (i < items.length) {
    if (slicer.spent) await slicer.yield();
    writer.batch(() => {
      do {
        try {
          put(items[i], i);
        } catch (error) {
          if (isConstraintError(error)) throw new InvalidRecordError(`${describe(list, i, items[i])}: ${error.message}`.slice(0, 300));
          throw error;
        }
        if (consume) items[i] = undefined;
        i++;
      } while (i < items.length && !slicer.spent);
    });
  }
}

/** A duplicate id (primary key) or a value the table refuses; SQLite names columns, never values. */
function isConstraintError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT');
}
