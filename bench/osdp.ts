/**
 * OSDP card-to-grant latency against the poll cycle: 1, 4 and 8 PDs on one
 * bus at 9600 and 115200 baud, secure channel on (install mode, as a real
 * site runs after installation).
 *
 * The CP (drivers/osdp) runs in this process on one end of a socat pty pair;
 * the PD emulator answers on the other. Ptys do not throttle to a baud rate,
 * so the emulator delays every reply by the wire time of command + reply at
 * the bus rate (lineRate), which puts the serial line's cost back in.
 *
 *   card-to-read   card ready in the PD → credential delivered by the reader driver
 *   card-to-strike card ready in the PD → OUT (strike on) acknowledged by the PD,
 *                  with the read's listener sending it at once as the daemon does
 *   poll cycle     measured time between two polls of the same PD
 *
 * A card appears at a random phase of the cycle, so expect about half a cycle
 * plus one exchange for the read, and one more exchange for the strike.
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { OsdpRegistry } from '../drivers/osdp/registry.js';
import { silentLogger } from '../drivers/serial/logger.js';
import { encodeWiegand } from '../drivers/wiegand/decode.js';
import { EmulatedPd, OsdpPdEmulator } from '../test/support/osdp-pd-emulator/emulator.js';
import { createPty, waitFor } from '../test/support/pty.js';
import { tempDir } from '../test/support/temp-dir.js';
import { round, summarize } from './stats.js';

export interface OsdpLatencyRow {
  readonly pds: number;
  readonly baudRate: number;
  readonly pollCycleMs: number;
  readonly readP50: number;
  readonly readP99: number;
  readonly strikeP50: number;
  readonly strikeP99: number;
  readonly n: number;
}

export async function measureOsdpLatency(pdCount: number, baudRate: number, samples: number): Promise<OsdpLatencyRow> {
  const dir = tempDir('gatehouse-bench-osdp-');
  const pty = await createPty(dir.path, 'osdp');
  const addresses = Array.from({ length: pdCount }, (_, index) => index);
  const emulator = await OsdpPdEmulator.open(pty.hostPath, addresses.map((address) => new EmulatedPd({ address })), { lineRate: baudRate });
  const registry = new OsdpRegistry({
    buses: { main: { path: pty.devicePath, baudRate, secureChannel: 'preferred', installMode: true, connectTimeoutMs: 30_000 } },
    keysFile: join(dir.path, 'osdp-keys.json'),
    logger: silentLogger,
  });
  const target = addresses[addresses.length - 1] ?? 0;
  const readers = addresses.map((address) =>
    registry.reader({ deviceId: `r${address}`, bus: 'main', address, wiegandFormats: ['h10301'], cardFormat: 'decimal10' }),
  );
  const strike = registry.relay({ deviceId: 'door:bench', bus: 'main', address: target, output: 0 });
  try {
    await Promise.all([...readers.map((reader) => reader.open()), strike.open()]);
    let readAt = Number.NaN;
    let strikeAt = Number.NaN;
    readers[target]?.onRead(() => {
      readAt = performance.now();
      void strike.set(true).then(() => (strikeAt = performance.now()));
    });
    const reads: number[] = [];
    const strikes: number[] = [];
    const bits = encodeWiegand('h10301', { facility: 70, card: 27347 });
    for (let index = 0; index < samples + 3; index += 1) {
      // A random phase of the poll cycle.
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 200));
      readAt = Number.NaN;
      strikeAt = Number.NaN;
      const presented = performance.now();
      emulator.pd(target).presentCard(bits.value, bits.length);
      await waitFor(() => !Number.isNaN(strikeAt), 'strike acknowledged', 10_000);
      if (index >= 3) {
        reads.push(readAt - presented);
        strikes.push(strikeAt - presented);
      }
      await strike.set(false);
    }
    const read = summarize(reads);
    const struck = summarize(strikes);
    return {
      pds: pdCount,
      baudRate,
      pollCycleMs: round(readers[target]?.counters().pollCycleMs ?? Number.NaN, 1),
      readP50: round(read.p50, 1),
      readP99: round(read.p99, 1),
      strikeP50: round(struck.p50, 1),
      strikeP99: round(struck.p99, 1),
      n: read.n,
    };
  } finally {
    await strike.close();
    for (const reader of readers) await reader.close();
    await emulator.close();
    await pty.close();
    dir.remove();
  }
}

/** The whole matrix; what bench/run.ts can call. */
/** Every combination of 1, 4 and 8 PDs with 9600 and 115200 baud, as [PDs, baud]. */
export const OSDP_MATRIX: readonly (readonly [number, number])[] = [9600, 115_200].flatMap((baud) => [1, 4, 8].map((pds) => [pds, baud] as const));

export async function measureOsdpMatrix(samples = 40, matrix: readonly (readonly [number, number])[] = OSDP_MATRIX): Promise<OsdpLatencyRow[]> {
  const rows: OsdpLatencyRow[] = [];
  for (const [pds, baudRate] of matrix) rows.push(await measureOsdpLatency(pds, baudRate, samples));
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const samples = Number(process.env.OSDP_BENCH_SAMPLES ?? 40);
  const rows = await measureOsdpMatrix(samples);
  console.table(rows);
}
