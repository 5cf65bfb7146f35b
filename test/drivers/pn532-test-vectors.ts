/** Byte-exact frames from the hardware reference (§2 PN532); LCS and DCS valid. */
const bytes = (text: string): number[] => text.split(' ').map((pair) => Number.parseInt(pair, 16));

export const ACK = bytes('00 00 FF 00 FF 00');
export const NACK = bytes('00 00 FF FF 00 00');
export const APPLICATION_ERROR = bytes('00 00 FF 01 FF 7F 81 00');

/** Host → PN532 commands: code, parameters, full frame. */
export const commandFrames: readonly { name: string; code: number; params: number[]; frame: number[] }[] = [
  { name: 'GetFirmwareVersion', code: 0x02, params: [], frame: bytes('00 00 FF 02 FE D4 02 2A 00') },
  { name: 'SAMConfiguration normal, no timeout', code: 0x14, params: [0x01], frame: bytes('00 00 FF 03 FD D4 14 01 17 00') },
  {
    name: 'SAMConfiguration normal, timeout 1 s, IRQ on',
    code: 0x14,
    params: [0x01, 0x14, 0x01],
    frame: bytes('00 00 FF 05 FB D4 14 01 14 01 02 00'),
  },
  { name: 'MaxRetries passive 02', code: 0x32, params: [0x05, 0xff, 0x01, 0x02], frame: bytes('00 00 FF 06 FA D4 32 05 FF 01 02 F3 00') },
  { name: 'MaxRetries passive 00', code: 0x32, params: [0x05, 0xff, 0x01, 0x00], frame: bytes('00 00 FF 06 FA D4 32 05 FF 01 00 F5 00') },
  { name: 'MaxRetries passive FF', code: 0x32, params: [0x05, 0xff, 0x01, 0xff], frame: bytes('00 00 FF 06 FA D4 32 05 FF 01 FF F6 00') },
  { name: 'InListPassiveTarget MaxTg 1, 106 kbps A', code: 0x4a, params: [0x01, 0x00], frame: bytes('00 00 FF 04 FC D4 4A 01 00 E1 00') },
  { name: 'InListPassiveTarget MaxTg 2', code: 0x4a, params: [0x02, 0x00], frame: bytes('00 00 FF 04 FC D4 4A 02 00 E0 00') },
  { name: 'InRelease all', code: 0x52, params: [0x00], frame: bytes('00 00 FF 03 FD D4 52 00 DA 00') },
  { name: 'InDeselect all', code: 0x44, params: [0x00], frame: bytes('00 00 FF 03 FD D4 44 00 E8 00') },
  { name: 'RF field off', code: 0x32, params: [0x01, 0x00], frame: bytes('00 00 FF 04 FC D4 32 01 00 F9 00') },
  { name: 'Diagnose comm test "ABC"', code: 0x00, params: [0x00, 0x41, 0x42, 0x43], frame: bytes('00 00 FF 06 FA D4 00 00 41 42 43 66 00') },
];

/** PN532 → host responses: full frame and the data after TFI. */
export const responseFrames: readonly { name: string; frame: number[]; data: number[] }[] = [
  { name: 'GetFirmwareVersion (PN532 v1.6)', frame: bytes('00 00 FF 06 FA D5 03 32 01 06 07 E8 00'), data: bytes('03 32 01 06 07') },
  { name: 'SAMConfiguration', frame: bytes('00 00 FF 02 FE D5 15 16 00'), data: [0x15] },
  { name: 'RFConfiguration', frame: bytes('00 00 FF 02 FE D5 33 F8 00'), data: [0x33] },
  { name: 'InRelease', frame: bytes('00 00 FF 03 FD D5 53 00 D8 00'), data: [0x53, 0x00] },
];

export interface TargetVector {
  readonly name: string;
  readonly frame: number[];
  readonly sensRes: number;
  readonly sak: number;
  readonly uid: number[];
}

/** Real InListPassiveTarget responses (microbuilder/LPC1343CodeBase readme). */
export const targetFrames: readonly TargetVector[] = [
  {
    name: 'MIFARE Classic 1K, 4-byte UID',
    frame: bytes('00 00 FF 0C F4 D5 4B 01 01 00 04 08 04 9E B3 6E 66 A9 00'),
    sensRes: 0x0004,
    sak: 0x08,
    uid: bytes('9E B3 6E 66'),
  },
  {
    name: 'MIFARE Classic 1K',
    frame: bytes('00 00 FF 0C F4 D5 4B 01 01 00 04 08 04 6E 8A E2 B0 44 00'),
    sensRes: 0x0004,
    sak: 0x08,
    uid: bytes('6E 8A E2 B0'),
  },
  {
    name: 'MIFARE Classic 4K',
    frame: bytes('00 00 FF 0C F4 D5 4B 01 01 00 02 18 04 8A 4C B5 12 23 00'),
    sensRes: 0x0002,
    sak: 0x18,
    uid: bytes('8A 4C B5 12'),
  },
  {
    name: 'Ultralight/NTAG, 7-byte UID',
    frame: bytes('00 00 FF 0F F1 D5 4B 01 01 00 44 00 07 04 7B CB 51 96 22 80 C0 00'),
    sensRes: 0x0044,
    sak: 0x00,
    uid: bytes('04 7B CB 51 96 22 80'),
  },
  {
    name: 'NTAG215, synthetic UID',
    frame: bytes('00 00 FF 0F F1 D5 4B 01 01 00 44 00 07 04 11 22 33 44 55 66 2A 00'),
    sensRes: 0x0044,
    sak: 0x00,
    uid: bytes('04 11 22 33 44 55 66'),
  },
  {
    name: 'ISO 14443-4 with ATS (SAK 28)',
    frame: bytes('00 00 FF 1C E4 D5 4B 01 01 00 04 28 04 FD E6 08 99 10 78 80 90 02 20 90 00 00 00 00 00 FD E6 08 99 5C 00'),
    sensRes: 0x0004,
    sak: 0x28,
    uid: bytes('FD E6 08 99'),
  },
];

export const NO_TARGET = bytes('00 00 FF 03 FD D5 4B 00 E0 00');
