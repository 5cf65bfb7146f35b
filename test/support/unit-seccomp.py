#!/usr/bin/python3
"""
Run a command under the system call filter a systemd unit file declares, as
systemd would install it, on machines without systemd as PID 1 (CI, these
test machines): the filter's sets come from `systemd-analyze syscall-filter`
(the same tables systemd uses), the semantics from systemd.exec(5):

- a first SystemCallFilter= line without "~" is an allow-list, to which
  systemd adds @default; later "~" lines take calls out of it, later plain
  lines put calls back;
- a call outside it kills the process with SIGSYS, unless
  SystemCallErrorNumber= names an errno to return instead.

Usage: unit-seccomp.py [--fatal] [--user NAME] UNIT_FILE COMMAND [ARG...]
--fatal: a call outside the filter kills the process whatever the unit's
SystemCallErrorNumber= says, so that a test sees every call the unit filters.
--user: run the command as this user (from root), as the unit's User= does:
libraries act differently as root (SQLite hands its new files to the
database's owner with fchown, a call the unit filters).
Needs the python3-seccomp package (libseccomp's bindings).
"""
import errno
import os
import pwd
import subprocess
import sys

import seccomp


def syscall_sets():
    """Every @set systemd knows, as its list of entries (calls and @sets)."""
    text = subprocess.run(['systemd-analyze', 'syscall-filter', '--no-pager'], check=True, capture_output=True, text=True).stdout
    sets, current = {}, None
    for line in text.splitlines():
        if line.startswith('@'):
            current = sets.setdefault(line.strip(), [])
        elif current is not None and line.strip() and not line.strip().startswith('#'):
            current.append(line.strip())
    return sets


def expand(names, sets, seen=None):
    seen = set() if seen is None else seen
    calls = set()
    for name in names:
        if name.startswith('@'):
            if name in seen:
                continue
            seen.add(name)
            calls |= expand(sets.get(name, []), sets, seen)
        else:
            calls.add(name.split(':')[0])
    return calls


def unit_filter(unit_path, sets):
    lines, error_number = [], None
    for raw in open(unit_path, encoding='utf-8'):
        line = raw.strip()
        if line.startswith('SystemCallFilter='):
            lines.append(line[len('SystemCallFilter='):].split())
        elif line.startswith('SystemCallErrorNumber='):
            error_number = line[len('SystemCallErrorNumber='):].strip()
    if not lines or lines[0][0].startswith('~'):
        raise SystemExit('unit-seccomp.py handles units whose first SystemCallFilter= is an allow-list')
    allowed = expand(['@default'], sets)
    for words in lines:
        if words[0].startswith('~'):
            allowed -= expand([words[0][1:], *words[1:]], sets)
        else:
            allowed |= expand(words, sets)
    return allowed, error_number


def main():
    args = sys.argv[1:]
    fatal = args[:1] == ['--fatal']
    if fatal:
        args = args[1:]
    user = None
    if args[:1] == ['--user'] and len(args) > 1:
        user, args = pwd.getpwnam(args[1]), args[2:]
    if len(args) < 2:
        raise SystemExit(__doc__)
    allowed, error_number = unit_filter(args[0], syscall_sets())
    if user is not None:
        # Before the filter, which takes these calls away.
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
        os.environ['HOME'] = user.pw_dir
    default = seccomp.ERRNO(getattr(errno, error_number)) if error_number and not fatal else seccomp.KILL_PROCESS
    f = seccomp.SyscallFilter(defaction=default)
    for call in sorted(allowed):
        try:
            f.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError, OSError):
            pass  # not a call of this architecture, or unknown to this libseccomp
    f.load()
    os.execvp(args[1], args[1:])


main()
