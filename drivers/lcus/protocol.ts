/**
 * LCUS-1 / LCUS-n CH340 serial relay boards (9600 8N1): each command is
 * `A0 CH OP SUM`, OP 01 = energise, 00 = release, SUM = (A0 + CH + OP) & FF.
 * The boards never acknowledge.
 */
export const LCUS_START = 0xa0;
export const LCUS_MIN_CHANNEL = 1;
export const LCUS_MAX_CHANNEL = 8;
export const LCUS_BAUD_RATE = 9600;

export function assertLcusChannel(channel: number): void {
  if (!Number.isInteger(channel) || channel < LCUS_MIN_CHANNEL || channel > LCUS_MAX_CHANNEL) {
    throw new RangeError(`LCUS channel must be an integer ${LCUS_MIN_CHANNEL}..${LCUS_MAX_CHANNEL}, got ${channel}`);
  }
}

export function encodeLcusCommand(channel: number, energised: boolean): Buffer {
  assertLcusChannel(channel);
  const op = energised ? 0x01 : 0x00;
  return Buffer.from([LCUS_START, channel, op, (LCUS_START + channel + op) & 0xff]);
}
