#!/bin/sh
# Remove the Gatehouse service. Keeps /etc/gatehouse and /var/lib/gatehouse
# (config, site key, journal) unless PURGE=1. Idempotent.
set -eu
ROOT="${ROOT:-}"
PREFIX="${PREFIX:-/opt/gatehouse}"
in_root() { printf '%s%s' "$ROOT" "$1"; }
say() { printf 'gatehouse uninstall: %s\n' "$*"; }
[ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || { say "run as root (sudo)"; exit 1; }

if [ -z "$ROOT" ]; then
  systemctl disable --now gatehouse.service 2>/dev/null || true
fi
rm -f "$(in_root /etc/systemd/system/gatehouse.service)" "$(in_root /etc/udev/rules.d/60-gatehouse.rules)" "$(in_root /usr/local/bin/gatehouse)"
rm -rf "$(in_root "$PREFIX")"
if [ "${PURGE:-0}" = "1" ]; then
  rm -rf "$(in_root /etc/gatehouse)" "$(in_root /var/lib/gatehouse)"
  say "purged config and state"
else
  say "kept /etc/gatehouse and /var/lib/gatehouse (PURGE=1 removes them)"
fi
if [ -z "$ROOT" ]; then
  systemctl daemon-reload
  getent passwd gatehouse >/dev/null && userdel gatehouse 2>/dev/null || true
  getent group gatehouse >/dev/null && groupdel gatehouse 2>/dev/null || true
fi
say "done"
