/**
 * The RDM6300 / EM4100 serial frame: STX, 10 ASCII hex data characters
 * (D0 customer byte, D1..D4 tag number big-endian), 2 ASCII hex checksum
 * characters, ETX. The ID-12LA/ID-20LA variant puts CR LF before ETX.
 */
export const STX = 0x02;
export const ETX = 0x03;
export const CR = 0x0d;
export const LF = 0x0a;

/** One decoded tag read. `tag` is the 32-bit number printed on most fobs. */
export interface RdmFrame {
  /** D0, the EM4100 version/customer byte (0..255). */
  readonly customer: number;
  /** D1..D4 as an unsigned 32-bit integer. */
  readonly tag: number;
}

export type RdmFrameVariant = 'rdm6300' | 'id12la';

/** XOR over the five decoded data bytes (not over the ASCII characters). */
export function rdmChecksum(frame: RdmFrame): number {
  const { customer, tag } = frame;
  return (customer ^ (tag >>> 24) ^ ((tag >>> 16) & 0xff) ^ ((tag >>> 8) & 0xff) ^ (tag & 0xff)) & 0xff;
}

export interface EncodeOptions {
  readonly variant?: RdmFrameVariant;
  readonly lowercase?: boolean;
}

/**
 * Builds the bytes a reader would send for this tag. Used by the simulator and
 * tests; the daemon itself only decodes.
 */
export function encodeRdmFrame(frame: RdmFrame, options: EncodeOptions = {}): Buffer {
  if (!Number.isInteger(frame.customer) || frame.customer < 0 || frame.customer > 0xff) {
    throw new RangeError(`customer byte out of range: ${frame.customer}`);
  }
  if (!Number.isInteger(frame.tag) || frame.tag < 0 || frame.tag > 0xffff_ffff) {
    throw new RangeError('tag number out of range (expected an unsigned 32-bit integer)');
  }
  let text =
    frame.customer.toString(16).padStart(2, '0') +
    frame.tag.toString(16).padStart(8, '0') +
    rdmChecksum(frame).toString(16).padStart(2, '0');
  text = options.lowercase === true ? text.toLowerCase() : text.toUpperCase();
  const trailer = options.variant === 'id12la' ? [CR, LF, ETX] : [ETX];
  return Buffer.from([STX, ...Buffer.from(text, 'ascii'), ...trailer]);
}
