/** A PD output (osdp_OUT) as a door relay: energised = permanent ON, released = permanent OFF. */
import { RelayCommandLog } from '../relay-command-log.js';
import type { RelayCounters, RelayDriver } from '../types.js';
import type { PdHub } from './bus.js';
import { encodeOut } from './commands.js';
import { CMD, REPLY } from './constants.js';
import { OsdpPdDriver, type OsdpPdDriverOptions } from './pd-driver.js';

export interface OsdpOutputRelayOptions extends OsdpPdDriverOptions {
  /** Output number on the PD, 0-based as on the wire. */
  readonly output: number;
}

export class OsdpOutputRelay extends OsdpPdDriver implements RelayDriver {
  readonly #output: number;
  readonly #log = new RelayCommandLog();

  constructor(options: OsdpOutputRelayOptions) {
    super(options);
    this.#output = options.output;
  }

  /** Resolves once the PD acknowledged (ACK, as libosdp sends, or OSTATR, as the spec says). */
  async set(energised: boolean): Promise<void> {
    if (!this.isOpen) throw new Error(`relay ${this.deviceId} is not open`);
    await this.#log.record(async () => {
      const reply = await this.bus.send(this.address, CMD.OUT, encodeOut(this.#output, energised));
      if (reply.code !== REPLY.ACK && reply.code !== REPLY.OSTATR) throw new Error(`PD answered OUT with 0x${reply.code.toString(16)}`);
    });
  }

  counters(): RelayCounters {
    return this.#log.counters(this.linkCounters());
  }

  protected subscribe(_hub: PdHub): void {
    // An output has nothing to listen to.
  }
}
