#!/bin/sh
# 71-send-vdom.t: tern-send's address rewriting on a full instance (qmail's
# qmail-send(8) rules): control/virtualdomains (domain, user@domain,
# .suffix, a user-level virtual domain delivered to the user's extension),
# control/percenthack, bounces naming the address before the virtual-domain
# prepend, and SIGHUP rereading control/locals (old lists kept on error).
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 12
tern_install || { diag "install failed"; exit 1; }
cat > "$ROOT/control/virtualdomains" <<VD
virt.test:joe
vdom.test:vd
special@vdom.test:sp
.wild.test:w
bad.test:badpre
VD
echo demo.test > "$ROOT/control/percenthack"
# remote attempts stay on the loopback: a closed port, refused at once
echo ':127.0.0.1:1' > "$ROOT/control/smtproutes"
printf '|echo "no such virtual user (#5.1.1)"; exit 100\n' > "$ROOT/mail/demo/.tern-badpre-default"
chown ternalias:ternnofiles "$ROOT/mail/demo/.tern-badpre-default"; chmod 0644 "$ROOT/mail/demo/.tern-badpre-default"
LOG=$ROOT/log/send/current
tern_start; tap_ok $? "services up"

# dt TOKEN: the Delivered-To lines of the delivered copies carrying TOKEN
dt() { grep -l "^Subject: $1\$" "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -h '^Delivered-To:' | sed 's/^Delivered-To: //' | sort | tr '\n' ' '; }
ndt() { dt "$1" | wc -w | tr -d ' '; }

tok=v71-$$
printf 'Subject: %s\n\nvirtual\n' "$tok" | inject_as root -f joe@demo.test \
  x@virt.test a@vdom.test special@vdom.test u@a.wild.test 'pat%virt.test@demo.test'
tap_is "$?" 0 "message to five virtual recipients queued"
wait_for 20 sh -c "[ \$(grep -l '^Subject: $tok\$' '$MAILDIR'/new/* 2>/dev/null | wc -l) -ge 5 ]"
tap_is "$(dt "$tok")" "joe-pat@virt.test joe-x@virt.test sp-special@vdom.test vd-a@vdom.test w-u@a.wild.test " \
  "virtualdomains: domain, user@domain, .suffix, user-level (joe's extension), after percenthack"
grep -q "to local joe-x@virt.test" "$LOG"; tap_ok $? "the log shows the rewritten address"

# a virtual recipient that fails: the bounce names the address as sent
printf 'Subject: %s-bad\n\nbad\n' "$tok" | inject_as root -f joe@demo.test lost@bad.test
wait_for 20 sh -c "grep -l 'multipart/report' '$MAILDIR'/new/* 2>/dev/null | xargs -r grep -l 'Subject: $tok-bad' | grep -q ."
tap_ok $? "a bounce for the failed virtual recipient"
b=$(grep -l 'multipart/report' "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -l "Subject: $tok-bad" | head -n 1)
dsn fields "$b" Final-Recipient Status > "$ROOT/r.txt" 2>&1
tap_is "$(cat "$ROOT/r.txt")" "rfc822; lost@bad.test 5.1.1" "the bounce lists the original address (prepend stripped)"
grep -q "^<lost@bad.test>:" "$b"; tap_ok $? "the human-readable part too"

# SIGHUP rereads control/locals
printf 'Subject: %s-before\n\nx\n' "$tok" | inject_as root -f joe@demo.test a@new.test
wait_for 20 grep -q "to remote a@new.test" "$LOG"; tap_ok $? "before SIGHUP new.test is remote"
printf 'demo.test\nnew.test\n' > "$ROOT/control/locals"
s6-svc -h "$ROOT/service/send"
wait_for 10 grep -q "status: reread control/locals" "$LOG"; tap_ok $? "SIGHUP logged"
printf 'Subject: %s-after\n\nx\n' "$tok" | inject_as root -f joe@demo.test b@new.test
wait_for 20 sh -c "[ \$(grep -l '^Subject: $tok-after\$' '$MAILDIR'/new/* 2>/dev/null | wc -l) -ge 1 ]"
tap_is "$(dt "$tok-after")" "b@new.test " "after SIGHUP mail to the new domain is local"

# an unreadable control/locals: the old lists stay
mv "$ROOT/control/locals" "$ROOT/control/locals.ok"; mkdir "$ROOT/control/locals"
s6-svc -h "$ROOT/service/send"
wait_for 10 grep -q "warning: keeping the old control/locals" "$LOG"; tap_ok $? "a bad control/locals is logged"
printf 'Subject: %s-kept\n\nx\n' "$tok" | inject_as root -f joe@demo.test c@new.test
wait_for 20 sh -c "[ \$(grep -l '^Subject: $tok-kept\$' '$MAILDIR'/new/* 2>/dev/null | wc -l) -ge 1 ]"
tap_is "$(dt "$tok-kept")" "c@new.test " "and the old lists stay in force"
rmdir "$ROOT/control/locals"; mv "$ROOT/control/locals.ok" "$ROOT/control/locals"
[ "$TAP_FAIL" -eq 0 ] || tail -n 40 "$LOG" | sed 's/^/# /'
tap_done
