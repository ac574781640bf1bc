#!/bin/sh
# tern-reload: check every control file (tern-showctl -c); if the check
# passes, make every long-running tern program read its control files
# again: SIGHUP to tern-send (s6-svc -h), and a restart of the smtpd
# service when a control file its run file reads (addresses, ports,
# limits) changed after it came up (tern-listen gets them once). A failed check signals nothing.
# HOME is the parent of the directory holding the real file of this
# script; the services are in SCANDIR (default HOME/service). See
# tern-reload.8. Exit 0 reloaded, 100 refused (the check
# failed, or usage), 111 a service could not be signalled.
PATH=/usr/bin:/bin:/usr/sbin:/sbin
self=$(readlink -f "$0") || { echo "tern-reload: fatal: unable to find myself: $0" >&2; exit 111; }
H=$(dirname "$(dirname "$self")")
[ $# -le 1 ] || { echo "usage: tern-reload [scandir]" >&2; exit 100; }
# the s6 scan directory holding the services (the unit passes it)
S=${1:-$H/service}

out=$("$H/bin/tern-showctl" -c 2>&1)
rc=$?
[ -z "$out" ] || printf '%s\n' "$out" | grep -v '^tern-showctl: configuration OK' >&2
if [ $rc -ne 0 ]; then
  echo "tern-reload: refused: the check of $H/control failed (tern-showctl -c exit $rc); nothing was signalled, every program keeps the configuration it runs with" >&2
  [ $rc -eq 100 ] && exit 100
  exit 111
fi

fail=0
# svc NAME ARGS: s6-svc ARGS on a supervised service; a missing service
# directory is skipped (an instance without that service), an unsupervised
# one is an error
up() { [ -d "$S/$1" ] && s6-svok "$S/$1" 2>/dev/null; }
svc() {
  n=$1; shift
  [ -d "$S/$n" ] || return 0
  if ! s6-svok "$S/$n" 2>/dev/null; then
    echo "tern-reload: warning: $S/$n is not supervised (is s6-svscan running over $S?): not signalled" >&2
    fail=1; return 0
  fi
  s6-svc "$@" "$S/$n" || { echo "tern-reload: s6-svc $* $S/$n failed" >&2; fail=1; return 0; }
  echo "tern-reload: $n: s6-svc $*"
}

# tern-send: rereads on SIGHUP
svc send -h

# smtpd: tern-smtpd (one per connection) and the smtprules.cdb lookup of
# tern-listen read their files on every connection; the listening
# addresses, ports and limits only when the service starts (its run file)
# (s6-supervise writes supervise/status when the service comes up and
# when it is ready: a file newer than that, to the nanosecond, was not
# read by the running tern-listen)
if up smtpd; then
  for f in smtplisten smtpport smtpsport submissionport concurrencyincoming concurrencyperip concurrencyrelay timeoutstress; do
    [ -e "$H/control/$f" ] || continue
    if [ -n "$(find "$H/control/$f" -newer "$S/smtpd/supervise/status" 2>/dev/null)" ]; then
      echo "tern-reload: control/$f changed since the smtpd service started: restarting it (tern-listen reads it only when it starts)" >&2
      svc smtpd -r
      break
    fi
  done
fi
[ $fail -eq 0 ] || exit 111
exit 0
