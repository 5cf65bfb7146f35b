/**
 * Exit codes of the `gatehouse` command, stable for scripts (README, technician section).
 */
export const EXIT = {
  /** Done; for doctor: every check passed. */
  ok: 0,
  /** Something failed: no daemon, a broken config, a doctor check that failed, a relay that did not pulse. */
  failure: 1,
  /** Unknown command or missing argument. */
  usage: 2,
  /** sim: the read was denied. lookup: the credential is unknown or ambiguous. */
  negative: 3,
  /** doctor: no failure, but warnings worth a look. */
  warnings: 4,
} as const;
