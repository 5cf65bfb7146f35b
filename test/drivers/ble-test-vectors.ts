/**
 * Byte-exact BLE vectors from /work/shared/reference/hardware-protocols.md §5,
 * in the form noble delivers them (manufacturerData with the company id;
 * serviceData without the UUID).
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export const IBEACON_1 = hex('4c000215e2c56db5dffb48d2b060d0f5a71096e000010002c5');
export const IBEACON_2 = hex('4c000215fda50693a4e24fb1afcfc6eb0764782527114cb9c5');
/** Full 31-byte payload `02 01 06 03 03 AA FE 17 16 AA FE <frame>`: the frame noble puts in serviceData. */
export const EDDYSTONE_UID = hex('00 EE 8B 0C A7 50 09 54 77 CB 3E 77 00 00 00 00 00 01 00 00');
export const EDDYSTONE_URL_EXAMPLE = hex('10 EC 03 65 78 61 6D 70 6C 65 00');
export const EDDYSTONE_URL_GOO_GL = hex('10 EE 03 67 6F 6F 2E 67 6C 2F 41 71 31 38 7A 46');
export const EDDYSTONE_TLM = hex('20 00 0B B8 18 40 00 00 12 34 00 00 4E 20');
export const ALTBEACON = hex('1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c500');
export { hex };
