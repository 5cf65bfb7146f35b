import type { WiegandCard } from '../wiegand/decode.js';
import { WIEGAND_FORMATS } from '../wiegand/formats.js';

/**
 * The number the platform stores for a Wiegand card. For FC 123 / CN 4567
 * (H10301, body 0x7B11D7):
 *
 *   decimal10  0008065495   all data bits in decimal, at least 10 digits (what
 *                           USB Wiegand dongles type; for a 34-bit frame of an EM
 *                           card it is the number printed on the fob)
 *   fc-cn      123,04567    facility and card number, each zero-padded to the
 *                           widest value its field can hold
 *   hex        7B11D7       all data bits in hex (what WG2RS232 converters send)
 */
export const WIEGAND_CARD_FORMATS = ['decimal10', 'fc-cn', 'hex'] as const;
export type WiegandCardFormat = (typeof WIEGAND_CARD_FORMATS)[number];

export function formatWiegandCard(card: WiegandCard, format: WiegandCardFormat): string {
  switch (format) {
    case 'decimal10':
      return card.body.toString(10).padStart(10, '0');
    case 'hex':
      return card.body.toString(16).toUpperCase().padStart(Math.ceil(card.bodyLength / 4), '0');
    case 'fc-cn': {
      const layout = WIEGAND_FORMATS[card.format];
      const cardText = padToField(card.card, layout.card.length);
      if (layout.facility === undefined || card.facility === undefined) return cardText;
      return `${padToField(card.facility, layout.facility.length)},${cardText}`;
    }
  }
}

/** Zero-pads to the digits of the field's largest value: 8 bits → 3, 16 → 5, 20 → 7. */
function padToField(value: number, bits: number): string {
  const width = (2 ** bits - 1).toString(10).length;
  return value.toString(10).padStart(width, '0');
}
