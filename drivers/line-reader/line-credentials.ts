import { SecretValue } from '../../daemon/runtime/secret.js';
import { RepeatFilter } from '../rdm6300/repeat-filter.js';
import type { MonotonicClock } from '../serial/clock.js';
import type { DriverLogger } from '../serial/logger.js';
import type { PresentedCredential } from '../types.js';
import { LineDecoder, type LineDecodeOptions, type LineRejection } from './line-decoder.js';

export interface LineCredentialsOptions {
  readonly deviceId: string;
  readonly pattern?: string | undefined;
  readonly decode: LineDecodeOptions;
  /** The same credential again within this window (extended by each repeat) is one presentation; 0 turns it off. */
  readonly repeatMs: number;
  readonly clock: MonotonicClock;
  readonly logger: DriverLogger;
  readonly emit: (credential: PresentedCredential) => void;
}

/**
 * The part every line-based reader shares, whatever delivers its lines
 * (a serial port, typed keys): the pattern extracts the credential, the
 * encoding maps it to the stored number, repeats are swallowed, and
 * rejections are counted by reason.
 */
export class LineCredentials {
  readonly #deviceId: string;
  readonly #decoder: LineDecoder;
  readonly #repeats: RepeatFilter<string>;
  readonly #clock: MonotonicClock;
  readonly #logger: DriverLogger;
  readonly #emit: (credential: PresentedCredential) => void;
  readonly #rejected: Record<LineRejection, number> = { garbage: 0, 'no-match': 0, 'out-of-range': 0, 'wrong-length': 0, parity: 0 };
  readonly #counters = { readsEmitted: 0, repeatsSuppressed: 0 };

  constructor(options: LineCredentialsOptions) {
    this.#deviceId = options.deviceId;
    this.#decoder = new LineDecoder({ pattern: options.pattern, decode: options.decode });
    this.#repeats = new RepeatFilter(options.repeatMs);
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#emit = options.emit;
  }

  /** Decodes one line and emits its credential unless it is rejected or a repeat. */
  accept(line: Uint8Array): void {
    const result = this.#decoder.decode(line);
    if (!result.ok) {
      this.#rejected[result.reason] += 1;
      this.#logger.debug({ deviceId: this.#deviceId, reason: result.reason, length: line.length }, 'line rejected');
      return;
    }
    if (!this.#repeats.accept(result.number, this.#clock.now())) {
      this.#counters.repeatsSuppressed += 1;
      return;
    }
    this.#counters.readsEmitted += 1;
    this.#logger.debug({ deviceId: this.#deviceId }, 'card read');
    this.#emit({ kind: 'card', number: new SecretValue(result.number) });
  }

  /** Lines rejected so far, all reasons together (what a flood guard charges). */
  get rejectedLines(): number {
    return Object.values(this.#rejected).reduce((sum, count) => sum + count, 0);
  }

  counters(): Readonly<Record<string, number>> {
    const rejected = this.#rejected;
    return {
      garbageLines: rejected.garbage,
      unmatchedLines: rejected['no-match'],
      outOfRange: rejected['out-of-range'],
      wrongLength: rejected['wrong-length'],
      badParity: rejected.parity,
      ...this.#counters,
    };
  }
}
