/**
 * MQTT over TLS with per-gateway client certificates, against a real
 * Mosquitto configured the way docs/mqtt-contract.md tells a fleet to:
 * require_certificate, the certificate CN as the username, and the
 * documented ACL. Certificates are made by openssl for each run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import type { MqttConfig } from '../../daemon/config/schema.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { MqttLink } from '../../daemon/uplink/mqtt-link.js';
import { delay, disposeAll, startMosquitto, subscribe, waitUntil, type Mosquitto } from '../support/mosquitto.js';
import { memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { createCa, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../support/tls-certs.js';

const WAIT_MS = 20_000;

/** The ACL from docs/mqtt-contract.md ("Broker ACL"), verbatim apart from the cloud's user name. */
const FLEET_ACL = `# Gateways: username = certificate CN = gateway id.
pattern readwrite gatehouse/v1/%u/#

# The cloud's consumers.
user cloud
topic readwrite gatehouse/v1/#
`;

describe('MQTT over TLS with client certificates', () => {
  let certs: ReturnType<typeof tempDir>;
  let ca: CertificateAuthority;
  let rogueCa: CertificateAuthority;
  let server: IssuedCertificate;
  let gw1: IssuedCertificate;
  let gw2: IssuedCertificate;
  let cloud: IssuedCertificate;
  let rogueGw1: IssuedCertificate;
  let rogueServer: IssuedCertificate;
  let broker: Mosquitto;
  const links: MqttLink[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    certs = tempDir('gatehouse-certs-');
    ca = await createCa(certs.path, 'fleet-ca');
    rogueCa = await createCa(certs.path, 'rogue-ca');
    [server, gw1, gw2, cloud, rogueGw1, rogueServer] = await Promise.all([
      issueCertificate(certs.path, ca, 'broker', 'server'),
      issueCertificate(certs.path, ca, 'gw1', 'client'),
      issueCertificate(certs.path, ca, 'gw2', 'client'),
      issueCertificate(certs.path, ca, 'cloud', 'client'),
      issueCertificate(certs.path, rogueCa, 'gw1', 'client'),
      issueCertificate(certs.path, rogueCa, 'broker', 'server'),
    ]);
  });

  afterAll(() => certs.remove());

  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.stop(1_000)));
    await Promise.all(clients.splice(0).map((c) => new Promise<void>((resolve) => c.end(true, () => resolve()))));
    await disposeAll();
  });

  const startBroker = (serverCert: IssuedCertificate = server) =>
    startMosquitto({
      tls: { caFile: ca.certFile, certFile: serverCert.certFile, keyFile: serverCert.keyFile, requireCertificate: true, useIdentityAsUsername: true },
      acl: FLEET_ACL,
    });

  const link = (gatewayId: string, client: IssuedCertificate, caFile = ca.certFile): MqttLink => {
    const config: MqttConfig = {
      url: broker.url,
      topicPrefix: 'gatehouse/v1',
      keepaliveS: 30,
      reconnectMs: 200,
      connectTimeoutMs: 5_000,
      maxInflight: 64,
      tls: { caFile, certFile: client.certFile, keyFile: client.keyFile },
    };
    const created = new MqttLink({ config, gatewayId, siteId: 'site', bootId: 'boot', version: '0.0.0', logger: pino({ level: 'silent' }) });
    links.push(created);
    return created;
  };

  const cloudTls = () => ({ caFile: ca.certFile, certFile: cloud.certFile, keyFile: cloud.keyFile });

  /** A plain mqtt.js client with a certificate, for publishing as the cloud or as another gateway. */
  const tlsClient = async (cert: IssuedCertificate): Promise<MqttClient> => {
    const client = connect(broker.url, { ca: readFileSync(ca.certFile), cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile), reconnectPeriod: 100 });
    client.on('error', () => undefined);
    clients.push(client);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    return client;
  };

  it('connects with a certificate from the fleet CA, and the ACL keeps each gateway in its own subtree', async () => {
    broker = await startBroker();
    const watcher = await subscribe(broker.url, ['gatehouse/v1/#'], { tls: cloudTls() });
    // gw2 tries to listen to gw1's subtree: the ACL refuses it.
    const snoop = await subscribe(broker.url, ['gatehouse/v1/gw1/#'], { tls: { caFile: ca.certFile, certFile: gw2.certFile, keyFile: gw2.keyFile } });

    const first = link('gw1', gw1);
    const received: string[] = [];
    first.subscribe('gatehouse/v1/gw1/cmd', (payload) => received.push(payload.toString()));
    first.start();
    await waitUntil(() => first.state === 'connected', WAIT_MS, 'gw1 connected over TLS');
    await watcher.waitFor((ms) => ms.some((m) => m.topic === 'gatehouse/v1/gw1/status'), WAIT_MS, "gw1's status");

    // The cloud reaches gw1; gw2 cannot write into gw1's subtree.
    const cloudPublisher = await tlsClient(cloud);
    const intruder = await tlsClient(gw2);
    await intruder.publishAsync('gatehouse/v1/gw1/cmd', 'from gw2', { qos: 1 });
    // Repeated until it arrives: a message published before gw1's SUBACK is not delivered.
    for (let attempt = 0; !received.includes('from the cloud'); attempt++) {
      if (attempt * 100 > WAIT_MS) throw new Error('the cloud message never reached gw1');
      await cloudPublisher.publishAsync('gatehouse/v1/gw1/cmd', 'from the cloud', { qos: 1 });
      await delay(100);
    }

    // gw1 pretending to be gw2 is not delivered (Mosquitto 2 also drops the
    // connection of a client publishing outside its ACL; the link reconnects).
    await first.publish('gatehouse/v1/gw2/status', 'forged').catch(() => undefined);
    for (let attempt = 0; !watcher.messages.some((m) => m.payload === 'own'); attempt++) {
      if (attempt * 100 > WAIT_MS) throw new Error("gw1's own event never arrived");
      await first.publish('gatehouse/v1/gw1/events/access', 'own').catch(() => undefined);
      await delay(100);
    }
    await watcher.sync();
    expect(watcher.messages.map((m) => m.payload)).not.toContain('forged');
    expect(watcher.messages.map((m) => m.payload)).not.toContain('from gw2');
    expect(received).not.toContain('from gw2');
    await snoop.sync();
    expect(snoop.messages).toEqual([]);
  });

  it('the broker refuses a client certificate from another CA', async () => {
    broker = await startBroker();
    const rogue = link('gw1', rogueGw1);
    rogue.start();
    await waitUntil(() => rogue.counters.connectFailures >= 2, WAIT_MS, 'two refused attempts');
    expect(rogue.counters.connects).toBe(0);
    expect(rogue.state).not.toBe('connected');
    expect(rogue.lastError?.kind).toMatch(/^(tls|network|closed)$/);
  });

  it('the gateway refuses a broker whose certificate does not chain to its caFile', async () => {
    broker = await startBroker(rogueServer);
    const careful = link('gw1', gw1);
    careful.start();
    await waitUntil(() => careful.counters.connectFailures >= 2, WAIT_MS, 'two refused attempts');
    expect(careful.counters.connects).toBe(0);
    expect(careful.lastError).toMatchObject({ kind: 'tls' });
  });

  it('the daemon reads tls paths relative to its config file and connects', async () => {
    broker = await startBroker();
    const dir = tempDir();
    try {
      const { copyFileSync, chmodSync } = await import('node:fs');
      copyFileSync(ca.certFile, join(dir.path, 'ca.pem'));
      copyFileSync(gw1.certFile, join(dir.path, 'gw1.pem'));
      copyFileSync(gw1.keyFile, join(dir.path, 'gw1.key'));
      chmodSync(join(dir.path, 'gw1.key'), 0o600);
      const config = writeSite(
        dir.path,
        `mqtt:
  url: "${broker.url}"
  reconnectMs: 200
  tls: { caFile: ca.pem, certFile: gw1.pem, keyFile: gw1.key, servername: localhost }
`,
      );
      const loaded = loadConfig(config);
      expect(loaded.config.mqtt?.tls?.keyFile).toBe(join(dir.path, 'gw1.key'));
      expect(loaded.warnings).toEqual([]);
      const gateway = await Gateway.start(loaded, memoryLogger('warn').logger, '0.0.0-test');
      try {
        await waitUntil(() => gateway.status().uplink.state === 'connected', WAIT_MS, 'the daemon connected over TLS');
      } finally {
        await gateway.stop();
      }

      // A key others can read is reported like the secrets file.
      chmodSync(join(dir.path, 'gw1.key'), 0o644);
      expect(loadConfig(config).warnings.join('\n')).toMatch(/gw1\.key .*chmod 600/);
      // A missing file is a config error naming the field.
      writeFileSync(config, `site: { id: test, timezone: Europe/London }
gateway: { id: gw1 }
secretsFile: secrets.yaml
store: { path: gatehouse.db }
mqtt: { url: "${broker.url}", tls: { caFile: nope.pem, certFile: gw1.pem, keyFile: gw1.key } }
`);
      expect(() => loadConfig(config)).toThrow(/mqtt\.tls\.caFile: cannot read .*nope\.pem: ENOENT/);
      writeFileSync(config, `site: { id: test, timezone: Europe/London }
gateway: { id: gw1 }
secretsFile: secrets.yaml
store: { path: gatehouse.db }
mqtt: { url: "mqtt://127.0.0.1:1883", tls: { caFile: ca.pem, certFile: gw1.pem, keyFile: gw1.key } }
`);
      expect(() => loadConfig(config)).toThrow(/mqtt\.url: mqtt\.tls needs an mqtts/);
    } finally {
      dir.remove();
    }
  });
});
