import { ConfigError, loadConfig } from '../config/load.js';
import { configJsonSchema } from '../config/schema.js';
import type { CliOptions } from './main.js';

/** Validate config and secrets; open no device, write nothing. Exit 1 on any problem. */
export function configCheckCommand(options: CliOptions): number {
  try {
    const loaded = loadConfig(options.config);
    for (const warning of loaded.warnings) console.error(`warning: ${warning}`);
    const { config } = loaded;
    console.log(
      `${loaded.path}: ok (site ${config.site.id}, gateway ${config.gateway.id}, ${config.doors.length} door(s), ${config.readers.length} reader(s), uplink ${config.mqtt === undefined ? 'disabled' : config.mqtt.url})`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${error.problems.length} problem(s) in the configuration:`);
    console.error(error.message.replace(/^/gm, '  '));
    return 1;
  }
}

export function configSchemaCommand(): number {
  console.log(JSON.stringify(configJsonSchema(), null, 2));
  return 0;
}
