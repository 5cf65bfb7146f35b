/**
 * Technician tools over the control socket: tail, lookup, outbox, relay test.
 */
import { streamControlRequest } from '../control/control-server.js';
import type { LookupResult } from '../runtime/credential-lookup.js';
import type { Gateway } from '../runtime/gateway.js';
import { ago, ask, socketPath } from './client-commands.js';
import { EXIT } from './exit-codes.js';
import type { CliOptions } from './main.js';

interface TailLine {
  at: string;
  reader: string;
  door: string | null;
  outcome: string;
  reason: string;
  person: string | null;
  name: string | null;
  checkin: string;
  fingerprint: string;
  seq: number | null;
}

/** `gatehouse tail`: decisions as they happen, until Ctrl-C. */
export async function tailCommand(options: CliOptions): Promise<number> {
  await streamControlRequest(socketPath(options), { op: 'tail' }, (data) => {
    if (data === null) {
      // The daemon's "subscribed" line.
      process.stderr.write('following decisions (Ctrl-C to stop)\n');
      return;
    }
    const d = data as TailLine;
    if (options.json) {
      console.log(JSON.stringify(d));
      return;
    }
    const who = d.person === null ? `unknown credential ${d.fingerprint}` : `${d.name ?? '?'} (${d.person})`;
    const time = d.at.slice(11, 19);
    console.log(
      `${time}  ${d.reader.padEnd(14)} ${(d.door ?? '-').padEnd(10)} ${d.outcome.toUpperCase().padEnd(8)} ${d.reason.padEnd(20)} ${who}${d.checkin === 'none' ? '' : `, ${d.checkin.replace('_', ' ')}`}`,
    );
  });
  return EXIT.ok;
}

/** Read the value without echo on a terminal, or one line from a pipe: never from argv by preference (shell history, ps). */
export async function readSecretLine(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const raw = stdin.isTTY;
    if (raw) stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const finish = (): void => {
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.removeAllListeners('data');
      if (raw) process.stderr.write('\n');
      resolve(value.trim());
    };
    stdin.on('data', (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\u0003') {
          if (raw) stdin.setRawMode(false);
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\r' || ch === '\n') {
          finish();
          return;
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    });
    stdin.once('end', finish);
    stdin.resume();
  });
}

/** `gatehouse lookup card|pin [VALUE]`: whose it is and which passes apply. Never prints the value. */
export async function lookupCommand(options: CliOptions, kind: 'card' | 'keypad', given: string | undefined): Promise<number> {
  const value = given ?? (await readSecretLine(kind === 'card' ? 'card number: ' : 'PIN or code: '));
  if (value === '') throw new Error('no value given');
  const result = (await ask(options, { op: 'lookup', kind, value })) as LookupResult;
  if (options.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`${kind === 'card' ? 'card' : 'PIN/code'} fingerprint ${result.fingerprint}: ${result.verdict === 'known' ? 'known' : result.verdict === 'unknown' ? 'UNKNOWN (not in the cache)' : `AMBIGUOUS: ${result.matches.length} people share it; readers refuse it`}`);
    for (const m of result.matches) {
      const p = m.person;
      console.log(`  ${p.name} (${p.id}), ${p.kind}, ${p.status}${p.alwaysAllowed ? ', always allowed' : ''}${m.checkedInSince === null ? '' : `, checked in since ${m.checkedInSince}`}`);
      const c = m.credential;
      console.log(`    credential ${c.id}: ${c.kind}, ${c.status}${c.validFrom === null ? '' : `, from ${c.validFrom}`}${c.validTo === null ? '' : `, until ${c.validTo}`}`);
      if (m.passes.length === 0) console.log('    no passes');
      for (const pass of m.passes) {
        console.log(
          `    pass ${pass.id}: ${pass.kind}${pass.validFrom === null ? '' : `, from ${pass.validFrom}`}${pass.validTo === null ? '' : `, until ${pass.validTo}`}${pass.minutesLeft === null ? '' : `, ${pass.minutesLeft} min left`} ${pass.validNow ? '(valid now)' : '(not valid now)'}`,
        );
      }
    }
  }
  return result.verdict === 'known' ? EXIT.ok : EXIT.negative;
}

/** `gatehouse outbox`: events not yet delivered, and how old the oldest is. */
export async function outboxCommand(options: CliOptions): Promise<number> {
  const outbox = (await ask(options, { op: 'outbox', limit: options.limit })) as ReturnType<Gateway['outbox']>;
  if (options.json) {
    console.log(JSON.stringify(outbox, null, 2));
    return EXIT.ok;
  }
  const d = outbox.depth;
  console.log(`${d.pending} event(s) not yet delivered (${d.delivery === 'cloud-ack' ? 'delivered = acknowledged by the cloud' : 'delivered = accepted by the broker'})${d.oldestPendingAt === null ? '' : `, oldest ${ago(d.oldestPendingAt)} (${outbox.oldestAgeS ?? 0} s)`}`);
  console.log(`  ${d.awaitingPuback} waiting for the broker${d.delivery === 'cloud-ack' ? `, ${d.awaitingCloudAck} waiting for the cloud's ack` : ''}${d.writeFailures > 0 ? `, ${d.writeFailures} JOURNAL WRITE FAILURES` : ''}`);
  for (const e of outbox.entries) {
    console.log(`  #${String(e.seq).padEnd(6)} ${e.type.padEnd(14)} ${e.createdAt}  ${e.publishedAt === null ? 'not sent' : `sent ${e.publishedAt}`}, ${e.attempts} attempt(s)`);
  }
  return EXIT.ok;
}

/** `gatehouse outbox retry`: a new delivery round now; says why not when there is no connection. */
export async function outboxRetryCommand(options: CliOptions): Promise<number> {
  const result = (await ask(options, { op: 'outbox-retry' })) as ReturnType<Gateway['outboxRetry']>;
  if (options.json) {
    console.log(JSON.stringify(result));
    return result.started ? EXIT.ok : EXIT.failure;
  }
  if (result.started) {
    console.log(`sending ${result.pending} undelivered event(s) again, in order, on connection ${result.connection}; watch \`gatehouse outbox\``);
    return EXIT.ok;
  }
  const why = {
    disabled: 'no mqtt section in the config: events stay in the journal',
    'not-running': 'the uplink is stopping',
    'not-connected': `not connected to the broker: the ${'pending' in result ? result.pending : 0} undelivered event(s) go out as soon as the link is back (see \`gatehouse status\`)`,
  }[result.reason];
  console.log(`nothing sent: ${why}`);
  return EXIT.failure;
}

/** `gatehouse relay test <door>`: one pulse, exactly like a grant. */
export async function relayTestCommand(options: CliOptions, door: string): Promise<number> {
  const result = (await ask(options, { op: 'relay-test', door })) as ReturnType<Gateway['relayTest']>;
  if (options.json) console.log(JSON.stringify(result));
  else console.log(`door ${result.door}: relay ${result.relay} pulsed for ${result.pulseMs} ms`);
  return EXIT.ok;
}
