import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../daemon/config/load.js';
import { configJsonSchema } from '../../daemon/config/schema.js';
import { tempDir } from '../support/temp-dir.js';

const demo = join(import.meta.dirname, '../../config/demo.yaml');
const siteKey = Buffer.alloc(32, 1).toString('base64');

describe('config loading', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
    writeFileSync(join(dir.path, 'secrets.yaml'), `siteKey: ${siteKey}\n`, { mode: 0o600 });
  });
  afterEach(() => dir.remove());

  const write = (yaml: string): string => {
    const path = join(dir.path, 'gatehouse.yaml');
    writeFileSync(path, yaml);
    return path;
  };

  const problemsOf = (path: string) => {
    try {
      loadConfig(path);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('accepts the bundled demo config and resolves paths next to it', () => {
    const loaded = loadConfig(demo);
    expect(loaded.config.site.id).toBe('demo');
    expect(loaded.config.store.path).toMatch(/\/var\/demo\.db$/);
    expect(loaded.config.doors[0]?.lockType).toBe('fail-secure');
    expect(loaded.siteKey.length).toBeGreaterThanOrEqual(32);
    // git does not keep mode 0600, so a fresh clone may warn about the demo secrets (npm start fixes it).
    expect(loaded.warnings.every((w) => w.includes('chmod 600'))).toBe(true);
  });

  it('lists every problem with its path and line', () => {
    const path = write(`site:
  id: hq
  timezone: Mars/Olympus
gateway: { id: gw1 }
secretsFile: secrets.yaml
store: { path: g.db }
doors:
  - id: front
    relay: { driver: lcus, path: /dev/ttyUSB1, channel: 9 }
    pulseMs: 50
readers:
  - { id: r1, driver: rdm6300, path: /dev/ttyUSB0, door: back, mode: entry }
  - { id: r1, driver: laser, mode: entry }
`);
    const problems = problemsOf(path);
    const byPath = new Map(problems.map((p) => [p.path, p]));
    expect(byPath.get('site.timezone')?.line).toBe(3);
    expect(byPath.get('doors[0].relay.channel')?.line).toBe(9);
    expect(byPath.get('doors[0].pulseMs')?.line).toBe(10);
    expect(byPath.get('readers[1].driver')?.line).toBe(13);
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(String(new ConfigError(problems).message)).toContain(`${path}:3: site.timezone: not an IANA time zone`);
  });

  it('reports cross-references: unknown door, duplicate ids, unknown schedule, shared relay channel', () => {
    const path = write(`site: { id: hq, timezone: Europe/London }
gateway: { id: gw1 }
secretsFile: secrets.yaml
store: { path: g.db }
doors:
  - { id: a, relay: { driver: lcus, path: /dev/x, channel: 1 }, schedule: nights }
  - { id: b, relay: { driver: lcus, path: /dev/x, channel: 1 } }
readers:
  - { id: r1, driver: sim, door: c, mode: entry }
  - { id: r1, driver: sim, mode: exit }
`);
    const messages = problemsOf(path).map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'readers[1].id: duplicate reader id "r1"',
        'readers[0].door: no door with id "c"',
        'doors[0].schedule: no schedule named "nights"',
        'doors[1].relay: relay channel already used by door "a"',
      ]),
    );
  });

  it('reports YAML syntax errors with a line, and unknown keys', () => {
    expect(problemsOf(write('site: { id: hq\n  timezone: x\n'))[0]?.message).toMatch(/^YAML:/);
    const unknown = problemsOf(write(`site: { id: hq, timezone: Europe/London }
gateway: { id: gw1 }
secretsFile: secrets.yaml
store: { path: g.db }
dors: []
`));
    expect(unknown[0]?.message).toMatch(/Unrecognized key/);
    expect(unknown[0]?.line).toBe(1);
  });

  it('validates the secrets file, requires the MQTT password with a username, and warns about permissions', () => {
    const base = `site: { id: hq, timezone: Europe/London }
gateway: { id: gw1 }
secretsFile: secrets.yaml
store: { path: g.db }
`;
    writeFileSync(join(dir.path, 'secrets.yaml'), 'siteKey: short\n');
    expect(problemsOf(write(base))[0]).toMatchObject({ path: 'siteKey' });

    writeFileSync(join(dir.path, 'secrets.yaml'), `siteKey: ${siteKey}\n`);
    expect(problemsOf(write(`${base}mqtt: { url: "mqtts://b:8883", username: gw }\n`))[0]).toMatchObject({ path: 'mqttPassword' });

    chmodSync(join(dir.path, 'secrets.yaml'), 0o644);
    expect(loadConfig(write(base)).warnings[0]).toMatch(/chmod 600/);
  });

  it('exports a JSON Schema that describes the doors and readers', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['site', 'doors', 'readers', 'mqtt']));
    expect(schema.required).toEqual(expect.arrayContaining(['site', 'gateway', 'secretsFile', 'store']));
  });
});

describe('config/gatehouse.schema.json', () => {
  it('is the schema the daemon validates with (regenerate: npm run build && node dist/daemon/cli/main.js config schema > config/gatehouse.schema.json)', async () => {
    const { readFileSync } = await import('node:fs');
    const onDisk: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '../../config/gatehouse.schema.json'), 'utf8'));
    expect(onDisk).toEqual(configJsonSchema());
  });
});
