#!/bin/sh
# 32-smtpd-rcptcheck.t: no backscatter. On a full instance whose
# users/assign has no catch-all (one =joe entry), tern-smtpd refuses an
# unknown local recipient at RCPT time with 550 5.1.1 and accepts joe and
# postmaster (joe delivered); an exact = entry covers that local part only
# (joe-ext: 550, as tern-lspawn would bounce it), a "+joe-" wildcard covers
# joe's extensions; virtualdomains are rewritten first; a catch-all, a
# missing recipients.cdb and control/rcptcheck 0 accept everything.
# users/recipients.cdb comes from tern-newu; with an older tern-newu the
# test writes the same keys itself (tests/integration/cdb.py).
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
tap_plan 19

UID_A=$(id -u ternalias); GID_A=$(id -g ternalias)
H=$ROOT/mail/demo
RCDB=$ROOT/users/recipients.cdb
printf 'virt.test\n' >> "$ROOT/control/rcpthosts"
printf 'virt.test:joe\n' > "$ROOT/control/virtualdomains"

# mkcdb KEY...: users/recipients.cdb with these keys (empty values)
mkcdb() {
  python3 "$SRC/tests/integration/cdb.py" write "$RCDB" "$@"
}

# newu ASSIGN-LINES KEYS...: write users/assign, run tern-newu; if it does
# not write recipients.cdb (an older tern-newu), write KEYS ourselves
newu() {
  printf '%s.\n' "$1" > "$ROOT/users/assign"; shift
  rm -f "$RCDB"
  "$ROOT/bin/tern-newu" || return 1
  [ -f "$RCDB" ] || { diag "tern-newu wrote no recipients.cdb: the test writes it"; mkcdb "$@"; }
}

newu "=joe:ternalias:$UID_A:$GID_A:$H:::
" =joe
tap_ok $? "users/assign with one =joe entry compiled"
printf './Maildir/\n' > "$H/.tern"; chown ternalias "$H/.tern"; chmod 0644 "$H/.tern"
tern_start || exit 1

# rcpt FROM-IP ADDR...: the RCPT reply codes, one line
rcpt() {
  python3 "$SRC/tests/integration/32-smtpd-rcptcheck.py" rcpt "$TERN_PORT" "$@"
}
U=nosuchuser$$

tap_is "$(rcpt 127.0.0.2 "$U@demo.test")" "550 5.1.1" "unknown local user: 550 5.1.1"
tap_is "$(rcpt 127.0.0.1 "$U@demo.test")" "550 5.1.1" "unknown local user from a RELAYCLIENT: 550 5.1.1 too"
tap_is "$(rcpt 127.0.0.2 joe@demo.test JOE@demo.test)" "250,250" "joe (any case): 250"
tap_is "$(rcpt 127.0.0.2 joe-ext@demo.test)" "550 5.1.1" "joe-ext under an exact =joe entry: 550 (tern-lspawn would bounce it)"
tap_is "$(rcpt 127.0.0.2 postmaster@demo.test PostMaster@demo.test postmaster)" "250,250,250" \
  "postmaster, any case, with or without domain: 250"
tap_is "$(rcpt 127.0.0.2 "x@virt.test")" "550 5.1.1" "virtual domain rewritten (joe-x) and refused"
tap_is "$(rcpt 127.0.0.2 "x@example.net")" "553 5.7.1" "relay refusal unchanged (553)"
grep -q "unknown recipient from <sender@demo.test> to <$U@demo.test>" "$ROOT/log/smtpd/current"
tap_ok $? "the refusal is logged"

# joe really is deliverable
python3 "$SRC/tests/integration/32-smtpd-rcptcheck.py" send "$TERN_PORT" 127.0.0.2 joe@demo.test "rcptcheck-joe-$$"
tap_ok $? "a message to joe accepted"
wait_for 20 sh -c "grep -l 'rcptcheck-joe-$$' '$H/Maildir/new/'* 2>/dev/null"
tap_ok $? "and delivered"

# a wildcard entry for joe's extensions
newu "=joe:ternalias:$UID_A:$GID_A:$H:::
+joe-:ternalias:$UID_A:$GID_A:$H:-::
" =joe +joe-
tap_is "$(rcpt 127.0.0.2 joe-ext@demo.test joe-a-b@demo.test joe@demo.test)" "250,250,250" "joe-ext with a +joe- entry: 250"
tap_is "$(rcpt 127.0.0.2 joex@demo.test "$U@demo.test")" "550 5.1.1,550 5.1.1" "others still 550"
tap_is "$(rcpt 127.0.0.2 "x@virt.test" "X-Y@Virt.Test")" "250,250" "x@virt.test (joe-x) now 250"

# control/rcptcheck 0: the check is off
printf '0\n' > "$ROOT/control/rcptcheck"
tap_is "$(rcpt 127.0.0.2 "$U@demo.test")" "250" "control/rcptcheck 0: unknown user accepted"
rm -f "$ROOT/control/rcptcheck"

# no recipients.cdb: qmail behaviour (accept)
mv "$RCDB" "$RCDB.off"
tap_is "$(rcpt 127.0.0.2 "$U@demo.test")" "250" "no recipients.cdb: unknown user accepted"
mv "$RCDB.off" "$RCDB"
tap_is "$(rcpt 127.0.0.2 "$U@demo.test")" "550 5.1.1" "recipients.cdb back: 550 again"

# a catch-all
newu "=joe:ternalias:$UID_A:$GID_A:$H:::
+:ternalias:$UID_A:$GID_A:$H:-::
" =joe '*'
tap_is "$(rcpt 127.0.0.2 "$U@demo.test" anything-at-all@demo.test joe@demo.test)" "250,250,250" \
  "after adding a catch-all: everything 250"

# an unreadable recipients.cdb is a temporary failure, never an open door
chmod 0600 "$RCDB"
r=$(rcpt 127.0.0.2 "$U@demo.test" 2>&1 | tail -n 1)
case $r in 4*|"greeting 4"*) tap_ok 0 "unreadable recipients.cdb: temporary failure ($r)" ;;
  *) tap_ok 1 "unreadable recipients.cdb: temporary failure ($r)" ;; esac
chmod 0644 "$RCDB"
tap_done
