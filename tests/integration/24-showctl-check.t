#!/bin/sh
# 24-showctl-check.t: tern-showctl -c checks every control file with the
# parsers the daemons use and exits 100 on what a daemon would refuse,
# naming the file and the line: delaywarning as tern-send reads it,
# smtproutes entries as tern-remote reads them (port 1..65535), numbers
# and their minimum, remotefamily, outgoingip. A compiled file older than
# its source (smtprules.cdb, users/cdb, morercpthosts.cdb) is a warning
# (exit 0). No services are started.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 23
tern_install || { diag "install failed"; exit 1; }
C=$ROOT/control
chk() { "$ROOT/bin/tern-showctl" -c > "$ROOT/out" 2> "$ROOT/err"; echo $? > "$ROOT/rc"; }
rc() { cat "$ROOT/rc"; }
show() { sed 's/^/# /' "$ROOT/out" "$ROOT/err"; }
# make the compiled files newer than their sources (install wrote both in the same second)
fresh() { sleep 0.01; touch "$C/smtprules.cdb" "$ROOT/users/cdb" "$ROOT/alias/.tern-newaliases-list" 2>/dev/null; }

fresh; chk; show
tap_is "$(rc)" 0 "the installed configuration passes"
grep -q "configuration OK" "$ROOT/out"; tap_ok $? "and says so"

echo soon > "$C/delaywarning"
chk; show
tap_is "$(rc)" 100 "delaywarning = soon is refused"
grep -q '^tern-showctl: error: control/delaywarning line 1: .*tern-send.*"soon"$' "$ROOT/err"; tap_ok $? "naming the file, the line and the value"
echo 0.5 > "$C/delaywarning"; chk; tap_is "$(rc)" 0 "delaywarning 0.5 passes"

printf '# relays\n\nx.example:[127.0.0.1]:99999\ny.example:relay.example:2525\n' > "$C/smtproutes"
chk; show
tap_is "$(rc)" 100 "an smtproutes port 99999 is refused"
grep -q '^tern-showctl: error: control/smtproutes line 3: .*port 1\.\.65535.*"x.example:\[127.0.0.1\]:99999"$' "$ROOT/err"; tap_ok $? "naming the file and line 3"
tap_is "$(grep -c smtproutes "$ROOT/err")" 1 "the good entry on line 4 is not reported"
printf 'x.example:[127.0.0.1]:2525\n:[IPv6:::1]\nz.example:\n' > "$C/smtproutes"; chk; tap_is "$(rc)" 0 "good routes pass (a literal, a default route, an MX route)"
printf 'x.example:[127.0.0.300]\n' > "$C/smtproutes"; chk; show
tap_is "$(rc)" 100 "a bad address literal is refused"
printf 'x.example:relay:0\n' > "$C/smtproutes"; chk; tap_is "$(rc)" 100 "port 0 is refused"
printf 'just-a-host\n' > "$C/smtproutes"; chk; show
tap_is "$(rc)" 0 "an entry without ':' is only a warning (tern-remote ignores it)"
grep -q '^tern-showctl: warning: control/smtproutes line 1:' "$ROOT/err"; tap_ok $? "the warning names the line"
rm -f "$C/smtproutes"

echo 0 > "$C/timeoutdns"; chk; show
tap_is "$(rc)" 100 "timeoutdns 0 is refused (tern-remote needs at least 1)"
rm -f "$C/timeoutdns"
echo 12x > "$C/databytes"; chk; tap_is "$(rc)" 100 "a number with a letter is refused"
rm -f "$C/databytes"
echo 99999 > "$C/submissionport"; chk; tap_is "$(rc)" 100 "a submission port over 65535 is refused"
rm -f "$C/submissionport"
echo ipv5 > "$C/remotefamily"; chk; tap_is "$(rc)" 100 "remotefamily ipv5 is refused"
rm -f "$C/remotefamily"
echo 10.0.0.300 > "$C/outgoingip"; chk; tap_is "$(rc)" 100 "a bad outgoingip is refused"
rm -f "$C/outgoingip"

fresh; chk; tap_is "$(rc)" 0 "clean again"
sleep 0.01; touch "$C/smtprules" "$ROOT/users/assign"
chk; show
tap_is "$(rc)" 0 "sources newer than their compiled files: exit 0"
grep -q '^tern-showctl: warning: control/smtprules.cdb: older than control/smtprules.*tern-rules' "$ROOT/err"; tap_ok $? "warns about smtprules.cdb"
grep -q '^tern-showctl: warning: users/cdb: older than users/assign.*tern-newu' "$ROOT/err"; tap_ok $? "warns about users/cdb"

# without -c: the listing, as before
"$ROOT/bin/tern-showctl" > "$ROOT/out" 2>&1
tap_is "$?" 0 "tern-showctl without -c still lists"
tap_done
