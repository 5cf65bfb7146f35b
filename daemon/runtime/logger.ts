/**
 * pino to stdout as JSON lines, for journald. Credential values are carried
 * as SecretValue (which serialises as "[secret]"); the redaction paths are a
 * second line of defence for keys and passwords that reach a log object.
 * They stay narrow on purpose: redacting generic names such as "code" would
 * also hide errno and CONNACK codes a technician needs.
 */
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger };

export const redactPaths = [
  'password',
  '*.password',
  'mqttPassword',
  '*.mqttPassword',
  'siteKey',
  '*.siteKey',
  'secrets',
  '*.secrets',
  'pin',
  '*.pin',
];

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'gatehouse' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
