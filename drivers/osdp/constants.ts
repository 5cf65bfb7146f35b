/**
 * OSDP v2.2 numbers: command and reply codes, NAK reasons, secure channel
 * block types and the install key. Names follow libosdp (src/osdp_common.h).
 * Shared by the Control Panel and the test PD emulator: constants only.
 */

export const OSDP_SOM = 0x53;
export const OSDP_MARK = 0xff;
export const OSDP_BROADCAST = 0x7f;
/** Bit 7 of ADDR is set on every reply from a PD. */
export const OSDP_REPLY_FLAG = 0x80;

/** CTRL bits. */
export const CTRL_SQN_MASK = 0x03;
export const CTRL_CRC = 0x04;
export const CTRL_SCB = 0x08;

/** SOM, ADDR, LEN (2), CTRL, CODE: the smallest header; plus 1 or 2 check bytes. */
export const OSDP_HEADER_LENGTH = 5;
export const OSDP_MIN_PACKET = 7;
/** Longest packet accepted; libosdp's default buffer is 256, PDs report up to ~1 KiB. */
export const OSDP_MAX_PACKET = 1440;

export const CMD = {
  POLL: 0x60,
  ID: 0x61,
  CAP: 0x62,
  LSTAT: 0x64,
  ISTAT: 0x65,
  OSTAT: 0x66,
  RSTAT: 0x67,
  OUT: 0x68,
  LED: 0x69,
  BUZ: 0x6a,
  TEXT: 0x6b,
  COMSET: 0x6e,
  KEYSET: 0x75,
  CHLNG: 0x76,
  SCRYPT: 0x77,
  KEEPACTIVE: 0xa7,
} as const;

export const REPLY = {
  ACK: 0x40,
  NAK: 0x41,
  PDID: 0x45,
  PDCAP: 0x46,
  LSTATR: 0x48,
  ISTATR: 0x49,
  OSTATR: 0x4a,
  RSTATR: 0x4b,
  RAW: 0x50,
  FMT: 0x51,
  KEYPAD: 0x53,
  COM: 0x54,
  CCRYPT: 0x76,
  RMAC_I: 0x78,
  BUSY: 0x79,
} as const;

export const NAK = {
  NONE: 0,
  CHECK: 1,
  LENGTH: 2,
  UNKNOWN_COMMAND: 3,
  SEQUENCE: 4,
  SC_UNSUPPORTED: 5,
  SC_CONDITIONS: 6,
  RECORD: 9,
} as const;

/** Secure channel block types (SCB_TYPE). */
export const SCS = {
  CHLNG: 0x11,
  CCRYPT: 0x12,
  SCRYPT: 0x13,
  RMAC_I: 0x14,
  /** CP→PD, MAC only. */
  CMD_MAC: 0x15,
  /** PD→CP, MAC only. */
  REPLY_MAC: 0x16,
  /** CP→PD, encrypted data and MAC. */
  CMD_ENC: 0x17,
  /** PD→CP, encrypted data and MAC. */
  REPLY_ENC: 0x18,
} as const;

/** The default Secure Channel Base Key, accepted only by a PD in install mode. */
export const SCBK_D: Buffer = Buffer.from('303132333435363738393a3b3c3d3e3f', 'hex');

/** PDCAP function codes used by the CP. */
export const CAP = {
  CONTACT_STATUS: 1,
  OUTPUT_CONTROL: 2,
  CARD_FORMAT: 3,
  READER_LED: 4,
  READER_AUDIBLE: 5,
  CHECK_CHARACTER: 8,
  COMMUNICATION_SECURITY: 9,
  RECEIVE_BUFFER: 10,
  OSDP_VERSION: 16,
} as const;

export const LED_COLOUR = { off: 0, red: 1, green: 2, amber: 3, blue: 4 } as const;

/** OUT control codes (osdp_OUT). */
export const OUT_CTRL = {
  NOP: 0,
  PERMANENT_OFF: 1,
  PERMANENT_ON: 2,
  TEMPORARY_ON: 5,
} as const;

/** KEYSET key type: the Secure Channel Base Key. */
export const KEYSET_TYPE_SCBK = 0x01;

export function replyName(code: number): string {
  for (const [name, value] of Object.entries(REPLY)) if (value === code) return name;
  return `0x${code.toString(16).padStart(2, '0')}`;
}
