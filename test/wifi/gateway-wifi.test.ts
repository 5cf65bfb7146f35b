/**
 * The gateway builds, starts and stops the Wi-Fi check-in from its config:
 * a real radclient sign-in reaches the journal, and status reports it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { radclient } from '../support/radclient.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const SECRET = 'gateway-test-radius-secret';

describe('gateway with wifi.radius', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway;
  const log = memoryLogger();

  beforeEach(async () => {
    dir = tempDir();
    const loaded = loadConfig(
      writeSite(dir.path, `wifi: { radius: { host: 127.0.0.1, authPort: 0, acctPort: 0, clients: [{ name: lobby, address: 127.0.0.1 }] } }\n`, {
        secrets: `radiusSecrets: { lobby: ${SECRET} }\n`,
      }),
    );
    gateway = await Gateway.start(loaded, log.logger, '0.0.0-test');
  });
  afterEach(async () => {
    await gateway.stop();
    dir.remove();
  });

  it('answers a sign-in, journals it on the wifi channel and reports counters in status', async () => {
    const ports = gateway.status().wifi?.ports;
    expect(ports?.authPort).toBeGreaterThan(0);
    const reply = await radclient({
      port: ports?.authPort ?? 0,
      service: 'auth',
      secret: SECRET,
      dir: dir.path,
      attributes: ['User-Name = "nobody@example.org"', `User-Password = "${demo.ada.pin}"`, 'Calling-Station-Id = "02-00-00-00-00-01"', 'Message-Authenticator = 0x00'],
    });
    expect(reply.reply).toBe('Access-Reject');
    expect(reply.attributes['Reply-Message']).toEqual(['The email address or the code is not right.']);
    const event = gateway.journal.recent(1)[0];
    expect(JSON.parse(event?.payload ?? '{}')).toMatchObject({ channel: 'wifi', readerId: 'wifi:lobby/02:00:00:00:00:01', decision: { reason: 'unknown_credential' } });
    expect(gateway.status().wifi).toMatchObject({ checkin: { rejected: 1 }, radius: { answered: 1 } });
    expect(log.lines.join('\n')).not.toContain(SECRET);
  });
});
