/**
 * `gatehouse run`: validate, start, tell systemd when ready, keep its
 * watchdog fed from the event loop, reload on SIGHUP, and stop cleanly on
 * SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { Gateway } from '../runtime/gateway.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { createServiceNotifier, type ServiceNotifier } from '../runtime/sd-notify.js';
import { lowerOtherThreads } from '../runtime/thread-priority.js';
import { gatehouseVersion } from '../runtime/version.js';
import type { CliOptions } from './main.js';

/** How often STATUS= is refreshed when there is no watchdog to piggyback on. */
const STATUS_INTERVAL_MS = 10_000;

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
  // Door decisions run on this thread: V8's and libuv's helpers go below it, before any work starts.
  const lowered = lowerOtherThreads();
  if (lowered.refused !== null) logger.warn({ reason: lowered.refused }, 'helper threads could not be put below the event loop: decisions may wait for a core while a snapshot is applied');
  else logger.debug({ threads: lowered.threads.length }, 'helper threads run below the event loop');
  // Before anything is opened: under systemd, a notify path that cannot work must stop the start, loudly.
  const notifier = await createServiceNotifier(logger);
  notifier.status('starting: opening the store and the doors');
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(loaded, logger, gatehouseVersion());
    await gateway.doorsInBootState();
  } catch (error) {
    await notifier.close();
    throw error;
  }
  notifier.ready(gateway.statusLine());
  const heartbeat = startHeartbeat(gateway, notifier, logger);

  return new Promise<number>((resolve) => {
    let stopping = false;
    let reloading: Promise<void> = Promise.resolve();
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(heartbeat);
      process.off('SIGHUP', reload);
      logger.info({ signal }, 'stopping');
      notifier.stopping('stopping: locking doors, flushing the journal');
      void reloading
        .then(() => gateway.stop())
        .then(
          () => 0,
          (error: unknown) => {
            logger.error({ err: error }, 'error while stopping');
            return 1;
          },
        )
        .then(async (code) => {
          await notifier.close();
          logger.flush();
          resolve(code);
        });
    };
    const reload = (): void => {
      reloading = reloading.then(() => reloadConfig(options.config, gateway, notifier, logger));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', reload);
  });
}

/**
 * WATCHDOG=1 from a timer on the event loop, only while local health holds:
 * a stalled loop or a dead store stops the pings and systemd restarts us.
 */
function startHeartbeat(gateway: Gateway, notifier: ServiceNotifier, logger: Logger): NodeJS.Timeout {
  let lastStatus = '';
  let unhealthy: string | null = null;
  const tick = (): void => {
    const health = gateway.health();
    if (!health.ok) {
      if (unhealthy !== health.reason) logger.error({ reason: health.reason }, 'unhealthy: withholding the systemd watchdog ping');
      unhealthy = health.reason;
      notifier.status(`unhealthy: ${health.reason}`);
      return;
    }
    if (unhealthy !== null) logger.info('healthy again');
    unhealthy = null;
    notifier.watchdog();
    const line = gateway.statusLine();
    if (line !== lastStatus) notifier.status(line);
    lastStatus = line;
  };
  const timer = setInterval(tick, notifier.watchdogIntervalMs ?? STATUS_INTERVAL_MS);
  // Without systemd there is nothing to ping; the timer must not keep the process alive either way.
  timer.unref();
  return timer;
}

/** SIGHUP: validate first; a bad file is refused with its reasons and nothing changes. */
async function reloadConfig(path: string, gateway: Gateway, notifier: ServiceNotifier, logger: Logger): Promise<void> {
  notifier.reloading();
  let next: LoadedConfig;
  try {
    next = loadConfig(path);
  } catch (error) {
    const problems = error instanceof ConfigError ? error.problems.map((p) => `${p.path === '' ? '' : `${p.path}: `}${p.message}${p.line === null ? '' : ` (line ${p.line})`}`) : [String(error)];
    logger.error({ problems }, 'reload refused: the configuration is invalid; still running on the previous one');
    notifier.ready(`reload refused (${problems.length} problem(s) in ${path}); ${gateway.statusLine()}`);
    return;
  }
  try {
    const plan = await gateway.reload(next);
    for (const warning of next.warnings) logger.warn(warning);
    logger.info({ applied: plan.summary, restartRequired: plan.restartRequired }, plan.summary.length === 0 ? 'reloaded: nothing to change live' : 'reloaded');
    if (plan.restartRequired.length > 0) {
      logger.warn({ restartRequired: plan.restartRequired }, 'these settings changed but only take effect after: systemctl restart gatehouse');
    }
    const pending = plan.restartRequired.length === 0 ? '' : `; restart needed for ${plan.restartRequired.join(', ')}`;
    notifier.ready(`reloaded${pending}; ${gateway.statusLine()}`);
  } catch (error) {
    logger.error({ err: error }, 'reload failed part-way; check `gatehouse status`');
    notifier.ready(`reload failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
