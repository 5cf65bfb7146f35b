/**
 * The wifi section of the config and the RADIUS secrets: defaults, address
 * validation, and a client without its secret refused at load, by path,
 * without printing any secret.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../daemon/config/load.js';
import { writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const SECRET = 'controller-secret-0123456789';

describe('wifi config', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.remove());

  const load = (body: string, secrets = '') => loadConfig(writeSite(dir.path, body, { secrets }));
  const problems = (body: string, secrets = ''): string => {
    try {
      load(body, secrets);
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    return '';
  };

  it('applies the defaults: ports 1812/1813, check-in on Accounting-Start', () => {
    const { config, secrets } = load(`wifi: { radius: { clients: [{ name: unifi, address: 192.168.1.0/24 }] } }\n`, `radiusSecrets: { unifi: ${SECRET} }\n`);
    expect(config.wifi?.radius).toMatchObject({ host: '0.0.0.0', authPort: 1812, acctPort: 1813, checkInOn: 'accounting-start', duplicateWindowS: 30 });
    expect(secrets.radiusSecrets?.unifi).toBe(SECRET);
  });

  it('refuses bad addresses, equal ports, duplicate names, short secrets and a client without a secret', () => {
    expect(problems(`wifi: { radius: { clients: [{ name: a, address: 10.0.0.0/33 }] } }\n`)).toMatch(/wifi\.radius\.clients\[0\]\.address: expected an IP address or a CIDR block/);
    expect(problems(`wifi: { radius: { clients: [{ name: a, address: not-an-ip }] } }\n`)).toMatch(/CIDR/);
    expect(problems(`wifi: { radius: { authPort: 1812, acctPort: 1812, clients: [{ name: a, address: 10.0.0.1 }] } }\n`)).toMatch(/must differ/);
    expect(problems(`wifi: { radius: { clients: [{ name: a, address: 10.0.0.1 }, { name: a, address: "::1" }] } }\n`)).toMatch(/unique/);
    expect(problems(`wifi: { radius: { clients: [{ name: a, address: 10.0.0.1 }] } }\n`, 'radiusSecrets: { a: short }\n')).toMatch(/at least 16 characters/);
    const missing = problems(`wifi: { radius: { clients: [{ name: a, address: 10.0.0.1 }, { name: b, address: 10.0.0.2 }] } }\n`, `radiusSecrets: { a: ${SECRET} }\n`);
    expect(missing).toMatch(/radiusSecrets\.b: required for wifi\.radius client "b"/);
    expect(missing).not.toContain(SECRET);
  });
});
