/**
 * The test side of an OSDP bus: opens the host end of a socat pty pair and
 * answers for one or more emulated PDs by address, like PDs on one RS-485
 * line. Options model the physical line: `echo` plays back every command as a
 * 2-wire transceiver does, `lineRate` delays each reply by the time command
 * and reply would take on the wire at that baud rate (ptys do not).
 */
import { SerialPort } from 'serialport';
import { EmulatedPd } from './pd.js';
import { CommandSplitter } from './wire.js';

export interface EmulatorOptions {
  readonly echo?: boolean;
  readonly lineRate?: number;
}

export class OsdpPdEmulator {
  readonly #port: SerialPort;
  readonly #pds: EmulatedPd[];
  readonly #splitter = new CommandSplitter();
  readonly #options: EmulatorOptions;
  commandsSeen = 0;
  #chain: Promise<void> = Promise.resolve();

  private constructor(port: SerialPort, pds: EmulatedPd[], options: EmulatorOptions) {
    this.#port = port;
    this.#pds = pds;
    this.#options = options;
    port.on('error', () => undefined);
    port.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  static async open(path: string, pds: EmulatedPd[], options: EmulatorOptions = {}): Promise<OsdpPdEmulator> {
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const candidate = new SerialPort({ path, baudRate: options.lineRate ?? 9600, autoOpen: false });
      candidate.open((error) => (error ? reject(error) : resolve(candidate)));
    });
    return new OsdpPdEmulator(port, pds, options);
  }

  get badPackets(): number {
    return this.#splitter.badPackets;
  }

  pd(address: number): EmulatedPd {
    const pd = this.#pds.find((candidate) => candidate.address === address);
    if (pd === undefined) throw new Error(`no emulated PD at address ${address}`);
    return pd;
  }

  /** Writes bytes onto the line as they are (garbage, foreign frames). */
  inject(bytes: Buffer): void {
    this.#port.write(bytes);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#port.isOpen ? this.#port.close(() => resolve()) : resolve()));
  }

  #onData(chunk: Buffer): void {
    for (const { command, hadMark } of this.#splitter.feed(chunk)) {
      // Another PD's reply heard on the line: PDs only answer commands.
      if ((command.addr & 0x80) !== 0) continue;
      this.commandsSeen += 1;
      const pd = this.#pds.find((candidate) => candidate.address === command.addr);
      const reply = pd?.handle(command) ?? null;
      const started = performance.now();
      const echo = this.#options.echo === true ? Buffer.concat([hadMark ? Buffer.from([0xff]) : Buffer.alloc(0), command.raw]) : null;
      // Replies go out in order, one after another, as on a real line.
      this.#chain = this.#chain.then(async () => {
        if (echo !== null) this.#port.write(echo);
        if (reply === null) return;
        const wire = (hadMark ? 1 : 0) * 2 + command.raw.length + reply.length;
        const rate = this.#options.lineRate;
        if (rate !== undefined) {
          const due = started + (wire * 10_000) / rate;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        this.#port.write(hadMark ? Buffer.concat([Buffer.from([0xff]), reply]) : reply);
      });
    }
  }
}

export { EmulatedPd };
