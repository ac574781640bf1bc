#!/bin/sh
# 25-inject-headers.t: tern-inject (sendmail) qualifies the addresses of
# the header as qmail-inject does (qmail-header(5)): in From, To, Cc,
# Bcc, Reply-To, Sender and the Resent- fields an address without @ gets
# @defaulthost (control/me when defaulthost is absent), a host name
# ending in '+' gets plusdomain, one without a dot .defaultdomain;
# display names, comments, groups and literals stay as written; other
# fields and the body are untouched. Cron's "From: root (Cron Daemon)"
# and mailx's "To: bob" leave with a domain. Runs without services: the
# queue program is a capturing $QMAILQUEUE script.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/tests/integration/lib.sh"
R=$(mktemp -d); trap 'rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/control"
cp "$SRC/queue/sendmail" "$R/bin/"
echo host.demo.test > "$R/control/me"
printf '#!/bin/sh\ncat > "%s/msg"; tr "\\000" "\\n" <&1 > "%s/env"\n' "$R" "$R" > "$R/cap.sh"; chmod +x "$R/cap.sh"
tap_plan 16
inj() { QMAILQUEUE=$R/cap.sh "$R/bin/sendmail" "$@"; }
field() { grep -i "^$1:" "$R/msg"; }

# cron: From root (Cron Daemon), mailx: To bob; no defaulthost: control/me
printf 'From: root (Cron Daemon)\nTo: bob\nSubject: cron\n\nbody\n' | inj -t
tap_is "$?" 0 "sendmail -t accepts the message"
tap_is "$(field From)" "From: root@host.demo.test (Cron Daemon)" "From: root (Cron Daemon) qualified with me, the comment kept"
tap_is "$(field To)" "To: bob@host.demo.test" "To: bob qualified with me"
tap_is "$(grep '^T' "$R/env")" "Tbob@host.demo.test" "the envelope recipient too"

echo def.test > "$R/control/defaulthost"
echo ex.org > "$R/control/defaultdomain"
echo plus.net > "$R/control/plusdomain"
printf '%s\n' 'From: "Joe Q" <joe>' 'To: bob, "Al B" <al>, x@y.z (c), u@[192.0.2.1]' \
  ' , eve@box' 'Cc: friends: a, b@x.+;, undisclosed-recipients:;' 'Bcc: hidden' \
  'Reply-To: <@r:z@box>' 'Sender: sys' 'X-Original-To: bob' 'Subject: To: notme' '' 'To: bob' > "$R/in"
inj -t < "$R/in"
tap_is "$?" 0 "sendmail -t with every kind of address"
tap_is "$(field From)" 'From: "Joe Q" <joe@def.test>' "an angle address gets @defaulthost inside the brackets"
tap_is "$(sed -n '/^To:/,/^[^ ]/p' "$R/msg" | head -n 2 | tr '\n' '|')" 'To: bob@def.test, "Al B" <al@def.test>, x@y.z (c), u@[192.0.2.1]| , eve@box.ex.org|' \
  "To: each address qualified in place, folding kept, a literal untouched, no dot: .defaultdomain"
tap_is "$(field Cc)" "Cc: friends: a@def.test, b@x.plus.net;, undisclosed-recipients:;" "Cc: groups kept, '+' becomes plusdomain"
tap_is "$(field Reply-To)" "Reply-To: <@r:z@box.ex.org>" "Reply-To qualified"
tap_is "$(field Sender)" "Sender: sys@def.test" "Sender qualified"
tap_is "$(field Bcc)" "" "Bcc does not leave"
tap_is "$(grep '^Thidden' "$R/env")" "Thidden@def.test" "the Bcc recipient is in the envelope, qualified"
tap_is "$(field X-Original-To)$(field Subject)$(tail -n 1 "$R/msg")" "X-Original-To: bobSubject: To: notmeTo: bob" "other fields and the body untouched"
# -F: the display name of a generated From; one that would make the line
# longer than 998 octets (RFC 5322 2.1.1) is left out with a warning
printf 'To: bob\n\nhi\n' | inj -t -F 'Joe "J" Q'
tap_is "$(field From)" 'From: "Joe \"J\" Q" <root@def.test>' "-F: the name quoted into a generated From"
long=$(head -c 5000 /dev/zero | tr '\0' b)
printf 'To: bob\n\nhi\n' | inj -t -F "$long" 2> "$R/err"; rc=$?
tap_ok "$([ $rc = 0 ] && [ "$(field From)" = "From: root@def.test" ] && grep -q 'longer than 998' "$R/err"; echo $?)" \
  "-F with a 5,000-octet name: sent without it, with a warning ($rc, $(field From | head -c 60))"

printf 'Resent-From: jim\nResent-To: kim\nResent-Cc: lee@h\nTo: bob\n\nfwd\n' | inj -t
tap_is "$(field Resent-From)|$(field Resent-To)|$(field Resent-Cc)|$(grep '^T' "$R/env" | tr '\n' ' ')" \
  "Resent-From: jim@def.test|Resent-To: kim@def.test|Resent-Cc: lee@h.ex.org|Tkim@def.test Tlee@h.ex.org " "the Resent- fields are qualified (and name the recipients)"
tap_done
