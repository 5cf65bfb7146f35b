/**
 * Door events (alarms, REX, mode changes, input faults) into the journal, as
 * `gatehouse.door/1` on events/door: numbered, stored and delivered exactly
 * like access events. One journal append is one SQLite transaction.
 */
import type { Journal, JournalEntry } from '../store/journal.js';
import type { Logger } from '../runtime/logger.js';
import type { DoorEvent } from '../uplink/payloads.js';
import type { DoorAlarm, DoorEventKind, DoorMode } from './door-state-machine.js';

export interface DoorEventRecord {
  readonly doorId: string;
  readonly kind: DoorEventKind;
  readonly mode: DoorMode;
  readonly alarm: DoorAlarm | null;
  readonly input: 'contact' | 'rex' | null;
  readonly openMs: number | null;
  /** Epoch ms. */
  readonly at: number;
}

export type DoorEventSink = (record: DoorEventRecord) => void;

export interface DoorEventJournal {
  readonly sink: DoorEventSink;
  /** Events that could not be journaled (reported, never thrown at the door). */
  readonly failures: () => number;
}

export function journalDoorEvents(options: {
  readonly journal: Journal;
  readonly topic: string;
  readonly siteId: string;
  readonly gatewayId: string;
  readonly logger: Logger;
}): DoorEventJournal {
  let failures = 0;
  const sink: DoorEventSink = (record) => {
    let entry: JournalEntry | null = null;
    try {
      entry = options.journal.append('door', options.topic, record.at, (stamp): DoorEvent => ({
        schema: 'gatehouse.door/1',
        eventId: stamp.eventId,
        bootId: stamp.bootId,
        seq: stamp.seq,
        ts: new Date(record.at).toISOString(),
        siteId: options.siteId,
        gatewayId: options.gatewayId,
        doorId: record.doorId,
        event: record.kind,
        mode: record.mode,
        alarm: record.alarm,
        input: record.input,
        openS: record.openMs === null ? null : Math.floor(record.openMs / 1000),
      }));
    } catch (error) {
      failures += 1;
      options.logger.error({ err: error, door: record.doorId, event: record.kind }, 'could not journal a door event');
    }
    const level = record.kind === 'forced-open' || record.kind === 'held-open' || record.kind === 'input-fault' ? 'warn' : 'info';
    options.logger[level]({ door: record.doorId, event: record.kind, alarm: record.alarm, input: record.input, mode: record.mode, seq: entry?.seq ?? null }, 'door event');
  };
  return { sink, failures: () => failures };
}
