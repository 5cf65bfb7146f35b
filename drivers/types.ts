/**
 * The contract between hardware drivers and the rest of the daemon.
 *
 * Drivers turn bytes into credential reads and door commands into bytes.
 * They never decide anything: a reader does not know whether a card is valid,
 * and a relay does not know how long a door stays open.
 */
import type { SecretValue } from '../daemon/runtime/secret.js';

/** What a person presented at a reader, as the reader saw it. */
export type PresentedCredential =
  /** A card or fob, already mapped to the number format the platform stores. */
  | { readonly kind: 'card'; readonly number: SecretValue }
  /** Digits typed on a keypad (a member PIN or a visitor code). */
  | { readonly kind: 'keypad'; readonly code: SecretValue }
  /** Keystrokes from a keypad that sends keys one at a time ('0'-'9', '*', '#'); the daemon assembles PINs. */
  | { readonly kind: 'keystrokes'; readonly keys: SecretValue };

/** Feedback a reader can give the person in front of it, where the device allows it. */
export type ReaderFeedback = 'granted' | 'denied';

/** Lifecycle shared by every device driver; the supervisor drives it. */
export interface DeviceDriver {
  /** Stable id from the config (reader id or `door:<id>` for relays). */
  readonly deviceId: string;
  /** Open the device. Rejects when the device is missing or unusable. */
  open(): Promise<void>;
  /** Release the device. Never rejects. */
  close(): Promise<void>;
  /**
   * Called at most once per successful open(), when the device is lost
   * (unplugged, I/O error). The supervisor closes and reopens it.
   */
  onFault(listener: (error: Error) => void): void;
}

export interface ReaderDriver extends DeviceDriver {
  onRead(listener: (credential: PresentedCredential) => void): void;
  /** Optional LED/buzzer feedback; drivers without it simply omit the method. */
  feedback?(signal: ReaderFeedback): void;
  /**
   * Optional protocol-level diagnostic counters (frames rejected for a bad
   * checksum, garbage bytes skipped). Shown in status; never contain credential values.
   */
  counters?(): Readonly<Record<string, number>>;
  /** Optional: the device reports its tamper switch or power supply (OSDP readers do). */
  onDeviceEvent?(listener: (event: DeviceCondition) => void): void;
}

/** A condition a reader reports about itself: tamper switch open, power failing; active false when it ends. */
export interface DeviceCondition {
  readonly type: 'tamper' | 'power';
  readonly active: boolean;
}

/**
 * One relay channel. Knows only "energised" and "released": which of those
 * means "door unlocked" depends on the lock type and is decided by the door
 * controller, not here.
 */
export interface RelayDriver extends DeviceDriver {
  /** Energise or release the relay. Rejects when the command cannot be sent. */
  set(energised: boolean): Promise<void>;
  /** Optional command counters for status; drivers that can read the state back also report it. */
  counters?(): RelayCounters;
}

/** What a relay driver has done since start; shown per door in status. */
export interface RelayCounters {
  readonly commandsSent: number;
  readonly commandFailures: number;
  readonly lastError: string | null;
  /** The state the device reported after the last command; null when it cannot report its state. */
  readonly verifiedEnergised: boolean | null;
  /** Driver-specific diagnostics (timeouts, bad echoes, read-back mismatches). */
  readonly details: Readonly<Record<string, number>>;
}

/** One digital input (door contact, request-to-exit), as the device reports it. */
export interface InputDriver extends DeviceDriver {
  /** Level changes: true = active (contact open / button pressed, after any inversion in config). */
  onChange(listener: (active: boolean) => void): void;
  /** Last reported level, or null before the first report. */
  readonly level: boolean | null;
}

/** One digital input (door contact, request-to-exit), as the device reports it. */
export interface InputDriver extends DeviceDriver {
  /** Level changes: true = active (contact open / button pressed, after any inversion in config). */
  onChange(listener: (active: boolean) => void): void;
  /** Last reported level, or null before the first report. */
  readonly level: boolean | null;
}
