/** Commands that ask the running daemon through its control socket. */
import { sendControlRequest } from '../control/control-server.js';
import type { ControlRequest } from '../control/protocol.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { GatewayStatusReport } from '../runtime/gateway.js';
import type { CliOptions } from './main.js';
import { describeSync } from './sync-commands.js';

export function socketPath(options: CliOptions): string {
  try {
    return loadConfig(options.config).config.control.socket;
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`cannot read ${options.config}:\n${error.message}`);
    throw error;
  }
}

export async function ask(options: CliOptions, request: ControlRequest): Promise<unknown> {
  const response = await sendControlRequest(socketPath(options), request);
  if (!response.ok) throw new Error(response.error);
  return response.data;
}

export const ago = (iso: string | null): string => {
  if (iso === null) return '-';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};

export async function statusCommand(options: CliOptions): Promise<number> {
  const status = (await ask(options, { op: 'status' })) as GatewayStatusReport;
  if (options.json) {
    console.log(JSON.stringify(status, null, 2));
    return 0;
  }
  const g = status.gateway;
  console.log(`Gatehouse ${g.version}  site ${g.siteId}  gateway ${g.id}  boot ${g.bootId.slice(0, 8)}  up since ${g.startedAt}`);
  console.log('\nDoors');
  for (const d of status.doors) {
    const relay = d.relay.state === 'online' ? 'relay online' : `relay ${d.relay.state}${d.relay.lastError === null ? '' : ` (${d.relay.lastError})`}`;
    const c = d.relayCounters;
    const commands =
      c === null
        ? ''
        : ` commands=${c.commandsSent} failed=${c.commandFailures}${c.verifiedEnergised === null ? '' : ` reads-back=${c.verifiedEnergised ? 'on' : 'off'}`}${c.lastError === null ? '' : ` last error: ${c.lastError}`}`;
    console.log(`  ${d.id.padEnd(16)} ${d.state.padEnd(9)} ${d.mode.padEnd(12)} ${d.lockType.padEnd(12)} ${relay}${commands}`);
    const inputs = describeDoorInputs(d);
    if (inputs !== '') console.log(`  ${''.padEnd(16)} ${inputs}`);
  }
  console.log('\nReaders');
  for (const r of status.readers) {
    const dev = r.device.state === 'online' ? 'online' : `${r.device.state}${r.device.lastError === null ? '' : ` (${r.device.lastError})`}`;
    const counters = Object.entries(r.counters).map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(`  ${r.id.padEnd(16)} ${r.driver.padEnd(8)} ${r.mode.padEnd(12)} door ${(r.door ?? '-').padEnd(10)} ${dev} ${counters}`);
  }
  console.log(`\nCache      version ${status.cache.version}, ${status.cache.people} people, ${status.cache.credentials} credentials`);
  const [syncSummary = '', ...syncDetails] = describeSync(status.sync);
  console.log(`Sync       ${syncSummary}`);
  for (const line of syncDetails) console.log(`           ${line}`);
  console.log(
    `Journal    ${status.journal.pending} event(s) waiting for the broker${status.journal.oldestPendingAt === null ? '' : `, oldest ${ago(status.journal.oldestPendingAt)}`}${status.journal.writeFailures > 0 ? `, ${status.journal.writeFailures} WRITE FAILURES` : ''}`,
  );
  if (status.journal.delivery === 'cloud-ack') {
    console.log(`           ${status.journal.awaitingPuback} not yet accepted by the broker, ${status.journal.awaitingCloudAck} awaiting the cloud's ack`);
  }
  console.log(`Uplink     ${describeUplink(status.uplink)}`);
  if (status.cloud !== null) console.log(`Commands   ${describeCommands(status.cloud)}`);
  const w = status.wifi;
  if (w !== null && w !== undefined) {
    const dropped = Object.entries(w.radius.dropped).map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(
      `Wi-Fi      RADIUS ${w.ports.authPort}/${w.ports.acctPort}: ${w.checkin.accepted} accepted, ${w.checkin.rejected} rejected, ${w.devices} device(s) connected, ${w.checkin.inactivityCheckouts} inactivity check-out(s)${dropped === '' ? '' : `; dropped ${dropped}`}`,
    );
  }
  const areas = status.occupancy.byArea.filter((a) => a.area !== null).map((a) => `${a.area ?? ''} ${a.count}`);
  console.log(`On site    ${status.occupancy.count}${areas.length > 0 ? ` (${areas.join(', ')})` : ''}`);
  for (const p of status.occupancy.people) console.log(`  ${p.name} (${p.personId}) since ${p.since}${p.area === null ? '' : ` in ${p.area}`}`);
  const clock = status.clock;
  console.log(
    `Clock      ${clock.trusted ? 'trusted' : `NOT synchronised (time.unsyncedClock: ${clock.policy})`}${clock.jumps > 0 ? `, ${clock.jumps} jump(s) since start` : ''}`,
  );
  if (status.conflicts.length > 0) {
    console.log(`Conflicts  ${status.conflicts.length} card(s)/code(s) held by several people, refused to all of them until the data is fixed:`);
    for (const c of status.conflicts) console.log(`  ${c.namespace} ${c.fingerprint}: ${c.personIds.join(', ')} (credentials ${c.credentialIds.join(', ')})`);
  }
  return 0;
}

function describeDoorInputs(d: GatewayStatusReport['doors'][number]): string {
  const input = (name: string, i: typeof d.contact, active: string, inactive: string): string | null => {
    if (i === null) return null;
    if (i.device.state !== 'online') return `${name} ${i.device.state}${i.device.lastError === null ? '' : ` (${i.device.lastError})`}`;
    return `${name} ${i.active === null ? 'unknown' : i.active ? active : inactive}`;
  };
  const parts = [
    `lock ${d.lock}`,
    input('contact', d.contact, 'open', 'closed'),
    input('rex', d.rex, 'pressed', 'released'),
    d.scheduledUnlock === null ? null : `scheduled unlock ${d.scheduledUnlock}`,
    d.commandedMode === d.mode ? null : `commanded ${d.commandedMode}`,
  ];
  return parts.filter((p) => p !== null).join(', ');
}

function describeCommands(c: NonNullable<GatewayStatusReport['cloud']>): string {
  const rejected = Object.entries(c.commands.rejected).map(([reason, n]) => `${reason}=${n}`).join(' ');
  const ignored = Object.entries(c.acks.ignored).map(([reason, n]) => `${reason}=${n}`).join(' ');
  return `${c.commands.done} done, rejected: ${rejected === '' ? 'none' : rejected}; acks: ${c.acks.eventsAcked} event(s) acked, ${c.acks.unknownIds} unknown id(s), ignored: ${ignored === '' ? 'none' : ignored}`;
}

function describeUplink(u: GatewayStatusReport['uplink']): string {
  if (u.state === 'disabled') return 'disabled (no mqtt section in the config): events stay queued';
  const error = u.lastError === null ? '' : `, last error: ${u.lastError.message}`;
  const since = u.connectedSince === null ? '' : ` since ${u.connectedSince}`;
  return `${u.state}${since} to ${u.broker}, ${u.outbox.acked} delivered this run, ${u.outbox.inflight} in flight${error}`;
}

export async function eventsCommand(options: CliOptions): Promise<number> {
  const events = (await ask(options, { op: 'events', limit: options.limit })) as { seq: number; createdAt: string; publishedAt: string | null; ackedAt?: string | null; payload: { readerId?: string; person?: { id: string } | null; decision?: { outcome: string; reason: string }; checkin?: string; schema?: string; doorId?: string; event?: string; input?: string | null } }[];
  if (options.json) {
    console.log(JSON.stringify(events, null, 2));
    return 0;
  }
  for (const e of events.reverse()) {
    const p = e.payload;
    const delivery = e.ackedAt != null ? 'acked by the cloud' : e.publishedAt === null ? 'queued' : 'delivered';
    if (p.schema === 'gatehouse.door/1') {
      console.log(`#${String(e.seq).padEnd(6)} ${e.createdAt}  door ${(p.doorId ?? '').padEnd(9)} ${(p.event ?? '').padEnd(20)}${p.input == null ? '' : ` ${p.input}`} ${delivery}`);
      continue;
    }
    console.log(
      `#${String(e.seq).padEnd(6)} ${e.createdAt}  ${(p.readerId ?? '').padEnd(14)} ${(p.decision?.outcome ?? '').padEnd(8)} ${(p.decision?.reason ?? '').padEnd(20)} ${(p.person?.id ?? '-').padEnd(10)} ${(p.checkin ?? '').padEnd(12)} ${e.ackedAt != null ? 'acked by the cloud' : e.publishedAt === null ? 'queued' : 'delivered'}`,
    );
  }
  return 0;
}

export async function simCommand(options: CliOptions, kind: 'card' | 'keypad', value: string): Promise<number> {
  const result = (await ask(options, { op: 'sim', kind, value, reader: options.reader })) as {
    outcome: string;
    reason: string;
    person: string | null;
    checkin: string;
    seq: number | null;
  };
  if (options.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `${result.outcome.toUpperCase()} (${result.reason})${result.person === null ? '' : ` person ${result.person}`}${result.checkin === 'none' ? '' : `, ${result.checkin.replace('_', ' ')}`}${result.seq === null ? '' : `, event #${result.seq}`}`,
    );
  }
  return result.outcome === 'granted' ? 0 : 3;
}

export async function simInputCommand(options: CliOptions, door: string, input: 'contact' | 'rex', action: 'open' | 'closed' | 'press'): Promise<number> {
  const result = (await ask(options, { op: 'sim-input', door, input, action })) as { door: string; state: string; mode: string; lock: string; alarm: string | null };
  if (options.json) console.log(JSON.stringify(result));
  else console.log(`door ${result.door}: ${result.state}, mode ${result.mode}, lock ${result.lock}${result.alarm === null ? '' : `, ALARM ${result.alarm}`}`);
  return 0;
}
