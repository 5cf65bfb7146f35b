/**
 * Tests use real parts: socat for pseudo-terminals, Mosquitto for the broker,
 * systemd's own analyzer for the unit file. A missing tool fails the run (in
 * CI and locally) instead of letting the suite quietly shrink.
 */
import { execFileSync } from 'node:child_process';

/** Command → the Debian package that provides it. */
const tools: Record<string, string> = { socat: 'socat', mosquitto: 'mosquitto', 'systemd-analyze': 'systemd' };

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  const missing = Object.keys(tools).filter((cmd) => !has(cmd));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((cmd) => tools[cmd]))].join(' ');
    throw new Error(`missing test tools: ${missing.join(', ')}. Install them with: sudo apt-get install -y ${packages}`);
  }
}
