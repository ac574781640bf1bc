#!/bin/sh
# tests/bench/relay.sh (make bench-relay; not part of make check): outbound
# relay with STARTTLS, tern's client side (tern-send, tern-remote,
# tern-tlsc) beside Postfix's smtp(8), in one run.
#
# One private Postfix is the receiver: STARTTLS (a self-signed certificate),
# a catch-all Maildir for sink.test. Two senders relay to it with TLS
# required: tern (control/smtproutes sink.test to the receiver,
# control/tlspolicy ":encrypt") and a second private Postfix (relayhost,
# smtp_tls_security_level = encrypt). Each load is RELAY_N messages of
# 4 KiB from RELAY_C parallel smtp-source clients into the sender, timed
# until the last one is in the receiver's Maildir; the senders take turns,
# RELAY_ROUNDS rounds. The receiver's log counts the TLS connections each
# load opened. Prints a Markdown table; RELAY_WRITE=1 also puts it into
# BENCHMARKS.md between the bench-relay:begin/end markers.
#
#   RELAY_N=500 RELAY_C=10 RELAY_ROUNDS=2 RELAY_WRITE=0 BENCH_KEEP=1
# Needs root. Every wait is bounded.
set -u
RELAY_N=${RELAY_N:-500}
RELAY_C=${RELAY_C:-10}
RELAY_ROUNDS=${RELAY_ROUNDS:-2}
RELAY_WRITE=${RELAY_WRITE:-0}
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/postfix.sh"

[ "$(id -u)" = 0 ] || { echo "bench-relay: needs root" >&2; exit 1; }
pf_ensure_installed || { echo "bench-relay: cannot install postfix" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench-relay: openssl missing" >&2; exit 1; }
[ -n "${BENCH_KEEP:-}" ] && TERN_KEEP=1
tern_init
RECV_ETC= SEND_ETC=
relay_cleanup() {
  for e in $SEND_ETC $RECV_ETC; do PF_ETC=$e; PF=$(dirname "$e"); pf_stop; done
  tern_stop
  if [ -n "${ROOT:-}" ] && [ -z "${TERN_KEEP:-}" ]; then rm -rf "$ROOT"; fi
}
trap relay_cleanup EXIT

port_free() { python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$1)); s.close()" 2>/dev/null; }
free_port() { _p=$1; while ! port_free "$_p"; do _p=$((_p + 1)); done; echo "$_p"; }

# ---- the receiver: Postfix with STARTTLS, catch-all Maildir for sink.test ----
RPORT=$(free_port $((TERN_PORT + 400)))
pf_setup "$ROOT/recv" "$RPORT" sink.test
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sink.test -keyout "$PF/tls.key" -out "$PF/tls.crt" >/dev/null 2>&1
cat >> "$PF_ETC/main.cf" <<EOC
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PF/tls.crt
smtpd_tls_key_file = $PF/tls.key
smtpd_tls_loglevel = 1
EOC
pf_start || { echo "bench-relay: the receiving postfix did not start" >&2; exit 1; }
RECV_ETC=$PF_ETC RECV=$PF RECV_MD=$PF_MAILDIR
mkdir -p "$RECV_MD/new" "$RECV_MD/cur" "$RECV_MD/tmp"
chown -R nobody:nogroup "$RECV/mail"
chmod 0700 "$RECV_MD" "$RECV_MD/new" "$RECV_MD/cur" "$RECV_MD/tmp"

# ---- the Postfix sender: everything to the receiver, TLS required ----
SPORT=$(free_port $((RPORT + 1)))
pf_setup "$ROOT/send" "$SPORT" demo.test
cat >> "$PF_ETC/main.cf" <<EOC
relayhost = [127.0.0.1]:$RPORT
smtp_tls_security_level = encrypt
EOC
pf_start || { echo "bench-relay: the sending postfix did not start" >&2; exit 1; }
SEND_ETC=$PF_ETC

# ---- tern: smtproutes to the receiver, TLS required ----
tern_install || { echo "bench-relay: tern_install failed" >&2; exit 1; }
printf 'sink.test:127.0.0.1:%s\n' "$RPORT" > "$ROOT/control/smtproutes"
printf ':encrypt\n' > "$ROOT/control/tlspolicy"
printf '250\n' > "$ROOT/control/concurrencyincoming"
printf '250\n' > "$ROOT/control/concurrencyperip"
tern_start || { echo "bench-relay: tern did not start" >&2; exit 1; }
echo "bench-relay: receiver postfix on $RPORT, sender postfix on $SPORT, tern on $TERN_PORT"

tlsconns() { cat "$RECV/maillog" 2>/dev/null | grep -c 'TLS connection established from'; }
# load NAME PORT: one load into the sender on PORT; prints "seconds tls-connections"
load() {
  _b=$(maildir_count "$RECV_MD"); _c=$(tlsconns)
  _t0=$(date +%s.%N)
  smtp-source -l 4096 -m "$RELAY_N" -s "$RELAY_C" -f bench@demo.test -t rcpt@sink.test "127.0.0.1:$2" >/dev/null 2>&1
  _n=0
  while [ "$(maildir_count "$RECV_MD")" -lt $((_b + RELAY_N)) ] && [ $_n -lt 6000 ]; do sleep 0.1; _n=$((_n + 1)); done
  _t1=$(date +%s.%N)
  _got=$(( $(maildir_count "$RECV_MD") - _b ))
  echo "$(python3 -c "print(round($_t1 - $_t0, 2))") $(( $(tlsconns) - _c )) $_got"
}
: > "$ROOT/results"
r=1
while [ $r -le "$RELAY_ROUNDS" ]; do
  for who in tern postfix; do
    [ $who = tern ] && p=$TERN_PORT || p=$SPORT
    set -- $(load $who $p)
    echo "$who $*" >> "$ROOT/results"
    echo "bench-relay: round $r $who: $1 s, $2 TLS connections, $3 of $RELAY_N delivered"
  done
  r=$((r + 1))
done

# ---- the table ----
python3 - "$ROOT/results" "$RELAY_N" > "$ROOT/table.md" <<'EOP'
import sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
print("| sender | loads | msgs/s (median) | msgs/s (each) | TLS connections per load | delivered |")
print("|---|---|---|---|---|---|")
for who in ("tern", "postfix"):
    rs = [r for r in rows if r[0] == who]
    rates = sorted(n / float(r[1]) for r in rs)
    print("| %s | %d | %.1f | %s | %s | %s |" % (who, len(rs), rates[len(rates) // 2],
          " / ".join("%.1f" % (n / float(r[1])) for r in rs), " / ".join(r[2] for r in rs),
          " / ".join(r[3] for r in rs)))
EOP
cat "$ROOT/table.md"
if [ "$RELAY_WRITE" = 1 ]; then
  bm=$SRC/BENCHMARKS.md
  {
    echo "<!-- bench-relay:begin (written by tests/bench/relay.sh; edit outside the markers) -->"
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), tern $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'), Postfix $(postconf -c "$SEND_ETC" -h mail_version), $(nproc) CPUs; load average $LOADAVG at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
    echo "Each load: $RELAY_N x 4 KiB from $RELAY_C smtp-source clients into the sender, relayed with TLS required to one receiving Postfix (STARTTLS, catch-all Maildir), timed until the last message is in the receiver's Maildir; $RELAY_ROUNDS rounds in alternation."
    echo
    cat "$ROOT/table.md"
    echo "<!-- bench-relay:end -->"
  } > "$ROOT/section.md"
  if grep -q '^<!-- bench-relay:begin' "$bm" && grep -q '^<!-- bench-relay:end' "$bm"; then
    awk -v sec="$ROOT/section.md" '
      /^<!-- bench-relay:begin/ { while ((getline l < sec) > 0) print l; skip = 1; next }
      /^<!-- bench-relay:end/ { skip = 0; next }
      !skip { print }' "$bm" > "$bm.tmp" && mv "$bm.tmp" "$bm"
  else
    { cat "$bm"; echo; echo "## Outbound relay with STARTTLS (make bench-relay)"; echo; cat "$ROOT/section.md"; } > "$bm.tmp" && mv "$bm.tmp" "$bm"
  fi
  echo "bench-relay: table written to $bm"
fi
exit 0
