#!/bin/sh
# 62-open-relay.t: nmap's smtp-open-relay script, run from 127.0.0.2 (a
# client that may not relay), finds no relay trick that works: its 16
# MAIL/RCPT combinations (null and forged senders, %-hack, bang path,
# quoted and @-routed local parts, address literals) all fail, and
# nothing is queued. The twin: from 127.0.0.1, a relay client by the test
# configuration, the same script does report relaying, so it did test.
. "$(dirname "$0")/lib.sh"
tern_init
command -v nmap >/dev/null && [ -f /usr/share/nmap/scripts/smtp-open-relay.nse ] || tap_skip_all "nmap not installed (tests/deps.sh test)"
tap_plan 5
tern_install || { diag "install failed"; exit 1; }
tern_start; tap_ok $? "services up"

# "+" runs the script whatever nmap guesses the port's service to be
nmap -n -Pn -S 127.0.0.2 -e lo -p "$TERN_PORT" --script +smtp-open-relay 127.0.0.1 > "$ROOT/nmap2.out" 2>&1
sed 's/^/# /' "$ROOT/nmap2.out"
grep -q "smtp-open-relay: Server doesn't seem to be an open relay" "$ROOT/nmap2.out" && ! grep -q "is an open relay" "$ROOT/nmap2.out"
tap_ok $? "from 127.0.0.2: not an open relay"
n=$(grep -c "tern-smtpd: info: 127.0.0.2 .*refused" "$ROOT/log/smtpd/current")
tap_ok "$([ "$n" -ge 8 ] && echo 0 || echo 1)" "the script's recipients were refused one by one ($n refusals logged)"

nmap -n -Pn -p "$TERN_PORT" --script +smtp-open-relay 127.0.0.1 > "$ROOT/nmap1.out" 2>&1
grep -q "smtp-open-relay: Server is an open relay" "$ROOT/nmap1.out"
tap_ok $? "twin: from the relay client 127.0.0.1 the script sees relaying ($(grep -o 'open relay ([0-9/]* tests)' "$ROOT/nmap1.out"))"
tap_is "$(queue_count)" 0 "nothing queued (the script never sends DATA)"
tap_done
