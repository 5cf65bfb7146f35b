/**
 * Certificates for TLS tests, made with the openssl command line the way an
 * operator would: a CA, a broker certificate for 127.0.0.1/localhost, and
 * client certificates whose CN is the gateway id. EC P-256 keys, valid for
 * two days, written into a directory the caller owns.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificateAuthority {
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface IssuedCertificate {
  readonly certFile: string;
  /** Mode 0600, as the gateway expects. */
  readonly keyFile: string;
}

function openssl(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, (error, _stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args[0] ?? ''} failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function createCa(dir: string, name: string): Promise<CertificateAuthority> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl([
    'req', '-x509', '-new', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  chmodSync(keyFile, 0o600);
  return { name, certFile, keyFile };
}

/** A certificate signed by `ca`: `server` for the broker (SAN 127.0.0.1 and localhost), `client` for a gateway or the cloud. */
export async function issueCertificate(dir: string, ca: CertificateAuthority, commonName: string, use: 'server' | 'client'): Promise<IssuedCertificate> {
  const base = join(dir, `${ca.name}-${commonName}`);
  const csr = `${base}.csr`;
  const ext = `${base}.ext`;
  const certFile = `${base}.crt`;
  const keyFile = `${base}.key`;
  await openssl(['req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${commonName}`]);
  chmodSync(keyFile, 0o600);
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${use === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(use === 'server' ? ['subjectAltName=IP:127.0.0.1,DNS:localhost'] : []),
    ].join('\n'),
  );
  // A random serial rather than -CAcreateserial: concurrent issuance from one
  // CA would race on its shared .srl file.
  const serial = `0x${randomBytes(16).toString('hex')}`;
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial, '-out', certFile, '-days', '2', '-extfile', ext]);
  return { certFile, keyFile };
}
