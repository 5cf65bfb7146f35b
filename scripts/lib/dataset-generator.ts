/**
 * Synthetic data sets of any size, for benchmarks, load tests and demos:
 * staff (always allowed), members on plans with monthly hour limits,
 * contacts with time passes or day passes, suspended members, and visitors
 * with codes and expected arrivals.
 *
 * Deterministic: the same seed and `now` give the same data set, byte for
 * byte. Cards are unique; PINs and visitor codes share one pool (they are
 * typed on the same keypads), so no PIN ever equals a visitor code and no
 * two people share a PIN.
 */
import { datasetSchema, type Dataset, type DatasetInput } from '../../daemon/sync/dataset.js';

export interface GeneratorOptions {
  readonly people: number;
  readonly seed?: number;
  readonly version?: number;
  /** Validity windows are placed around this instant. Default: today 00:00 UTC. */
  readonly now?: Date;
}

type PersonInput = DatasetInput['people'][number];

/** mulberry32: small, fast, good enough to spread test data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Katherine', 'Vera', 'Linus', 'Margaret', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Dennis', 'Radia', 'Ken', 'Hedy', 'John'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Rubin', 'Torvalds', 'Hamilton', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Ritchie', 'Perlman', 'Thompson', 'Lamarr', 'Backus'];
const DAY = 86_400_000;

export function generateDataset(options: GeneratorOptions): Dataset {
  const n = options.people;
  const rnd = random(options.seed ?? 1);
  const now = options.now ?? new Date(Math.floor(Date.now() / DAY) * DAY);
  const at = (offsetDays: number): string => new Date(now.getTime() + Math.round(offsetDays * DAY)).toISOString();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;

  // Codes: one pool for PINs and visitor codes, at least 5 digits, sparse enough that random draws rarely collide.
  const digits = Math.max(5, Math.ceil(Math.log10(Math.max(10, n * 4))));
  const codeSpace = 10 ** digits;
  const codes = new Set<number>();
  const code = (): string => {
    for (;;) {
      const c = Math.floor(rnd() * codeSpace);
      if (!codes.has(c)) {
        codes.add(c);
        return String(c).padStart(digits, '0');
      }
    }
  };
  const cards = new Set<number>();
  const card = (): string => {
    for (;;) {
      // A 32-bit tag number, printed as 10 decimal digits (cardFormat decimal10).
      const c = 1 + Math.floor(rnd() * 0xfffffffe);
      if (!cards.has(c)) {
        cards.add(c);
        return String(c).padStart(10, '0');
      }
    }
  };

  const people: PersonInput[] = [];
  const memberIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    if (r < 0.02) {
      const id = `s-${i}`;
      people.push({
        id,
        kind: 'member',
        name,
        status: 'active',
        alwaysAllowed: true,
        credentials: [
          { id: `${id}-card`, kind: 'card', value: card() },
          { id: `${id}-card2`, kind: 'card', value: card() },
          { id: `${id}-pin`, kind: 'pin', value: code() },
        ],
        entitlements: [{ id: `${id}-plan`, kind: 'plan', name: 'Staff', validFrom: at(-365) }],
      });
    } else if (r < 0.6) {
      const id = `m-${i}`;
      memberIds.push(id);
      const suspended = rnd() < 0.05;
      people.push({
        id,
        kind: 'member',
        name,
        status: suspended ? 'suspended' : 'active',
        credentials: [
          ...(rnd() < 0.95 ? [{ id: `${id}-card`, kind: 'card' as const, value: card() }] : []),
          // A second fob: a replacement, or one for a locker.
          ...(rnd() < 0.2 ? [{ id: `${id}-card2`, kind: 'card' as const, value: card(), status: rnd() < 0.5 ? ('revoked' as const) : ('active' as const) }] : []),
          ...(rnd() < 0.95 ? [{ id: `${id}-pin`, kind: 'pin' as const, value: code() }] : []),
        ],
        entitlements: [
          {
            id: `${id}-plan`,
            kind: 'plan',
            name: pick(['Full-time desk', 'Part-time', 'Flex 40', 'Flex 80']),
            validFrom: at(-Math.floor(rnd() * 700)),
            monthlyHours: pick([null, null, 40, 80, 160]),
          },
        ],
      });
    } else if (r < 0.85) {
      const id = `c-${i}`;
      const timePass = rnd() < 0.6;
      people.push({
        id,
        kind: 'contact',
        name,
        status: 'active',
        credentials: [
          ...(rnd() < 0.8 ? [{ id: `${id}-card`, kind: 'card' as const, value: card() }] : []),
          { id: `${id}-pin`, kind: 'pin', value: code() },
        ],
        entitlements: timePass
          ? [{ id: `${id}-tp`, kind: 'time_pass', name: '10-hour pass', validFrom: at(-30), validTo: at(335), minutesLeft: Math.floor(rnd() * 601) }]
          : [{ id: `${id}-dp`, kind: 'day_pass', name: 'Day pass', validFrom: at(Math.floor(rnd() * 5) - 2), validTo: at(Math.floor(rnd() * 5) - 1) }],
      });
    } else {
      const id = `v-${i}`;
      const arrival = at(Math.floor(rnd() * 14) - 7 + 0.375);
      people.push({
        id,
        kind: 'visitor',
        name,
        status: 'active',
        hostId: memberIds.length === 0 ? null : pick(memberIds),
        expectedArrival: arrival,
        credentials: [{ id: `${id}-code`, kind: 'visitor_code', value: code() }],
        entitlements: [{ id: `${id}-token`, kind: 'visitor_token', name: 'Visitor access', validFrom: at(-1), validTo: at(14) }],
      });
    }
  }
  return datasetSchema.parse({
    schema: 'gatehouse.dataset/1',
    version: options.version ?? 1,
    settings: { visitorTokenMinutes: 8 * 60, visitorTokenStart: 'first-checkin', deviceLimit: 2, dailyCutoff: '23:00' },
    doors: [{ id: 'front', name: 'Front door', schedule: 'office-hours' }],
    schedules: [
      {
        id: 'office-hours',
        name: 'Office hours',
        weekly: { mon: ['07:00-22:00'], tue: ['07:00-22:00'], wed: ['07:00-22:00'], thu: ['07:00-22:00'], fri: ['07:00-22:00'], sat: ['09:00-18:00'], sun: [] },
      },
    ],
    people,
  });
}
