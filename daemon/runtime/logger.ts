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

/**
 * pino children copy their parent's level when created, so a reload that
 * changes the level must reach every child too: the root remembers them
 * (weakly; drivers restarted by a reload drop theirs).
 */
const childrenOf = new WeakMap<Logger, Set<WeakRef<Logger>>>();

export function setLogLevel(root: Logger, level: LevelWithSilent): void {
  root.level = level;
  const children = childrenOf.get(root);
  if (children === undefined) return;
  for (const ref of children) {
    const child = ref.deref();
    if (child === undefined) children.delete(ref);
    else child.level = level;
  }
}

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const children = new Set<WeakRef<Logger>>();
  const root = pino(
    {
      level,
      // Inherited by children, so grandchildren register with the root as well.
      onChild: (child) => {
        children.add(new WeakRef(child));
      },
      base: { svc: 'gatehouse' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
  childrenOf.set(root, children);
  return root;
}
