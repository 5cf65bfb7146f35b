/**
 * The gateway's Prometheus metrics, derived from the same status report as
 * `gatehouse status` plus the counters only a long-running process has
 * (decisions since start, event-loop delay).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AccessResult } from '../access/access-pipeline.js';
import type { GatewayStatusReport } from '../runtime/gateway.js';
import type { MetricFamily } from './prometheus-text.js';

/** Counts decisions by outcome and reason. */
export class DecisionCounters {
  readonly #byReason = new Map<string, { outcome: string; reason: string; count: number }>();

  record(result: AccessResult): void {
    const { outcome, reason } = result.decision;
    const key = `${outcome}\u0000${reason}`;
    const entry = this.#byReason.get(key) ?? { outcome, reason, count: 0 };
    entry.count++;
    this.#byReason.set(key, entry);
  }

  families(): MetricFamily[] {
    return [
      {
        name: 'gatehouse_decisions_total',
        help: 'Access decisions since start, by outcome and reason.',
        type: 'counter',
        samples: [...this.#byReason.values()].map((e) => ({ labels: { outcome: e.outcome, reason: e.reason }, value: e.count })),
      },
    ];
  }
}

/**
 * How long a read took from the credential reaching the pipeline to the door
 * command being issued (lookup and decision; the journal write comes after
 * and is not in it), as a Prometheus histogram.
 */
export class DecisionLatency {
  static readonly BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25] as const;
  readonly #counts = DecisionLatency.BUCKETS_S.map(() => 0);
  #sum = 0;
  #count = 0;

  record(result: AccessResult): void {
    if (result.latencyMs === null) return;
    const seconds = result.latencyMs / 1000;
    this.#sum += seconds;
    this.#count++;
    DecisionLatency.BUCKETS_S.forEach((le, i) => {
      if (seconds <= le) this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    });
  }

  families(): MetricFamily[] {
    return [
      {
        name: 'gatehouse_decision_latency_seconds',
        help: 'From a credential reaching the access pipeline to the door command being issued.',
        type: 'histogram',
        samples: [
          ...DecisionLatency.BUCKETS_S.map((le, i) => ({ suffix: '_bucket' as const, labels: { le: String(le) }, value: this.#counts[i] ?? 0 })),
          { suffix: '_bucket', labels: { le: '+Inf' }, value: this.#count },
          { suffix: '_sum', value: this.#sum },
          { suffix: '_count', value: this.#count },
        ],
      },
    ];
  }
}

/** Event-loop delay, sampled by Node itself (no timer of ours to skew it). */
export class LoopDelay {
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.#histogram.enable();
  }

  families(): MetricFamily[] {
    const h = this.#histogram;
    const seconds = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
    return [
      {
        name: 'gatehouse_event_loop_delay_seconds',
        help: 'Event-loop delay since start: p50, p99 and max.',
        type: 'gauge',
        samples: [
          { labels: { quantile: '0.5' }, value: seconds(h.percentile(50)) },
          { labels: { quantile: '0.99' }, value: seconds(h.percentile(99)) },
          { labels: { quantile: '1' }, value: seconds(h.max) },
        ],
      },
    ];
  }

  stop(): void {
    this.#histogram.disable();
  }
}

const deviceStates = ['starting', 'online', 'offline', 'stopped'] as const;

export function statusFamilies(status: GatewayStatusReport, now: number): MetricFamily[] {
  const devices = [
    ...status.doors.map((d) => ({ kind: 'relay', id: d.id, device: d.relay })),
    ...status.readers.map((r) => ({ kind: 'reader', id: r.id, device: r.device })),
  ];
  const uplink = status.uplink;
  return [
    {
      name: 'gatehouse_info',
      help: 'Constant 1, labelled with the build and identity.',
      type: 'gauge',
      samples: [{ labels: { version: status.gateway.version, site: status.gateway.siteId, gateway: status.gateway.id }, value: 1 }],
    },
    { name: 'gatehouse_uptime_seconds', help: 'Seconds since the daemon started.', type: 'gauge', samples: [{ value: Math.max(0, (now - Date.parse(status.gateway.startedAt)) / 1000) }] },
    { name: 'gatehouse_outbox_pending', help: 'Journal events not yet delivered.', type: 'gauge', samples: [{ value: status.journal.pending }] },
    {
      name: 'gatehouse_outbox_oldest_age_seconds',
      help: 'Age of the oldest undelivered event; 0 when none.',
      type: 'gauge',
      samples: [{ value: status.journal.oldestPendingAt === null ? 0 : Math.max(0, (now - Date.parse(status.journal.oldestPendingAt)) / 1000) }],
    },
    { name: 'gatehouse_journal_write_failures_total', help: 'Decisions whose journal write failed.', type: 'counter', samples: [{ value: status.journal.writeFailures }] },
    {
      name: 'gatehouse_mqtt_connected',
      help: '1 while connected to the broker; 0 otherwise (also without an mqtt section).',
      type: 'gauge',
      samples: [{ value: uplink.state === 'connected' ? 1 : 0 }],
    },
    {
      name: 'gatehouse_mqtt_disconnects_total',
      help: 'Established broker connections that were lost.',
      type: 'counter',
      samples: [{ value: uplink.state === 'disabled' ? 0 : uplink.link.disconnects }],
    },
    {
      name: 'gatehouse_device_state',
      help: 'Device supervision state: 1 for the current state of each relay and reader.',
      type: 'gauge',
      samples: devices.flatMap((d) => deviceStates.map((state) => ({ labels: { kind: d.kind, id: d.id, state }, value: d.device.state === state ? 1 : 0 }))),
    },
    {
      name: 'gatehouse_device_faults_total',
      help: 'Times a device went from online to offline (each a driver restart).',
      type: 'counter',
      samples: devices.map((d) => ({ labels: { kind: d.kind, id: d.id }, value: d.device.faults })),
    },
    {
      name: 'gatehouse_door_unlocked',
      help: '1 while a door is unlocked.',
      type: 'gauge',
      samples: status.doors.map((d) => ({ labels: { door: d.id }, value: d.state === 'unlocked' ? 1 : 0 })),
    },
    { name: 'gatehouse_cache_version', help: 'Version of the credential cache in force.', type: 'gauge', samples: [{ value: status.cache.version }] },
    {
      name: 'gatehouse_cache_age_seconds',
      help: 'Seconds since the last successful sync; -1 when never synced.',
      type: 'gauge',
      samples: [{ value: status.cache.ageS ?? -1 }],
    },
    { name: 'gatehouse_cache_stale', help: '1 when the cache is older than cloud.staleAfterHours.', type: 'gauge', samples: [{ value: status.cache.stale ? 1 : 0 }] },
    { name: 'gatehouse_occupancy', help: 'People checked in now.', type: 'gauge', samples: [{ value: status.occupancy.count }] },
  ];
}
