/**
 * `gatehouse run`: validate, start, and stop cleanly on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig } from '../config/load.js';
import { Gateway } from '../runtime/gateway.js';
import { createLogger } from '../runtime/logger.js';
import { gatehouseVersion } from '../runtime/version.js';
import type { CliOptions } from './main.js';

export async function runCommand(options: CliOptions): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(options.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Refuse to start, and say everything that is wrong at once.
    console.error(`gatehouse: refusing to start, ${error.problems.length} problem(s) in the configuration:`);
    console.error(error.message.replace(/^/gm, '  '));
    return 1;
  }
  const logger = createLogger(loaded.config.log.level);
  for (const warning of loaded.warnings) logger.warn(warning);
  const gateway = await Gateway.start(loaded, logger, gatehouseVersion());

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      gateway.stop().then(
        () => {
          logger.flush();
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          logger.flush();
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
