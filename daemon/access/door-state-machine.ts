/**
 * The door state machine: pure and synchronous. A state, an input and the
 * monotonic time in; the next state and the door events out. No timers and no
 * I/O: the shell (door-machine-runner.ts) arms one timer for nextDeadline()
 * and feeds `tick` back, and the door controller turns lockReleased() into a
 * relay level. See docs/door-states.md for the tables this implements.
 *
 * Rules:
 *   - a grant or an `unlock`-mode REX releases the lock for a pulse; a second
 *     one extends the pulse, never shortens it;
 *   - relock on open: the door opening ends the pulse at once, so it cannot be
 *     opened again without a new grant (the contact closing later is normal);
 *   - the contact opening while the lock is held, with no pulse and no
 *     free-egress window, is forced-open; it lasts until the door closes;
 *   - an authorised opening raises held-open-prealarm at heldOpen - preAlarm,
 *     then held-open at heldOpen; closing after any alarm gives
 *     closed-after-alarm;
 *   - mode unlocked holds the lock released and does not supervise held-open;
 *     locked-down and normal hold it locked except for pulses (the engine
 *     decides who may pass a locked-down door; the door honours its grants);
 *   - the contact's first report (boot, input back after a fault) is never
 *     forced: nobody knows how the door came to be open.
 */
export type DoorMode = 'normal' | 'unlocked' | 'locked-down';
export type DoorAlarm = 'forced-open' | 'held-open-prealarm' | 'held-open';
export type DoorPhase = 'locked' | 'unlocked' | 'open' | DoorAlarm;
export type ContactLevel = 'open' | 'closed' | 'unknown';
export type DoorEventKind = 'forced-open' | 'held-open-prealarm' | 'held-open' | 'closed-after-alarm' | 'rex' | 'mode-changed' | 'input-fault';

export interface DoorMachineConfig {
  readonly heldOpenMs: number;
  /** How long before held-open the pre-alarm comes; 0 = none. */
  readonly preAlarmMs: number;
  readonly rexMode: 'unlock' | 'free-egress';
  /** REX pulse (unlock) or free-egress window length. */
  readonly rexMs: number;
}

export interface DoorMachineState {
  readonly mode: DoorMode;
  readonly contact: ContactLevel;
  /** Monotonic ms at which the running pulse ends; null = no pulse. */
  readonly pulseUntil: number | null;
  /** Monotonic ms at which a free-egress window ends; null = none. */
  readonly egressUntil: number | null;
  readonly alarm: DoorAlarm | null;
  /** Monotonic ms since which an authorised opening is supervised for held-open; null = not supervised. */
  readonly openSince: number | null;
}

export type DoorInput =
  | { readonly type: 'grant'; readonly ms: number }
  | { readonly type: 'contact'; readonly level: ContactLevel }
  | { readonly type: 'rex' }
  | { readonly type: 'mode'; readonly mode: DoorMode }
  /** Deadlines up to `at` have passed (pulse end, egress end, pre-alarm, held-open). */
  | { readonly type: 'tick' };

/** What the machine reports; input-fault comes from the controller, never from here. */
export interface DoorMachineEvent {
  readonly kind: Exclude<DoorEventKind, 'input-fault'>;
  /** The alarm raised (forced-open, held-open…) or ended (closed-after-alarm); null otherwise. */
  readonly alarm: DoorAlarm | null;
  readonly mode: DoorMode;
  /** How long the door had been open (held-open, closed-after-alarm), when known. */
  readonly openMs: number | null;
}

export interface DoorStep {
  readonly state: DoorMachineState;
  readonly events: readonly DoorMachineEvent[];
}

export function initialDoorState(mode: DoorMode): DoorMachineState {
  return { mode, contact: 'unknown', pulseUntil: null, egressUntil: null, alarm: null, openSince: null };
}

/** Whether the lock is released (relay at its "unlocked" level). */
export function lockReleased(state: DoorMachineState): boolean {
  return state.mode === 'unlocked' || state.pulseUntil !== null;
}

export function doorPhase(state: DoorMachineState): DoorPhase {
  if (state.contact === 'open') return state.alarm ?? 'open';
  return lockReleased(state) ? 'unlocked' : 'locked';
}

/** The earliest monotonic time at which a `tick` changes something, or null. */
export function nextDeadline(config: DoorMachineConfig, state: DoorMachineState): number | null {
  const times: number[] = [];
  if (state.pulseUntil !== null) times.push(state.pulseUntil);
  if (state.egressUntil !== null) times.push(state.egressUntil);
  const held = heldDeadlines(config, state);
  if (held.prealarmAt !== null) times.push(held.prealarmAt);
  if (held.heldAt !== null) times.push(held.heldAt);
  return times.length === 0 ? null : Math.min(...times);
}

export function stepDoor(config: DoorMachineConfig, state: DoorMachineState, input: DoorInput, at: number): DoorStep {
  const events: DoorMachineEvent[] = [];
  const emit = (kind: DoorMachineEvent['kind'], s: DoorMachineState, alarm: DoorAlarm | null = null, openMs: number | null = null) =>
    events.push({ kind, alarm, mode: s.mode, openMs });
  let next: DoorMachineState = state;

  switch (input.type) {
    case 'grant':
      next = pulse(state, at + input.ms);
      break;
    case 'rex':
      emit('rex', state);
      next =
        config.rexMode === 'unlock'
          ? pulse(state, at + config.rexMs)
          : { ...state, egressUntil: Math.max(state.egressUntil ?? 0, at + config.rexMs) };
      break;
    case 'contact':
      next = contact(state, input.level, at, emit);
      break;
    case 'mode':
      if (input.mode === state.mode) break;
      next = {
        ...state,
        mode: input.mode,
        // Entering unlocked: the mode holds the lock. Leaving it or entering
        // locked-down: relock at once, cutting a running pulse short.
        pulseUntil: input.mode === 'normal' && state.mode === 'locked-down' ? state.pulseUntil : null,
        // Held-open is supervised outside mode unlocked only; an open door starts its count now.
        openSince: input.mode === 'unlocked' || state.contact !== 'open' || state.alarm === 'forced-open' ? null : (state.openSince ?? at),
      };
      emit('mode-changed', next);
      break;
    case 'tick':
      next = tick(config, state, at, emit);
      break;
  }
  return { state: next, events };
}

function pulse(state: DoorMachineState, until: number): DoorMachineState {
  // In mode unlocked the mode holds the lock; a pulse would relock it when it ended.
  if (state.mode === 'unlocked') return state;
  return { ...state, pulseUntil: Math.max(state.pulseUntil ?? 0, until) };
}

function contact(
  state: DoorMachineState,
  level: ContactLevel,
  at: number,
  emit: (kind: DoorMachineEvent['kind'], s: DoorMachineState, alarm?: DoorAlarm | null, openMs?: number | null) => void,
): DoorMachineState {
  if (level === state.contact) return state;
  if (level === 'unknown') {
    // The input is lost: nothing can be supervised until it reports again. A raised alarm stays raised.
    return { ...state, contact: 'unknown', openSince: null };
  }
  if (level === 'closed') {
    const next: DoorMachineState = { ...state, contact: 'closed', openSince: null, alarm: null };
    if (state.alarm !== null) emit('closed-after-alarm', next, state.alarm, state.openSince === null ? null : at - state.openSince);
    return next;
  }
  // Opening.
  const authorised = state.contact === 'unknown' || lockReleased(state) || state.egressUntil !== null;
  if (!authorised) {
    const next: DoorMachineState = { ...state, contact: 'open', alarm: 'forced-open', openSince: null };
    emit('forced-open', next, 'forced-open');
    return next;
  }
  return {
    ...state,
    contact: 'open',
    // Relock on open: the pulse and the egress window are used up.
    pulseUntil: null,
    egressUntil: null,
    openSince: state.mode === 'unlocked' ? null : at,
  };
}

function tick(
  config: DoorMachineConfig,
  state: DoorMachineState,
  at: number,
  emit: (kind: DoorMachineEvent['kind'], s: DoorMachineState, alarm?: DoorAlarm | null, openMs?: number | null) => void,
): DoorMachineState {
  let next: DoorMachineState = {
    ...state,
    pulseUntil: state.pulseUntil !== null && state.pulseUntil <= at ? null : state.pulseUntil,
    egressUntil: state.egressUntil !== null && state.egressUntil <= at ? null : state.egressUntil,
  };
  const { prealarmAt, heldAt } = heldDeadlines(config, next);
  if (prealarmAt !== null && prealarmAt <= at) {
    next = { ...next, alarm: 'held-open-prealarm' };
    emit('held-open-prealarm', next, 'held-open-prealarm', at - (next.openSince ?? at));
  }
  if (heldAt !== null && heldAt <= at) {
    next = { ...next, alarm: 'held-open' };
    emit('held-open', next, 'held-open', at - (next.openSince ?? at));
  }
  return next;
}

function heldDeadlines(config: DoorMachineConfig, state: DoorMachineState): { prealarmAt: number | null; heldAt: number | null } {
  if (state.openSince === null || state.contact !== 'open') return { prealarmAt: null, heldAt: null };
  const heldAt = state.openSince + config.heldOpenMs;
  const prealarmAt = config.preAlarmMs > 0 ? heldAt - config.preAlarmMs : null;
  return {
    prealarmAt: state.alarm === null ? prealarmAt : null,
    heldAt: state.alarm === null || state.alarm === 'held-open-prealarm' ? heldAt : null,
  };
}
