/** Byte-exact Modbus-RTU frames from the hardware reference (§4c); every CRC recomputed there. */
const bytes = (text: string): number[] => text.split(' ').map((pair) => Number.parseInt(pair, 16));

export const writeCoilVectors: readonly { slave: number; coil: number; on: boolean; frame: number[] }[] = [
  { slave: 1, coil: 0, on: true, frame: bytes('01 05 00 00 FF 00 8C 3A') },
  { slave: 1, coil: 0, on: false, frame: bytes('01 05 00 00 00 00 CD CA') },
  { slave: 1, coil: 1, on: true, frame: bytes('01 05 00 01 FF 00 DD FA') },
  { slave: 1, coil: 1, on: false, frame: bytes('01 05 00 01 00 00 9C 0A') },
  { slave: 1, coil: 2, on: true, frame: bytes('01 05 00 02 FF 00 2D FA') },
  { slave: 1, coil: 3, on: false, frame: bytes('01 05 00 03 00 00 3D CA') },
  { slave: 2, coil: 0, on: true, frame: bytes('02 05 00 00 FF 00 8C 09') },
];

export const READ_8_COILS = bytes('01 01 00 00 00 08 3D CC');
export const READ_COILS_REPLY_1_AND_3 = bytes('01 01 01 05 91 8B');
export const WRITE_8_COILS_ON = bytes('01 0F 00 00 00 08 01 FF BE D5');
export const WRITE_8_COILS_OFF = bytes('01 0F 00 00 00 08 01 00 FE 95');
export const EXCEPTION_ILLEGAL_ADDRESS = bytes('01 85 02 C3 51');
export const ANCHORS = [bytes('01 03 00 00 00 02 C4 0B'), bytes('01 04 00 00 00 02 71 CB')];

/** Published frames with wrong CRCs, and the CRC they should carry. */
export const WRONG_PUBLISHED: readonly { frame: number[]; correctCrc: [number, number] }[] = [
  { frame: bytes('01 06 00 00 00 64 89 D7'), correctCrc: [0x88, 0x21] },
  { frame: bytes('01 01 00 00 00 04 FD CA'), correctCrc: [0x3d, 0xc9] },
  { frame: bytes('02 01 00 00 00 04 78 3C'), correctCrc: [0x3d, 0xfa] },
];
