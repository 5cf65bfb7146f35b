/**
 * The simulated cloud's copy of a site's data set: versioned, changed by the
 * same delta operations the gateway applies, so a snapshot cut after a few
 * deltas equals what the gateway holds after applying them.
 */
import { datasetSchema, type Dataset, type DoorRecord, type PersonRecord, type ScheduleRecord, type SiteSettings } from '../../daemon/sync/dataset.js';
import type { DeltaOp } from '../../daemon/sync/messages.js';

export class CloudDataset {
  version: number;
  settings: SiteSettings;
  readonly people = new Map<string, PersonRecord>();
  readonly doors = new Map<string, DoorRecord>();
  readonly schedules = new Map<string, ScheduleRecord>();

  constructor(dataset: Dataset) {
    this.version = dataset.version;
    this.settings = dataset.settings;
    for (const p of dataset.people) this.people.set(p.id, p);
    for (const d of dataset.doors) this.doors.set(d.id, d);
    for (const s of dataset.schedules) this.schedules.set(s.id, s);
  }

  toDataset(): Dataset {
    return datasetSchema.parse({
      schema: 'gatehouse.dataset/1',
      version: this.version,
      settings: this.settings,
      doors: [...this.doors.values()],
      schedules: [...this.schedules.values()],
      people: [...this.people.values()],
    });
  }

  /** The person owning a credential id, if any. */
  ownerOf(credentialId: string): PersonRecord | undefined {
    return [...this.people.values()].find((p) => p.credentials.some((c) => c.id === credentialId));
  }

  /** Apply operations as the gateway does (throws on what the gateway would call a conflict). */
  apply(ops: readonly DeltaOp[]): void {
    for (const op of ops) {
      switch (op.op) {
        case 'person.upsert':
          this.people.set(op.person.id, op.person);
          break;
        case 'person.delete':
          this.#must(this.people.delete(op.id), 'person', op.id);
          break;
        case 'credential.upsert': {
          const person = this.#person(op.personId);
          for (const p of this.people.values()) this.people.set(p.id, { ...p, credentials: p.credentials.filter((c) => c.id !== op.credential.id) });
          this.people.set(person.id, { ...this.#person(person.id), credentials: [...this.#person(person.id).credentials, op.credential] });
          break;
        }
        case 'credential.delete': {
          const owner = this.ownerOf(op.id);
          this.#must(owner !== undefined, 'credential', op.id);
          if (owner) this.people.set(owner.id, { ...owner, credentials: owner.credentials.filter((c) => c.id !== op.id) });
          break;
        }
        case 'entitlement.upsert': {
          this.#person(op.personId);
          for (const p of this.people.values()) this.people.set(p.id, { ...p, entitlements: p.entitlements.filter((e) => e.id !== op.entitlement.id) });
          const person = this.#person(op.personId);
          this.people.set(person.id, { ...person, entitlements: [...person.entitlements, op.entitlement] });
          break;
        }
        case 'entitlement.delete': {
          const owner = [...this.people.values()].find((p) => p.entitlements.some((e) => e.id === op.id));
          this.#must(owner !== undefined, 'entitlement', op.id);
          if (owner) this.people.set(owner.id, { ...owner, entitlements: owner.entitlements.filter((e) => e.id !== op.id) });
          break;
        }
        case 'door.upsert':
          this.doors.set(op.door.id, op.door);
          break;
        case 'door.delete':
          this.#must(this.doors.delete(op.id), 'door', op.id);
          break;
        case 'schedule.upsert':
          this.schedules.set(op.schedule.id, op.schedule);
          break;
        case 'schedule.delete':
          this.#must(this.schedules.delete(op.id), 'schedule', op.id);
          break;
        case 'settings.set':
          this.settings = op.settings;
          break;
      }
    }
  }

  #person(id: string): PersonRecord {
    const person = this.people.get(id);
    if (person === undefined) throw new Error(`no person "${id}"`);
    return person;
  }

  #must(ok: boolean, what: string, id: string): void {
    if (!ok) throw new Error(`no ${what} "${id}"`);
  }
}
