import type { CardFormat } from '../../daemon/config/schema.js';
import type { RdmFrame } from './frame.js';

/**
 * Maps a decoded tag to the string the platform stores for it. Must match
 * what is printed on the fob or what other readers on site produce, or the
 * member's card will not be recognised.
 */
export function formatCardNumber(frame: RdmFrame, format: CardFormat): string {
  switch (format) {
    case 'decimal10':
      // The 32-bit tag (D1..D4) in decimal; D0 is not printed on fobs.
      return frame.tag.toString(10).padStart(10, '0');
    case 'fc-cn': {
      // What a Wiegand-26 reader reports for the same card: D2 and D3D4; D0 and D1 are dropped.
      const facility = (frame.tag >>> 16) & 0xff;
      const cardNumber = frame.tag & 0xffff;
      return `${facility.toString(10).padStart(3, '0')},${cardNumber.toString(10).padStart(5, '0')}`;
    }
    case 'hex':
      return (frame.customer.toString(16).padStart(2, '0') + frame.tag.toString(16).padStart(8, '0')).toUpperCase();
  }
}
