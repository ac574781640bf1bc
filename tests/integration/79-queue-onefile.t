#!/bin/sh
# 79-queue-onefile.t: the one-file queue end to end (tern-queued.8, THE
# QUEUE). A message whose envelope does not fit before offset 4096 (200
# recipients) is queued with its message at the next multiple of 4096 and
# delivered whole to every recipient; a program run by a .tern file reads
# on stdin exactly the queued message (what msg/N holds from its message
# offset: the spawners hand the file over positioned there), no byte of the
# head or the envelope; the queue is empty afterwards and tern-send's
# journal emptied with it.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 7
tern_install || { diag "install failed"; exit 1; }
tern_start; tap_ok $? "services up"
Q=$ROOT/queue
tok=of79-$$
s6-svc -d "$ROOT/service/send" && s6-svwait -D -t 20000 "$ROOT/service/send"

# 200 recipients of 35 bytes: about 7 KB of envelope
rcpts=$(i=0; while [ $i -lt 200 ]; do printf 'rcpt-long-local-part-%03d@demo.test ' $i; i=$((i + 1)); done)
# shellcheck disable=SC2086
printf 'Subject: %s-long\n\nthe body of %s\n' "$tok" "$tok" | inject_as root -f joe@demo.test $rcpts
printf '|cat > prog.out\n' > "$ROOT/mail/demo/.tern-prog"; chmod 0644 "$ROOT/mail/demo/.tern-prog"
printf 'Subject: %s-prog\n\nfor the program\n' "$tok" | inject_as root -f joe@demo.test prog@demo.test
python3 - "$Q/msg" "$tok" > "$ROOT/heads" <<'PY'
import os, sys
d, tok = sys.argv[1], sys.argv[2]
for n in os.listdir(d):
    b = open(os.path.join(d, n), 'rb').read()
    moff, elen = int(b[8:24], 16), int(b[24:40], 16)
    kind = 'long' if (b'Subject: %s-long' % tok.encode()) in b[moff:] else 'prog'
    print(kind, moff, elen, b[:8] == b'TERNQ01\n' and not b[40 + elen:moff].strip(b'\0'))
    open(os.path.join(os.path.dirname(d), '..', 'queued.' + kind), 'wb').write(b[moff:])
PY
sed 's/^/# /' "$ROOT/heads"
tap_is "$(sed -n 's/^long \([0-9]*\) [0-9]* True$/\1/p' "$ROOT/heads")" 8192 "200 recipients: the message at 8192, after the envelope and the head"
tap_is "$(sed -n 's/^prog \([0-9]*\) [0-9]* True$/\1/p' "$ROOT/heads")" 4096 "one recipient: the message at 4096"

s6-svc -u "$ROOT/service/send"
wait_for 60 sh -c "[ \$(grep -l '^Subject: $tok-long\$' '$MAILDIR'/new/* 2>/dev/null | wc -l) -ge 200 ] && [ -e '$ROOT/mail/demo/prog.out' ] && [ -z \"\$(ls '$Q/msg')\" ]"
tap_is "$(grep -l "^Subject: $tok-long\$" "$MAILDIR"/new/* 2>/dev/null | wc -l | tr -d ' ')" 200 "the long-envelope message delivered to each of its 200 recipients"
whole=0
for f in $(grep -l "^Subject: $tok-long\$" "$MAILDIR"/new/* 2>/dev/null); do
  # the Maildir file: Return-Path, Delivered-To, then the queued message
  tail -c "$(stat -c %s "$ROOT/queued.long")" "$f" | cmp -s - "$ROOT/queued.long" && whole=$((whole + 1))
done
tap_is "$whole" 200 "each copy ends with the whole queued message, byte for byte"
cmp -s "$ROOT/mail/demo/prog.out" "$ROOT/queued.prog"; tap_ok $? "the program read on stdin exactly the queued message, nothing of the head or envelope"
left=$(cd "$Q" && find msg state bounce -type f -size +0 | tr '\n' ' ')
tap_is "$left" "" "the queue is empty and the journal emptied"
[ "$TAP_FAIL" -eq 0 ] || { od -c "$ROOT/mail/demo/prog.out" | head -5 | sed 's/^/# /'; tail -n 20 "$ROOT/log/send/current" | sed 's/^/# /'; }
tap_done
