#!/bin/sh
# 10-mailpath.t: the whole local mail path through the real privilege split.
# sendmail (as a non-root user) -> queue socket -> tern-queue (ternq) ->
# queue -> tern-send (terns) -> tern-lspawn (root) -> tern-local (the
# recipient) -> Maildir; ownership, no setuid bits, an empty queue after.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 13
tern_install || { diag "install failed"; exit 1; }
find "$ROOT" -perm /6000 > "$ROOT/suid.txt"
tap_is "$(cat "$ROOT/suid.txt")" "" "nothing installed setuid or setgid"
tern_start; tap_ok $? "services up"

tok=mp-$$-$(date +%s)
printf 'Subject: %s\n\nhello from nobody\n' "$tok" | inject_as nobody demo@demo.test
tap_is "$?" 0 "sendmail as nobody exits 0"
wait_for 20 sh -c "grep -l '$tok' '$MAILDIR'/new/* 2>/dev/null | grep -q ."
tap_ok $? "message from nobody delivered to the Maildir"
f=$(grep -l "$tok" "$MAILDIR"/new/* 2>/dev/null | head -n 1)
tap_is "$(stat -c %U "$f" 2>/dev/null)" ternalias "delivered file belongs to the recipient (ternalias)"
grep -q "^Delivered-To: demo@demo.test$" "$f"; tap_ok $? "Delivered-To added"
grep -q "^Return-Path: <nobody@demo.test>$" "$f"; tap_ok $? "Return-Path names the injecting user"
grep -q "invoked by uid $(id -u nobody)" "$f"; tap_ok $? "tern-queue's Received line names the real uid"

# who runs as whom
tern_ps > "$ROOT/ps.txt"
grep -qx "terns tern-send" "$ROOT/ps.txt"; tap_ok $? "tern-send runs as terns"
grep -qx "ternq tern-clean" "$ROOT/ps.txt"; tap_ok $? "tern-clean runs as ternq"
grep -qx "root tern-lspawn" "$ROOT/ps.txt"; tap_ok $? "tern-lspawn runs as root"
wait_for 10 sh -c "[ \$(find '$ROOT/queue/msg' -type f | wc -l) -eq 0 ]"
tap_ok $? "queue empty after delivery"
# tern-queue ran as ternq for nobody: the queued files are ternq's (hold
# the message in the queue by stopping tern-send first)
s6-svc -wD -T 5000 -d "$ROOT/service/send" 2>/dev/null
printf 'Subject: held\n\nheld\n' | inject_as nobody demo@demo.test
owners=$(find "$ROOT/queue/msg" -type f -exec stat -c %U {} + | sort -u | tr '\n' ' ')
tap_is "$owners" "ternq " "tern-queue, run for nobody, wrote the queue files as ternq"
s6-svc -u "$ROOT/service/send" 2>/dev/null
[ "$TAP_FAIL" -eq 0 ] || { cat "$ROOT/ps.txt"; tail -n 30 "$ROOT/log/send/current" "$ROOT/log/queue/current" 2>/dev/null | sed 's/^/# /'; }
tap_done
