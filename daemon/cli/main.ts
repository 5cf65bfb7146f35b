#!/usr/bin/env node
/**
 * `gatehouse` command line. `run` is the daemon; the other commands are tools
 * for technicians and talk to a running daemon over its control socket.
 */
import { parseArgs } from 'node:util';
import { runCommand } from './run.js';
import { configCheckCommand, configSchemaCommand } from './config-commands.js';
import { eventsCommand, simCommand, simInputCommand, statusCommand } from './client-commands.js';
import { syncImportCommand, syncRequestCommand, syncStatusCommand } from './sync-commands.js';
import { lookupCommand, outboxCommand, outboxRetryCommand, relayTestCommand, tailCommand } from './technician-commands.js';
import { doctorCommand } from './doctor.js';
import './doctor-hid.js';
import { kioskListCommand, kioskPairCommand, kioskRevokeCommand } from './kiosk-commands.js';

const usage = `Usage: gatehouse <command> [options]

Commands:
  run                     run the daemon
  config check            validate the config and secrets, touching no device
  config schema           print the config's JSON Schema (for editors)
  status                  doors, readers, cache, event queue and uplink of the running daemon
  events [--limit N]      most recent journal entries (decisions) of the running daemon
  sim card <number>       present a card at a simulated reader
  sim pin <digits>        type a PIN or visitor code at a simulated reader
  sim input <door> contact|rex open|closed|press
                          set a simulated door contact, or press a simulated exit button
  sync import <file>      apply a signed snapshot file (one chunk envelope per line), through
                          the running daemon, or directly to the database when none runs;
                          --force also accepts a version not newer than the cache's
  sync status             cache version, last sync, age, snapshot in progress, rejected messages
  sync request            ask the cloud for a full snapshot now and follow it until it is in
                          force, with progress; gives up waiting after 2 min (also: resync)
  tail                    follow decisions live (Ctrl-C to stop)
  lookup card|pin [VALUE] whose card or PIN it is and which passes apply; without VALUE it
                          is read from stdin (no echo, stays out of shell history); never printed
  outbox [--limit N]      events not yet delivered, oldest age, per-entry attempts
  outbox retry            send every undelivered event again now (the cloud drops duplicates by id)
  relay test <door>       pulse the door's relay for its pulse time
  doctor                  config, secret file modes, serial devices, broker, NTP, disk, clock
  kiosk pair [--name N]   a one-time code to pair a check-in tablet (default name: kiosk)
  kiosk list              paired tablets: id, name, when paired, last seen, revoked
  kiosk revoke <id>       unpair a tablet (it returns to the pairing screen)

Exit codes: 0 ok, 1 failure, 2 usage, 3 denied (sim) or unknown (lookup), 4 doctor warnings

Options:
  -c, --config FILE       config file (default: $GATEHOUSE_CONFIG or /etc/gatehouse/gatehouse.yaml)
  -r, --reader ID         reader for sim (default: the first simulated reader)
      --json              machine-readable output
      --force             sync import: accept any version
      --name NAME         kiosk pair: the tablet's name (lobby, reception)
  -h, --help              this help
`;

export interface CliOptions {
  readonly config: string;
  readonly reader: string | undefined;
  readonly json: boolean;
  readonly limit: number;
  readonly force: boolean;
  readonly name: string;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      reader: { type: 'string', short: 'r' },
      json: { type: 'boolean', default: false },
      limit: { type: 'string', default: '20' },
      force: { type: 'boolean', default: false },
      name: { type: 'string', default: 'kiosk' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help === true || command === undefined) {
    process.stdout.write(usage);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const options: CliOptions = {
    config: values.config ?? process.env.GATEHOUSE_CONFIG ?? '/etc/gatehouse/gatehouse.yaml',
    reader: values.reader,
    json: values.json === true,
    limit: Number(values.limit),
    force: values.force === true,
    name: values.name ?? 'kiosk',
  };
  switch (command) {
    case 'run':
      return runCommand(options);
    case 'config':
      if (sub === 'check') return configCheckCommand(options);
      if (sub === 'schema') return configSchemaCommand();
      break;
    case 'status':
      return statusCommand(options);
    case 'events':
      return eventsCommand(options);
    case 'sim':
      if ((sub === 'card' || sub === 'pin') && arg !== undefined) return simCommand(options, sub === 'card' ? 'card' : 'keypad', arg);
      if (sub === 'input' && arg !== undefined) {
        const [, , , role, action] = positionals;
        if ((role === 'contact' || role === 'rex') && (action === 'open' || action === 'closed' || action === 'press')) {
          return simInputCommand(options, arg, role, action);
        }
      }
      break;
    case 'sync':
      if (sub === 'import' && arg !== undefined) return syncImportCommand(options, arg);
      if (sub === 'status') return syncStatusCommand(options);
      if (sub === 'request' || sub === 'resync') return syncRequestCommand(options);
      break;
    case 'resync':
      return syncRequestCommand(options);
    case 'tail':
      return tailCommand(options);
    case 'lookup':
      if (sub === 'card' || sub === 'pin') return lookupCommand(options, sub === 'card' ? 'card' : 'keypad', arg);
      break;
    case 'outbox':
      if (sub === undefined) return outboxCommand(options);
      if (sub === 'retry') return outboxRetryCommand(options);
      break;
    case 'relay':
      if (sub === 'test' && arg !== undefined) return relayTestCommand(options, arg);
      break;
    case 'doctor':
      return doctorCommand(options);
    case 'kiosk':
      if (sub === 'pair') return kioskPairCommand(options, options.name);
      if (sub === 'list') return kioskListCommand(options);
      if (sub === 'revoke' && arg !== undefined) return kioskRevokeCommand(options, arg);
      break;
    default:
      break;
  }
  process.stderr.write(`gatehouse: unknown command "${positionals.join(' ')}"\n\n${usage}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
