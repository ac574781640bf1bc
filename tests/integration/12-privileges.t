#!/bin/sh
# 12-privileges.t: the privilege split holds on a running instance.
# No tern process but tern-start, tern-lspawn (and tern-listen before it
# binds) runs as root; tern-smtpd's user cannot write anywhere in the
# queue or read queued mail; nothing is setuid/setgid; every queue
# directory has the owner and mode of queue/tern-queue.8.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 6
tern_install || exit 1
tern_start || exit 1
sleep 1
tern_ps > "$ROOT/ps.txt"
# tern-listen stays root to start each TLS session's tern-tlsd (terntls)
# and tern-smtpd (ternd) under their own users (tern-listen.8)
bad=$(awk '$1 == "root" && $2 !~ /^tern-(start|lspawn|listen)$/ {print}' "$ROOT/ps.txt")
tap_is "$bad" "" "no tern process other than tern-start, tern-lspawn and tern-listen runs as root"
tap_is "$(find "$ROOT" -perm /6000)" "" "no setuid or setgid file"
# ternd (tern-smtpd's user) can neither write nor read the queue
w=$(s6-setuidgid ternd sh -c "for d in \$(find '$ROOT/queue' -type d 2>/dev/null) '$ROOT/queue'; do [ -w \"\$d\" ] && echo \$d; done")
tap_is "$w" "" "ternd can write no queue directory"
# keep the message queued: stop tern-send first
s6-svc -wD -T 5000 -d "$ROOT/service/send" 2>/dev/null
printf 'Subject: secret\n\nsecret\n' | "$ROOT/bin/sendmail" -i demo@demo.test >/dev/null 2>&1
r=$(s6-setuidgid ternd sh -c "ls '$ROOT/queue/msg' 2>/dev/null; cat '$ROOT'/queue/msg/* 2>/dev/null" | head -c 100)
tap_is "$r" "" "ternd cannot list or read queued messages"
# every file in the queue (listed by root), tried for writing as ternd;
# the trigger FIFO is meant to be writable by every injector (0622)
find "$ROOT/queue" -type f -o -type p > "$ROOT/qfiles.txt"
w=$(s6-setuidgid ternd sh -c "while read -r f; do if [ -p \"\$f\" ]; then continue; fi; ( : >> \"\$f\" ) 2>/dev/null && echo \"\$f\"; done" < "$ROOT/qfiles.txt")
tap_is "$w" "" "ternd can open no queue file for writing ($(wc -l < "$ROOT/qfiles.txt") files tried)"
modes=$(cd "$ROOT/queue" && for d in . msg state bounce lock $(ls msg | sed 's|^|msg/|'); do stat -c "%n %U:%G %a" "$d"; done | tr '\n' ';' | sed 's|;msg/[0-9]* |;msg/N |')
tap_is "$modes" ". ternq:tern 750;msg ternq:tern 750;state terns:tern 700;bounce terns:tern 700;lock ternq:tern 750;msg/N ternq:tern 640;" "queue owners and modes (one message file, msg/N)"
tap_done
