/**
 * The environment for processes the daemon starts (helper tools, the BLE
 * scanner): the daemon's own, without its systemd notification socket. A
 * systemd tool that fails reports ERRNO= there, and with NotifyAccess=all
 * systemd would take any child's message as the daemon's word.
 */
export function childEnvironment(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_PID;
  delete env.WATCHDOG_USEC;
  return env;
}
