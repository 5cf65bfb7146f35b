/**
 * Reading the technician's YAML: parse, validate against the schema, resolve
 * relative paths, load the secrets file. Every problem is collected and
 * reported with its path and line, and nothing is opened or touched until the
 * whole configuration is valid.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, secretsSchema, type GatehouseConfig, type Secrets } from './schema.js';

export interface ConfigProblem {
  readonly file: string;
  /** Dotted path in the document, e.g. "readers[0].door"; empty for the whole file. */
  readonly path: string;
  /** 1-based line, when the location is known. */
  readonly line: number | null;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = `${p.file}${p.line === null ? '' : `:${p.line}`}`;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

export interface LoadedConfig {
  readonly path: string;
  readonly config: GatehouseConfig;
  readonly secrets: Secrets;
  /** The site key decoded from the secrets file. */
  readonly siteKey: Buffer;
  /** Non-fatal findings, such as a secrets file readable by others. */
  readonly warnings: readonly string[];
}

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc === '' ? String(key) : `${acc}.${String(key)}`), '');

function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | null {
  // Walk up until a node exists: a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}

function parseYamlFile<S extends z.ZodType>(file: string, schema: S): { value: z.infer<S> } | { problems: ConfigProblem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { problems: [{ file, path: '', line: null, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        file,
        path: '',
        line: e.linePos?.[0].line ?? lines.linePos(e.pos[0]).line,
        message: `YAML: ${e.message.split('\n')[0] ?? e.code}`,
      })),
    };
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return { value: result.data };
  return {
    problems: result.error.issues.map((issue) => ({
      file,
      path: formatPath(issue.path),
      line: lineOf(doc, lines, issue.path),
      message: issue.message,
    })),
  };
}

export const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Load and validate a config file and its secrets. Throws ConfigError listing every problem. */
export function loadConfig(configPath: string): LoadedConfig {
  const path = resolve(configPath);
  const parsed = parseYamlFile(path, configSchema);
  if ('problems' in parsed) throw new ConfigError(parsed.problems);
  const base = dirname(path);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const raw = parsed.value;
  const config: GatehouseConfig = {
    ...raw,
    secretsFile: abs(raw.secretsFile),
    store: { ...raw.store, path: raw.store.path === ':memory:' ? raw.store.path : abs(raw.store.path), seedFile: raw.store.seedFile === undefined ? undefined : abs(raw.store.seedFile) },
    control: { socket: abs(raw.control.socket) },
  };
  const kioskTls = raw.kiosk?.tls;
  if (raw.kiosk !== undefined && kioskTls !== undefined) {
    config.kiosk = { ...raw.kiosk, tls: { certFile: abs(kioskTls.certFile), keyFile: abs(kioskTls.keyFile) } };
  }
  const tls = raw.mqtt?.tls;
  if (raw.mqtt !== undefined && tls !== undefined) {
    config.mqtt = { ...raw.mqtt, tls: { ...tls, caFile: abs(tls.caFile), certFile: abs(tls.certFile), keyFile: abs(tls.keyFile) } };
    const unreadable = (['caFile', 'certFile', 'keyFile'] as const).flatMap((key): ConfigProblem[] => {
      const file = config.mqtt?.tls?.[key] ?? '';
      try {
        readFileSync(file);
        return [];
      } catch (error) {
        return [{ file: path, path: `mqtt.tls.${key}`, line: null, message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }];
      }
    });
    if (unreadable.length > 0) throw new ConfigError(unreadable);
  }

  const secretsParsed = parseYamlFile(config.secretsFile, secretsSchema);
  if ('problems' in secretsParsed) throw new ConfigError(secretsParsed.problems);
  const secrets = secretsParsed.value;
  const siteKey = Buffer.from(secrets.siteKey, 'base64');
  if (siteKey.length < 32) {
    throw new ConfigError([{ file: config.secretsFile, path: 'siteKey', line: null, message: 'decodes to fewer than 32 bytes' }]);
  }
  const missingRadius = (config.wifi?.radius.clients ?? []).filter((c) => secrets.radiusSecrets?.[c.name] === undefined);
  if (missingRadius.length > 0) {
    throw new ConfigError(
      missingRadius.map((c) => ({ file: config.secretsFile, path: `radiusSecrets.${c.name}`, line: null, message: `required for wifi.radius client "${c.name}" in ${path}` })),
    );
  }
  if (config.mqtt?.username !== undefined && secrets.mqttPassword === undefined) {
    throw new ConfigError([{ file: config.secretsFile, path: 'mqttPassword', line: null, message: `required because mqtt.username is set in ${path}` }]);
  }

  const http = config.http;
  if (http.enabled && !isLoopbackHost(http.host) && secrets.httpToken === undefined) {
    throw new ConfigError([{ file: config.secretsFile, path: 'httpToken', line: null, message: `required because http.host (${http.host}) is not a loopback address in ${path}` }]);
  }

  const warnings: string[] = [];
  const mode = statSync(config.secretsFile).mode & 0o077;
  if (mode !== 0) warnings.push(`${config.secretsFile} is readable by group or others; run: chmod 600 ${config.secretsFile}`);
  const keyFile = config.mqtt?.tls?.keyFile;
  // The TLS key authenticates this gateway to the broker: a secret like the site key.
  if (keyFile !== undefined && (statSync(keyFile).mode & 0o077) !== 0) {
    warnings.push(`${keyFile} (mqtt.tls.keyFile) is readable by group or others; run: chmod 600 ${keyFile}`);
  }
  return { path, config, secrets, siteKey, warnings };
}
