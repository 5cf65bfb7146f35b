/**
 * The slice of a pino logger that drivers use. Kept this small so tests can
 * capture log lines and so drivers never depend on how the daemon builds its
 * logger.
 */
export interface DriverLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export const silentLogger: DriverLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
