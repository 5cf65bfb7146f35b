/** `gatehouse kiosk pair|list|revoke`: pairing check-in tablets with the running daemon. */
import type { CliOptions } from './main.js';
import { ask } from './client-commands.js';

interface KioskRow {
  id: string;
  name: string;
  createdAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
}

export async function kioskPairCommand(options: CliOptions, name: string): Promise<number> {
  const issued = (await ask(options, { op: 'kiosk-pair', name })) as { code: string; name: string; expiresAt: string; url: string };
  if (options.json) {
    console.log(JSON.stringify(issued, null, 2));
    return 0;
  }
  const code = `${issued.code.slice(0, 4)} ${issued.code.slice(4)}`;
  console.log(`Pairing code for kiosk "${issued.name}":\n\n    ${code}\n`);
  console.log(`Open ${issued.url} on the tablet and enter the code before ${issued.expiresAt}.`);
  console.log('The code works once. Run this command again for another tablet.');
  return 0;
}

export async function kioskListCommand(options: CliOptions): Promise<number> {
  const kiosks = (await ask(options, { op: 'kiosk-list' })) as KioskRow[];
  if (options.json) {
    console.log(JSON.stringify(kiosks, null, 2));
    return 0;
  }
  if (kiosks.length === 0) {
    console.log('No kiosk is paired. Pair one with: gatehouse kiosk pair --name <name>');
    return 0;
  }
  console.log(`${'ID'.padEnd(12)} ${'NAME'.padEnd(20)} ${'PAIRED'.padEnd(25)} ${'LAST SEEN'.padEnd(25)} STATE`);
  for (const k of kiosks) {
    const state = k.revokedAt === null ? 'active' : `revoked ${k.revokedAt}`;
    console.log(`${k.id.padEnd(12)} ${k.name.padEnd(20)} ${k.createdAt.padEnd(25)} ${(k.lastSeenAt ?? '-').padEnd(25)} ${state}`);
  }
  return 0;
}

export async function kioskRevokeCommand(options: CliOptions, id: string): Promise<number> {
  await ask(options, { op: 'kiosk-revoke', id });
  console.log(`Kiosk ${id} is unpaired: it shows the pairing screen from its next request.`);
  return 0;
}
