/**
 * The CP's view of one PD: connection state machine, sequence numbers,
 * secure session and command queue. No I/O: the bus asks it for the next
 * frame when it is this PD's turn and hands it the reply (or the timeout).
 *
 *   offline ─ID(sqn 0)→ identify ─CAP→ capabilities ─CHLNG/SCRYPT[/KEYSET]→ secure ─LSTAT/ISTAT→ online
 *
 * Rules from the spec and libosdp: a lost reply gets the identical frame
 * again (same SQN, same MAC, the MAC chain does not advance); NAK 4 restarts
 * at SQN 0; no valid reply for `offlineAfterMs` (8 s) means offline; a bad
 * MAC or a plaintext NAK inside a session ends the session and the PD is
 * set up again from SQN 0.
 */
import { randomBytes } from 'node:crypto';
import { CAP, CMD, NAK, REPLY, SCBK_D, SCS, replyName } from './constants.js';
import {
  decodeKeypad,
  decodePdcap,
  decodePdid,
  decodeRaw,
  encodeKeyset,
  type KeypadData,
  type PdCapability,
  type PdIdentity,
  type RawCardData,
} from './commands.js';
import { encodeFrame, nextSqn, type OsdpFrame, type Sqn } from './frame.js';
import { keyFingerprint, type OsdpKeyStore } from './key-store.js';
import {
  clientCryptogram,
  computeMac,
  decryptData,
  deriveSessionKeys,
  encryptData,
  initialRmac,
  serverCryptogram,
  type SessionKeys,
} from './secure-channel.js';
import type { DriverLogger } from '../serial/logger.js';

export type SecureChannelMode = 'off' | 'preferred' | 'required';

export type PdState = 'offline' | 'connecting' | 'online' | 'refused';

export interface PdLinkSettings {
  readonly busId: string;
  readonly address: number;
  readonly secureChannel: SecureChannelMode;
  /** Allow the install key SCBK-D and hand the PD a new key with KEYSET. */
  readonly installMode: boolean;
  readonly crc: boolean;
  readonly mark: boolean;
  readonly pollIntervalMs: number;
  readonly offlineAfterMs: number;
  /** Pause between two connection attempts to a PD that does not answer. */
  readonly reconnectMs: number;
  readonly keyStore: OsdpKeyStore | null;
  readonly logger: DriverLogger;
  readonly random?: (size: number) => Buffer;
}

export interface PdEvents {
  card(data: RawCardData): void;
  keypad(data: KeypadData): void;
  inputs(levels: readonly boolean[]): void;
  localStatus(status: { readonly tamper: boolean; readonly power: boolean }): void;
  online(): void;
  offline(reason: string): void;
}

/** What a caller asked the PD to do; settles when the PD acknowledged it (or could not). */
interface QueuedCommand {
  readonly code: number;
  readonly data: Buffer;
  readonly resolve: (reply: OsdpFrame & { plain: Buffer }) => void;
  readonly reject: (error: Error) => void;
}

type Step =
  | { readonly kind: 'id' }
  | { readonly kind: 'cap' }
  | { readonly kind: 'chlng'; readonly key: CandidateKey; readonly rndA: Buffer }
  | { readonly kind: 'scrypt'; readonly key: CandidateKey; readonly keys: SessionKeys; readonly serverCrypt: Buffer }
  | { readonly kind: 'keyset'; readonly newKey: Buffer }
  | { readonly kind: 'status'; readonly code: number }
  | { readonly kind: 'poll' }
  | { readonly kind: 'user'; readonly command: QueuedCommand };

interface CandidateKey {
  readonly key: Buffer;
  readonly source: 'stored' | 'pending' | 'install';
}

interface InFlight {
  readonly step: Step;
  readonly wire: Buffer;
  readonly sqn: Sqn;
  /** The full C-MAC of this command, which the reply's MAC and encryption chain from. */
  readonly cmac: Buffer | null;
  attempts: number;
}

interface Session {
  readonly keys: SessionKeys;
  /** Full 16-byte MAC of the last verified reply (RMAC-I at first). */
  rmac: Buffer;
  readonly keySource: CandidateKey['source'];
}

export class OsdpLinkError extends Error {
  override readonly name = 'OsdpLinkError';
}

export interface PdLinkCounters {
  online: number;
  secure: number;
  commands: number;
  replies: number;
  timeouts: number;
  retries: number;
  naks: number;
  busy: number;
  macErrors: number;
  scHandshakes: number;
  scFailures: number;
  keysInstalled: number;
  offlineEvents: number;
  cards: number;
  keypadReads: number;
  tamper: number;
  power: number;
  vendorOui: number;
  model: number;
  version: number;
  serialNumber: number;
  firmware: number;
  capSecureChannel: number;
  capOutputs: number;
  capInputs: number;
  capReaders: number;
}

const STATUS_STEPS = [CMD.LSTAT, CMD.ISTAT] as const;

export class PdLink {
  readonly #s: PdLinkSettings;
  readonly #events: PdEvents;
  readonly #random: (size: number) => Buffer;
  readonly #queue: QueuedCommand[] = [];
  readonly #key: string;
  #state: PdState = 'offline';
  /** online() was reported and offline() not yet: users see one online period across session re-establishments. */
  #announced = false;
  #stateReason = 'not connected yet';
  #sqn: Sqn = 0;
  #inFlight: InFlight | null = null;
  /** The next step of the connection sequence; null once online. */
  #connectQueue: Step[] = [];
  #candidates: CandidateKey[] = [];
  #session: Session | null = null;
  #identity: PdIdentity | null = null;
  #caps: PdCapability[] = [];
  #lastValidReplyAt = Number.NEGATIVE_INFINITY;
  #nextTurnAt = Number.NEGATIVE_INFINITY;
  #tamper = false;
  #power = false;
  readonly #c = {
    commands: 0,
    replies: 0,
    timeouts: 0,
    retries: 0,
    naks: 0,
    busy: 0,
    macErrors: 0,
    scHandshakes: 0,
    scFailures: 0,
    keysInstalled: 0,
    offlineEvents: 0,
    cards: 0,
    keypadReads: 0,
  };

  constructor(settings: PdLinkSettings, events: PdEvents) {
    this.#s = settings;
    this.#events = events;
    this.#random = settings.random ?? randomBytes;
    this.#key = `${settings.busId}/${settings.address}`;
  }

  get address(): number {
    return this.#s.address;
  }

  get state(): PdState {
    return this.#state;
  }

  /** Why the PD is not online (for open() errors and status). */
  get stateReason(): string {
    return this.#stateReason;
  }

  get secure(): boolean {
    return this.#session !== null && this.#state === 'online';
  }

  get identity(): PdIdentity | null {
    return this.#identity;
  }

  get capabilities(): readonly PdCapability[] {
    return this.#caps;
  }

  get hasQueuedCommands(): boolean {
    return this.#state === 'online' && this.#queue.length > 0;
  }

  counters(): PdLinkCounters {
    const cap = (fn: number): PdCapability | undefined => this.#caps.find((c) => c.function === fn);
    const id = this.#identity;
    return {
      online: this.#state === 'online' ? 1 : 0,
      secure: this.secure ? 1 : 0,
      ...this.#c,
      tamper: this.#tamper ? 1 : 0,
      power: this.#power ? 1 : 0,
      vendorOui: id?.vendor ?? 0,
      model: id?.model ?? 0,
      version: id?.version ?? 0,
      serialNumber: id?.serial ?? 0,
      firmware: id === null ? 0 : id.firmware.major * 10_000 + id.firmware.minor * 100 + id.firmware.build,
      capSecureChannel: (cap(CAP.COMMUNICATION_SECURITY)?.compliance ?? 0) & 1,
      capOutputs: cap(CAP.OUTPUT_CONTROL)?.count ?? 0,
      capInputs: cap(CAP.CONTACT_STATUS)?.count ?? 0,
      capReaders: cap(CAP.READER_LED)?.count ?? 0,
    };
  }

  /** Queue a command (LED, BUZ, OUT, COMSET…) for this PD; resolves with its reply. */
  send(code: number, data: Buffer): Promise<OsdpFrame & { plain: Buffer }> {
    if (this.#state !== 'online') return Promise.reject(new OsdpLinkError(`PD ${this.#key} is ${this.#state}: ${this.#stateReason}`));
    return new Promise((resolve, reject) => this.#queue.push({ code, data, resolve, reject }));
  }

  /** True when this PD has something to send now (the bus skips it otherwise). */
  wantsTurn(now: number): boolean {
    if (this.#inFlight !== null) return now >= this.#nextTurnAt;
    if (this.#state === 'online' && this.#queue.length > 0) return true;
    return now >= this.#nextTurnAt;
  }

  /** When this PD next wants the bus, for the scheduler's sleep. */
  get nextTurnAt(): number {
    return this.#state === 'online' && this.#queue.length > 0 && this.#inFlight === null ? Number.NEGATIVE_INFINITY : this.#nextTurnAt;
  }

  /** Builds (or repeats) the frame to send now. */
  nextFrame(): Buffer {
    if (this.#inFlight !== null) {
      // A lost reply: the identical bytes again; the PD answers from its cache if it got the first copy.
      this.#inFlight.attempts += 1;
      this.#c.retries += 1;
      return this.#inFlight.wire;
    }
    if (this.#state === 'offline' || this.#state === 'refused') this.#startConnecting();
    const step = this.#connectQueue.shift() ?? this.#onlineStep();
    this.#inFlight = this.#build(step);
    this.#c.commands += 1;
    return this.#inFlight.wire;
  }

  /** A reply from this PD's address arrived for the frame in flight. */
  onReply(frame: OsdpFrame, now: number): void {
    const inFlight = this.#inFlight;
    if (inFlight === null) return;
    if (frame.code === REPLY.BUSY) {
      // BUSY carries SQN 0; the same command goes again later.
      this.#c.busy += 1;
      this.#nextTurnAt = now + this.#s.pollIntervalMs;
      return;
    }
    if (frame.sqn !== inFlight.sqn) {
      this.#s.logger.debug({ pd: this.#key, expected: inFlight.sqn, got: frame.sqn }, 'OSDP reply with another sequence number ignored');
      return;
    }
    const plain = this.#unwrap(frame, inFlight);
    if (plain === undefined) return;
    this.#inFlight = null;
    this.#c.replies += 1;
    this.#lastValidReplyAt = now;
    this.#sqn = nextSqn(inFlight.sqn);
    this.#nextTurnAt = now + (this.#state === 'online' ? this.#s.pollIntervalMs : 0);
    if (frame.code === REPLY.NAK) {
      this.#onNak(inFlight.step, plain[0] ?? NAK.NONE, now);
      return;
    }
    this.#onValidReply(inFlight.step, frame, plain, now);
  }

  /** No reply within the reply timeout. */
  onTimeout(now: number): void {
    this.#c.timeouts += 1;
    if (this.#inFlight !== null && this.#inFlight.step.kind === 'chlng' && this.#inFlight.attempts >= 2) {
      // A PD that never answers CHLNG does not do secure channel the way we ask.
      this.#inFlight = null;
    }
    if (this.#announced) {
      // Known PD: offline only after offlineAfterMs (8 s) without a valid reply; until then, retry.
      const silentFor = now - this.#lastValidReplyAt;
      if (silentFor >= this.#s.offlineAfterMs) this.#goOffline(`no valid reply for ${Math.round(silentFor)} ms`, now);
      else this.#nextTurnAt = now;
      return;
    }
    if (this.#state === 'connecting' && (this.#inFlight?.attempts ?? 0) >= 2) {
      // Not there (yet): try again from scratch after a pause instead of hogging the bus.
      this.#goOffline('no reply', now);
      return;
    }
    this.#nextTurnAt = now;
  }

  /** The bus lost its port or nobody uses this PD any more. */
  reset(reason: string): void {
    this.#goOffline(reason, Number.NEGATIVE_INFINITY, false);
  }

  #startConnecting(): void {
    this.#state = 'connecting';
    this.#sqn = 0;
    this.#session = null;
    this.#connectQueue = [{ kind: 'id' }, { kind: 'cap' }];
  }

  #onlineStep(): Step {
    const command = this.#queue.shift();
    return command === undefined ? { kind: 'poll' } : { kind: 'user', command };
  }

  #build(step: Step): InFlight {
    const sqn = this.#sqn;
    const packet = (code: number, data: Buffer) => ({ address: this.#s.address, reply: false, sqn, crc: this.#s.crc, code, data });
    switch (step.kind) {
      case 'id':
        return this.#plain(step, encodeFrame({ ...packet(CMD.ID, Buffer.from([0])), scb: null }, { mark: this.#s.mark }).wire, sqn);
      case 'cap':
        return this.#plain(step, encodeFrame({ ...packet(CMD.CAP, Buffer.from([0])), scb: null }, { mark: this.#s.mark }).wire, sqn);
      case 'chlng': {
        const scb = { type: SCS.CHLNG, data: Buffer.from([step.key.source === 'install' ? 0 : 1]) };
        return this.#plain(step, encodeFrame({ ...packet(CMD.CHLNG, step.rndA), scb }, { mark: this.#s.mark }).wire, sqn);
      }
      case 'scrypt': {
        const scb = { type: SCS.SCRYPT, data: Buffer.from([step.key.source === 'install' ? 0 : 1]) };
        return this.#plain(step, encodeFrame({ ...packet(CMD.SCRYPT, step.serverCrypt), scb }, { mark: this.#s.mark }).wire, sqn);
      }
      case 'keyset':
        return this.#secured(step, CMD.KEYSET, encodeKeyset(step.newKey), sqn);
      case 'status':
        return this.#secured(step, step.code, Buffer.alloc(0), sqn);
      case 'poll':
        return this.#secured(step, CMD.POLL, Buffer.alloc(0), sqn);
      case 'user':
        return this.#secured(step, step.command.code, step.command.data, sqn);
    }
  }

  #plain(step: Step, wire: Buffer, sqn: Sqn): InFlight {
    return { step, wire, sqn, cmac: null, attempts: 1 };
  }

  /** A command inside the session when there is one (MAC, data encrypted), else in the clear. */
  #secured(step: Step, code: number, data: Buffer, sqn: Sqn): InFlight {
    const session = this.#session;
    const base = { address: this.#s.address, reply: false, sqn, crc: this.#s.crc, code };
    if (session === null) {
      return this.#plain(step, encodeFrame({ ...base, scb: null, data }, { mark: this.#s.mark }).wire, sqn);
    }
    const encrypted = data.length > 0;
    const encoded = encodeFrame(
      {
        ...base,
        scb: { type: encrypted ? SCS.CMD_ENC : SCS.CMD_MAC, data: Buffer.alloc(0) },
        data: encrypted ? encryptData(session.keys, session.rmac, data) : data,
      },
      { mark: this.#s.mark, mac: (input) => computeMac(session.keys, session.rmac, input) },
    );
    return { step, wire: encoded.wire, sqn, cmac: encoded.fullMac, attempts: 1 };
  }

  /**
   * Checks the reply's MAC and decrypts it inside a session. Returns the plain
   * data, or undefined when the reply was dealt with here (session dropped).
   */
  #unwrap(frame: OsdpFrame, inFlight: InFlight): Buffer | undefined {
    const session = this.#session;
    if (session === null || inFlight.cmac === null) {
      if (frame.scb !== null && frame.scb.type >= SCS.CMD_MAC) {
        this.#sessionLost('secure reply without a session', inFlight);
        return undefined;
      }
      return frame.data;
    }
    if (frame.scb === null) {
      // Inside a session only NAK may come in the clear, and it means the PD dropped the session.
      this.#sessionLost(`plaintext ${replyName(frame.code)} ${frame.code === REPLY.NAK ? `(NAK ${frame.data[0] ?? 0}) ` : ''}inside the session`, inFlight);
      return undefined;
    }
    const mac = computeMac(session.keys, inFlight.cmac, frame.macInput);
    if (frame.mac === null || !mac.subarray(0, 4).equals(frame.mac)) {
      this.#c.macErrors += 1;
      this.#sessionLost('reply MAC does not verify', inFlight);
      return undefined;
    }
    let plain = frame.data;
    if (frame.scb.type === SCS.REPLY_ENC) {
      const decrypted = decryptData(session.keys, inFlight.cmac, frame.data);
      if (decrypted === undefined) {
        this.#sessionLost('reply data does not decrypt', inFlight);
        return undefined;
      }
      plain = decrypted;
    }
    session.rmac = mac;
    return plain;
  }

  /** Starts over from SQN 0: the PD has already torn the session down or will on SQN 0. */
  #sessionLost(reason: string, inFlight: InFlight): void {
    this.#s.logger.warn({ pd: this.#key, reason }, 'OSDP secure session lost; setting the PD up again');
    this.#inFlight = null;
    // Queued commands wait for the session to come back; the one in flight goes again then.
    if (inFlight.step.kind === 'user') this.#queue.unshift(inFlight.step.command);
    this.#startConnecting();
  }

  #onNak(step: Step, reason: number, now: number): void {
    this.#c.naks += 1;
    this.#s.logger.debug({ pd: this.#key, step: step.kind, reason }, 'OSDP NAK');
    if (reason === NAK.SEQUENCE) {
      if (step.kind === 'user') this.#queue.unshift(step.command);
      this.#restart('NAK 4 (sequence)');
      return;
    }
    switch (step.kind) {
      case 'chlng':
      case 'scrypt':
        this.#nextKeyOrGiveUp(`NAK ${reason} to ${step.kind.toUpperCase()}`, now);
        return;
      case 'id':
      case 'cap':
      case 'status':
        // Optional for a PD; carry on without the answer.
        if (step.kind === 'cap') this.#afterCapabilities(now);
        else this.#maybeOnline(now);
        return;
      case 'keyset':
        this.#refuseOrPlain(`PD refused KEYSET (NAK ${reason})`, now);
        return;
      case 'poll':
        if (reason === NAK.SC_CONDITIONS) this.#restart('PD wants the secure channel (NAK 6)');
        return;
      case 'user':
        if (reason === NAK.CHECK) {
          this.#queue.unshift(step.command);
          return;
        }
        step.command.reject(new OsdpLinkError(`PD ${this.#key} refused command 0x${step.command.code.toString(16)} (NAK ${reason})`));
        return;
    }
  }

  #onValidReply(step: Step, frame: OsdpFrame, plain: Buffer, now: number): void {
    switch (step.kind) {
      case 'id':
        if (frame.code === REPLY.PDID) this.#identity = decodePdid(plain) ?? null;
        return;
      case 'cap':
        if (frame.code === REPLY.PDCAP) this.#caps = decodePdcap(plain);
        this.#afterCapabilities(now);
        return;
      case 'chlng':
        this.#onCcrypt(step, frame, plain, now);
        return;
      case 'scrypt':
        this.#onRmacI(step, frame, plain, now);
        return;
      case 'keyset':
        if (frame.code !== REPLY.ACK) {
          this.#refuseOrPlain(`unexpected ${replyName(frame.code)} to KEYSET`, now);
          return;
        }
        this.#s.keyStore?.promote(this.#key, step.newKey);
        this.#c.keysInstalled += 1;
        this.#s.logger.info({ pd: this.#key, key: keyFingerprint(step.newKey) }, 'OSDP PD now has its own secure channel key');
        // The PD leaves the session after KEYSET: handshake again with the new key.
        this.#session = null;
        this.#candidates = [{ key: step.newKey, source: 'stored' }];
        this.#connectQueue = [this.#challenge()];
        return;
      case 'status':
      case 'poll':
        this.#dispatch(frame.code, plain);
        this.#maybeOnline(now);
        return;
      case 'user':
        this.#dispatch(frame.code, plain);
        step.command.resolve({ ...frame, plain });
        return;
    }
  }

  /** Replies that carry news, whatever command they answer. */
  #dispatch(code: number, plain: Buffer): void {
    switch (code) {
      case REPLY.RAW: {
        const raw = decodeRaw(plain);
        if (raw !== undefined) {
          this.#c.cards += 1;
          this.#events.card(raw);
        }
        return;
      }
      case REPLY.KEYPAD: {
        const keys = decodeKeypad(plain);
        if (keys !== undefined) {
          this.#c.keypadReads += 1;
          this.#events.keypad(keys);
        }
        return;
      }
      case REPLY.ISTATR:
        this.#events.inputs([...plain].map((level) => level !== 0));
        return;
      case REPLY.LSTATR:
        if (plain.length >= 2) {
          this.#tamper = plain[0] !== 0;
          this.#power = plain[1] !== 0;
          this.#events.localStatus({ tamper: this.#tamper, power: this.#power });
        }
        return;
      default:
        return;
    }
  }

  #afterCapabilities(now: number): void {
    const mode = this.#s.secureChannel;
    if (mode === 'off') {
      this.#queueStatus();
      return;
    }
    const supportsSc = ((this.#caps.find((c) => c.function === CAP.COMMUNICATION_SECURITY)?.compliance ?? 0) & 1) === 1;
    if (!supportsSc) {
      this.#refuseOrPlain('PD does not report secure channel support', now);
      return;
    }
    const stored = this.#s.keyStore?.keys(this.#key) ?? { current: null, pending: null };
    this.#candidates = [];
    if (stored.current !== null) this.#candidates.push({ key: stored.current, source: 'stored' });
    if (stored.pending !== null) this.#candidates.push({ key: stored.pending, source: 'pending' });
    // SCBK-D only when installing on purpose, and never on a bus that requires the secure channel.
    if (this.#s.installMode && mode !== 'required') this.#candidates.push({ key: SCBK_D, source: 'install' });
    if (this.#candidates.length === 0) {
      this.#refuseOrPlain('no secure channel key stored for this PD and install mode is off', now);
      return;
    }
    this.#connectQueue = [this.#challenge()];
  }

  #challenge(): Step {
    const key = this.#candidates[0] as CandidateKey;
    return { kind: 'chlng', key, rndA: this.#random(8) };
  }

  #onCcrypt(step: Extract<Step, { kind: 'chlng' }>, frame: OsdpFrame, plain: Buffer, now: number): void {
    if (frame.code !== REPLY.CCRYPT || plain.length < 32) {
      this.#nextKeyOrGiveUp(`unexpected ${replyName(frame.code)} to CHLNG`, now);
      return;
    }
    const rndB = plain.subarray(8, 16);
    const keys = deriveSessionKeys(step.key.key, step.rndA);
    if (!clientCryptogram(keys, step.rndA, rndB).equals(plain.subarray(16, 32))) {
      this.#nextKeyOrGiveUp(`client cryptogram does not match the ${step.key.source} key`, now);
      return;
    }
    this.#connectQueue = [{ kind: 'scrypt', key: step.key, keys, serverCrypt: serverCryptogram(keys, step.rndA, rndB) }];
  }

  #onRmacI(step: Extract<Step, { kind: 'scrypt' }>, frame: OsdpFrame, plain: Buffer, now: number): void {
    const expected = initialRmac(step.keys, step.serverCrypt);
    if (frame.code !== REPLY.RMAC_I || !plain.subarray(0, 16).equals(expected)) {
      this.#nextKeyOrGiveUp('RMAC-I does not verify', now);
      return;
    }
    this.#session = { keys: step.keys, rmac: expected, keySource: step.key.source };
    this.#c.scHandshakes += 1;
    if (step.key.source === 'pending') this.#s.keyStore?.promote(this.#key, step.key.key);
    if (step.key.source === 'install') {
      const newKey = this.#random(16);
      // Written down before the PD gets it, so neither a lost ACK nor a crash can orphan the key.
      this.#s.keyStore?.setPending(this.#key, newKey);
      this.#connectQueue = [{ kind: 'keyset', newKey }];
      return;
    }
    this.#queueStatus();
  }

  #nextKeyOrGiveUp(reason: string, now: number): void {
    this.#s.logger.debug({ pd: this.#key, reason }, 'OSDP secure channel attempt failed');
    this.#candidates.shift();
    if (this.#candidates.length > 0) {
      // A fresh CHLNG resets the PD's handshake; no need to go back to SQN 0.
      this.#connectQueue = [this.#challenge()];
      return;
    }
    this.#c.scFailures += 1;
    this.#refuseOrPlain(`secure channel failed: ${reason}`, now);
  }

  /** Secure channel impossible: plaintext on a 'preferred' bus, no connection on a 'required' one. */
  #refuseOrPlain(reason: string, now: number): void {
    if (this.#s.secureChannel === 'required') {
      this.#s.logger.warn({ pd: this.#key, reason }, 'OSDP PD refused: the bus requires the secure channel');
      this.#state = 'refused';
      this.#stateReason = `secure channel required: ${reason}`;
      this.#session = null;
      this.#connectQueue = [];
      this.#nextTurnAt = now + this.#s.reconnectMs;
      return;
    }
    this.#s.logger.warn({ pd: this.#key, reason }, 'OSDP PD runs without secure channel');
    this.#session = null;
    // Any SQN 0 resets the PD's half-finished handshake; continue in the clear from a clean state.
    this.#sqn = 0;
    this.#queueStatus();
  }

  #queueStatus(): void {
    this.#connectQueue = STATUS_STEPS.map((code) => ({ kind: 'status', code }));
  }

  #maybeOnline(now: number): void {
    if (this.#state !== 'connecting' || this.#connectQueue.length > 0) return;
    this.#state = 'online';
    this.#stateReason = this.#session === null ? 'online' : 'online, secure';
    this.#lastValidReplyAt = now;
    this.#s.logger.info(
      { pd: this.#key, secure: this.#session !== null, vendor: this.#identity?.vendor, serial: this.#identity?.serial },
      this.#announced ? 'OSDP PD set up again' : 'OSDP PD online',
    );
    if (this.#announced) return;
    this.#announced = true;
    this.#events.online();
  }

  /** Back to SQN 0 and the ID step; queued commands go out once the PD is set up again. */
  #restart(reason: string): void {
    this.#s.logger.debug({ pd: this.#key, reason }, 'OSDP PD restarts at SQN 0');
    this.#startConnecting();
  }

  /** Forgets the PD's state; `lost` = it stopped answering (counted, logged), else we let go of it. */
  #goOffline(reason: string, now: number, lost = true): void {
    const wasOnline = this.#announced;
    this.#announced = false;
    this.#state = 'offline';
    this.#stateReason = reason;
    this.#inFlight = null;
    this.#session = null;
    this.#connectQueue = [];
    this.#sqn = 0;
    this.#nextTurnAt = now + this.#s.reconnectMs;
    this.#rejectQueue(`PD ${this.#key} offline: ${reason}`);
    if (wasOnline && !lost) this.#events.offline(reason);
    else if (wasOnline) {
      this.#c.offlineEvents += 1;
      this.#s.logger.warn({ pd: this.#key, reason }, 'OSDP PD offline');
      this.#events.offline(reason);
    }
  }

  #rejectQueue(reason: string): void {
    for (const command of this.#queue.splice(0)) command.reject(new OsdpLinkError(reason));
  }
}
