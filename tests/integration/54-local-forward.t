#!/bin/sh
# 54-local-forward.t: forwarding lines (&addr and bare addresses) are
# injected once, at the end, through the qmail-queue interface. tern-local
# honours QMAILQUEUE like qmail: here it names a script that captures the
# message (fd 0) and the envelope (fd 1) and exits with a chosen code.
. "$(dirname "$0")/lib.sh"
local_init 54   # lib.sh: $TL, $T, $H; tl runs tern-local, then rc, out; dotfile
cat > "$T/qq" <<EOS
#!/bin/sh
cat > "$T/qmsg"
cat <&1 > "$T/qenv"
[ -n "\$QQ_TEXT6" ] && printf '%s' "\$QQ_TEXT6" >&6
exit \${QQ_EXIT:-0}
EOS
chmod 0755 "$T/qq"
printf 'Subject: fwd\n\nbody\n' > "$T/msg"
QMAILQUEUE=$T/qq; export QMAILQUEUE
env0() { tr '\0' '|' < "$T/qenv"; }
tap_plan 15

dotfile '&bob@remote.test\n./Maildir/\ncarol@other.test\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 0 "forward: exit 0"
tap_is "$(head -n 1 "$T/out")" "did 1+2+0" "did 1+2+0"
case $(sed -n 2p "$T/out") in "qp "[0-9]*) tap_ok 0 "qp N reported" ;; *) tap_ok 1 "qp line: $(cat "$T/out")" ;; esac
tap_is "$(env0)" "Fs@x.test|Tbob@remote.test|Tcarol@other.test||" "one envelope, original sender, both recipients"
tap_is "$(head -n 1 "$T/qmsg")" "Delivered-To: joe@example.test" "forwarded copy starts with Delivered-To"
tap_is "$(tail -n +2 "$T/qmsg" | cmp - "$T/msg" && echo same)" same "then the original message, no Return-Path"

tl joe "" "" example.test "" "./Maildir/"
tap_is "$(env0)" "F|Tbob@remote.test|Tcarol@other.test||" "null sender stays null"

# -owner: NEWSENDER
dotfile '&bob@remote.test\n' .tern-list
dotfile './Maildir/\n' .tern-list-owner
tl joe-list - list example.test "s@x.test" "./Maildir/"
tap_is "$(env0)" "Fjoe-list-owner@example.test|Tbob@remote.test||" ".tern-list-owner exists: sender joe-list-owner@domain"
dotfile './Maildir/\n' .tern-list-owner-default
tl joe-list - list example.test "s@x.test" "./Maildir/"
tap_is "$(env0)" "Fjoe-list-owner-@example.test-@[]|Tbob@remote.test||" "-owner-default too: VERP sender"

# queue failures
QQ_EXIT=31; export QQ_EXIT
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 100 "queue exit 31 (permanent): exit 100"
QQ_EXIT=53
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 111 "queue exit 53 (temporary): exit 111"
QQ_EXIT=82 QQ_TEXT6='Dfiltered out'; export QQ_TEXT6
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 100 "filter exit 82 with D on fd 6: exit 100"
tap_is "$(tail -n 1 "$T/out")" "Unable to forward message: filtered out" "the filter's own text in the report"
unset QQ_EXIT QQ_TEXT6

# bad forwarding line: nothing delivered
n=$(find "$H/Maildir/new" -type f | wc -l)
dotfile './Maildir/\n&<bob@remote.test>\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 111 "bad forwarding address: exit 111 (the user can fix the file)"
tap_is "$(find "$H/Maildir/new" -type f | wc -l)" "$n" "no line delivered when one line is bad"
exit $TAP_FAIL
