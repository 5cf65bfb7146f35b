#!/bin/sh
# Install Gatehouse as a systemd service on Debian, Ubuntu or Raspberry Pi OS.
# Idempotent: run it again after an update. Never overwrites an existing
# config or secrets file.
#
#   sudo scripts/install.sh              # from an unpacked release (dist/ and node_modules/ present)
#   sudo ROOT=/tmp/root scripts/install.sh   # into a throwaway root (tests; no systemctl)
set -eu

ROOT="${ROOT:-}"
PREFIX="${PREFIX:-/opt/gatehouse}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
in_root() { printf '%s%s' "$ROOT" "$1"; }
say() { printf 'gatehouse install: %s\n' "$*"; }

[ -f "$SRC/dist/daemon/cli/main.js" ] || { say "build first: npm ci && npm run build"; exit 1; }
[ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || { say "run as root (sudo)"; exit 1; }

# 1. Service user: no login, no home; serial access through dialout.
if [ -z "$ROOT" ]; then
  getent group gatehouse >/dev/null || groupadd --system gatehouse
  getent passwd gatehouse >/dev/null || useradd --system --gid gatehouse --no-create-home --home-dir /var/lib/gatehouse --shell /usr/sbin/nologin gatehouse
  usermod -a -G dialout gatehouse
fi

# python3 carries the systemd notify messages (READY, WATCHDOG): Node has no
# unix datagram sockets (docs/systemd-notify.md). Without it the service refuses to start.
if [ -z "$ROOT" ] && ! command -v python3 >/dev/null 2>&1; then
  say "installing python3-minimal for the systemd readiness and watchdog helper"
  apt-get install -y --no-install-recommends python3-minimal
fi

# 2. The program.
mkdir -p "$(in_root "$PREFIX")"
for item in dist node_modules package.json config README.md LICENSE systemd; do
  [ -e "$SRC/$item" ] && cp -R "$SRC/$item" "$(in_root "$PREFIX")/"
done

# 3. Config and secrets, only when absent.
mkdir -p "$(in_root /etc/gatehouse)"
if [ ! -e "$(in_root /etc/gatehouse/gatehouse.yaml)" ]; then
  cp "$SRC/config/gatehouse.example.yaml" "$(in_root /etc/gatehouse/gatehouse.yaml)"
  say "wrote /etc/gatehouse/gatehouse.yaml from the example: edit it, then: gatehouse config check"
else
  say "keeping existing /etc/gatehouse/gatehouse.yaml"
fi
if [ ! -e "$(in_root /etc/gatehouse/secrets.yaml)" ]; then
  umask 077
  printf 'siteKey: %s\n# mqttPassword: ...\n' "$(head -c 32 /dev/urandom | base64)" > "$(in_root /etc/gatehouse/secrets.yaml)"
  umask 022
  say "generated /etc/gatehouse/secrets.yaml with a new site key"
fi
chmod 600 "$(in_root /etc/gatehouse/secrets.yaml)"
[ -z "$ROOT" ] && chown gatehouse:gatehouse "$(in_root /etc/gatehouse/secrets.yaml)"
chmod 755 "$(in_root /etc/gatehouse)"

# 4. State directory (systemd's StateDirectory= also creates it).
mkdir -p "$(in_root /var/lib/gatehouse)"
[ -z "$ROOT" ] && chown gatehouse:gatehouse "$(in_root /var/lib/gatehouse)"
chmod 750 "$(in_root /var/lib/gatehouse)"

# 5. Unit, udev rules, a gatehouse command on PATH.
mkdir -p "$(in_root /etc/systemd/system)" "$(in_root /etc/udev/rules.d)" "$(in_root /usr/local/bin)"
sed "s#/opt/gatehouse#$PREFIX#g" "$SRC/systemd/gatehouse.service" > "$(in_root /etc/systemd/system/gatehouse.service)"
cp "$SRC/systemd/60-gatehouse.rules" "$(in_root /etc/udev/rules.d/60-gatehouse.rules)"
printf '#!/bin/sh\nexec node %s/dist/daemon/cli/main.js "$@"\n' "$PREFIX" > "$(in_root /usr/local/bin/gatehouse)"
chmod 755 "$(in_root /usr/local/bin/gatehouse)"

if [ -z "$ROOT" ]; then
  # brltty claims CH340 adapters on some Ubuntu releases and the ttyUSB vanishes.
  if systemctl list-unit-files brltty-udev.service >/dev/null 2>&1; then
    systemctl mask brltty-udev.service >/dev/null 2>&1 || true
  fi
  udevadm control --reload-rules 2>/dev/null && udevadm trigger 2>/dev/null || true
  systemctl daemon-reload
  systemctl enable gatehouse.service
  say "enabled gatehouse.service; start it with: systemctl start gatehouse"
fi
say "done"
