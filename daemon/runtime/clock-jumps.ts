/**
 * What a step of the wall clock changes: a running visitor token keeps the
 * time it had left (its start moves with the clock). Door pulses and lockouts
 * need nothing here: they run on monotonic timers.
 */
import type { CheckinSessions } from '../store/sessions.js';
import type { ClockWatch } from './clock-watch.js';
import type { Logger } from './logger.js';

export function followClockJumps(clock: ClockWatch, sessions: CheckinSessions, logger: Logger): () => void {
  return clock.onJump((deltaMs, at) => {
    const shifted = sessions.shiftEntitlementStarts(deltaMs, at);
    logger.warn({ deltaMs: Math.round(deltaMs), shiftedTokenStarts: shifted }, 'the wall clock jumped');
  });
}
