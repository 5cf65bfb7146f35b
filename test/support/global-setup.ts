/**
 * Tests use real parts: socat for pseudo-terminals and Mosquitto for the
 * broker. In CI (CI=true) a missing tool fails the run instead of letting
 * tests quietly shrink.
 */
import { execFileSync } from 'node:child_process';

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  const missing = ['socat', 'mosquitto'].filter((c) => !has(c) && !has(`/usr/sbin/${c}`));
  if (missing.length > 0) {
    throw new Error(
      `missing test tools: ${missing.join(', ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
}
