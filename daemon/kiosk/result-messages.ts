/**
 * What the kiosk says after a decision, in plain words: a title, why, and
 * what to do next. Every engine reason has a sentence (the Record makes a
 * new reason a compile error until it gets one). Pure.
 */
import type { Decision, DecisionReason } from '../engine/types.js';

export interface ResultMessage {
  /** Short headline: "Welcome, Ada", "Goodbye", "Not checked in". */
  readonly title: string;
  /** Why, in one sentence. */
  readonly detail: string;
  /** What to do now; empty when nothing is needed. */
  readonly next: string;
}

const ASK = 'Please ask at the front desk.';

/** Why a check-in was refused, and what the person can do about it. */
export const denialMessages: Readonly<Record<Exclude<DecisionReason, 'granted'>, Omit<ResultMessage, 'title'>>> = {
  unknown_credential: { detail: 'We do not recognise this code.', next: 'Check the code and try again. Visitors find theirs in their registration email.' },
  ambiguous_credential: { detail: 'This code belongs to more than one person, so it cannot be used.', next: ASK },
  credential_not_valid: { detail: 'This code is not valid at the moment: it has expired, was replaced or is not active yet.', next: ASK },
  person_inactive: { detail: 'Your account is not active at the moment.', next: ASK },
  no_valid_pass: { detail: 'You have no plan, pass or visitor token valid right now.', next: 'Buy a pass in the members app, or ask at the front desk.' },
  outside_schedule: { detail: 'Check-in is closed at this time of day.', next: 'Please come back during opening hours.' },
  door_locked_down: { detail: 'The building is locked down.', next: 'Please follow the instructions of the staff.' },
  cache_stale: { detail: 'This check-in point has been offline for too long to check people in.', next: ASK },
  no_access_to_door: { detail: 'Your pass does not include this part of the space.', next: ASK },
  plan_limit_reached: { detail: 'You have used all the hours or check-ins your plan includes this month.', next: 'Buy extra time in the members app, or ask at the front desk.' },
  anti_passback: { detail: 'You are already checked in here.', next: 'If you left without checking out, please ask at the front desk.' },
  clock_untrusted: { detail: 'This check-in point is not sure of the time, so it cannot check passes.', next: ASK },
  network_checkin_not_allowed: { detail: 'This pass does not allow checking in this way.', next: ASK },
  locked_out: { detail: 'Too many wrong codes were typed here.', next: 'Please wait a few minutes and try again, or ask at the front desk.' },
  // Only the Wi-Fi counts devices; listed so every reason has words.
  device_limit_reached: { detail: 'You already have the most devices connected that your pass allows.', next: 'Disconnect another device, or ask at the front desk.' },
};

const firstName = (name: string | null): string | null => {
  const first = name?.trim().split(/\s+/)[0];
  return first === undefined || first === '' ? null : first;
};

/** The message for a decision; `name` is the person's display name when known. */
export function resultMessage(decision: Pick<Decision, 'outcome' | 'reason' | 'checkin'>, name: string | null): ResultMessage {
  const who = firstName(name);
  if (decision.outcome === 'granted') {
    if (decision.checkin === 'checked_out') {
      return { title: who === null ? 'Goodbye' : `Goodbye, ${who}`, detail: 'You are checked out.', next: 'Have a good day!' };
    }
    if (decision.checkin === 'checked_in') {
      return { title: who === null ? 'Welcome' : `Welcome, ${who}`, detail: 'You are checked in.', next: 'Enjoy your day!' };
    }
    return { title: who === null ? 'Welcome' : `Welcome, ${who}`, detail: 'You are already checked in.', next: '' };
  }
  const reason = decision.reason === 'granted' ? 'unknown_credential' : decision.reason;
  return { title: decision.checkin === 'failed' ? 'Not checked in' : 'Sorry', ...denialMessages[reason] };
}
