/**
 * scripts/install.sh and uninstall.sh in a throwaway root (ROOT=...): files
 * land where systemd and udev expect them, a second run changes nothing the
 * technician wrote, and uninstall keeps config and state unless asked.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

describe('install.sh / uninstall.sh', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const install = () => run('sh', [join(root, 'scripts/install.sh')], { env: { ...process.env, ROOT: dir.path } });
  const at = (p: string) => join(dir.path, p);

  it('installs program, config, secrets, unit, udev rules and the command; idempotent; keeps edited config', async () => {
    const first = await install();
    expect(first.stdout).toContain('wrote /etc/gatehouse/gatehouse.yaml from the example');
    expect(existsSync(at('opt/gatehouse/dist/daemon/cli/main.js'))).toBe(true);
    expect(readFileSync(at('etc/systemd/system/gatehouse.service'), 'utf8')).toMatch(/ExecStart=\/usr\/bin\/node (--[a-z0-9-]+=\S+ )*\/opt\/gatehouse\/dist\/daemon\/cli\/main\.js run/);
    expect(existsSync(at('etc/udev/rules.d/60-gatehouse.rules'))).toBe(true);
    const secrets = readFileSync(at('etc/gatehouse/secrets.yaml'), 'utf8');
    expect(secrets).toMatch(/^siteKey: [A-Za-z0-9+/=]{44}\n/);
    expect(statSync(at('etc/gatehouse/secrets.yaml')).mode & 0o777).toBe(0o600);

    writeFileSync(at('etc/gatehouse/gatehouse.yaml'), '# edited by the technician\n');
    const second = await install();
    expect(second.stdout).toContain('keeping existing /etc/gatehouse/gatehouse.yaml');
    expect(readFileSync(at('etc/gatehouse/gatehouse.yaml'), 'utf8')).toBe('# edited by the technician\n');
    expect(readFileSync(at('etc/gatehouse/secrets.yaml'), 'utf8')).toBe(secrets);

    // The installed command works and finds the installed program.
    const wrapper = readFileSync(at('usr/local/bin/gatehouse'), 'utf8');
    expect(wrapper).toContain('/opt/gatehouse/dist/daemon/cli/main.js');
  });

  it('the installed example config is valid once the MQTT password is filled in', async () => {
    await install();
    const config = readFileSync(at('etc/gatehouse/gatehouse.yaml'), 'utf8').replace('/etc/gatehouse/secrets.yaml', at('etc/gatehouse/secrets.yaml'));
    writeFileSync(at('check.yaml'), config);
    const cli = join(root, 'dist/daemon/cli/main.js');
    const missing = await run(process.execPath, [cli, 'config', 'check', '--config', at('check.yaml')]).catch((e: { stderr: string; code: number }) => e);
    expect('code' in missing && missing.code).toBe(1);
    expect(missing.stderr).toContain('mqttPassword: required because mqtt.username is set');
    writeFileSync(at('etc/gatehouse/secrets.yaml'), `${readFileSync(at('etc/gatehouse/secrets.yaml'), 'utf8')}mqttPassword: s3cret\n`, { mode: 0o600 });
    const ok = await run(process.execPath, [cli, 'config', 'check', '--config', at('check.yaml')]);
    expect(ok.stdout).toContain(': ok (site hq, gateway hq-gw1');
  });

  it('uninstall removes the program and keeps config and state unless PURGE=1', async () => {
    await install();
    await run('sh', [join(root, 'scripts/uninstall.sh')], { env: { ...process.env, ROOT: dir.path } });
    expect(existsSync(at('opt/gatehouse'))).toBe(false);
    expect(existsSync(at('etc/systemd/system/gatehouse.service'))).toBe(false);
    expect(existsSync(at('etc/gatehouse/secrets.yaml'))).toBe(true);
    await run('sh', [join(root, 'scripts/uninstall.sh')], { env: { ...process.env, ROOT: dir.path, PURGE: '1' } });
    expect(existsSync(at('etc/gatehouse'))).toBe(false);
  });
});
