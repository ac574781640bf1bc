#!/bin/sh
# 53-local-enospc.t: disk full. A 64 KiB tmpfs holds the Maildir and the
# mbox; with it filled up, tern-local exits 111 and leaves no partial file
# in tmp/ or new/ and the mbox at its old size; after space is freed the
# same message is delivered.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (mount -t tmpfs)"
local_init 53   # lib.sh: $TL, $T, $H; tl runs tern-local, then rc, out; dotfile
mount -t tmpfs -o size=64k,mode=0755 tern-test "$H" 2>/dev/null || tap_skip_all "cannot mount a tmpfs here"
trap 'umount "$H"; rm -rf "$T"' EXIT
mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"
awk 'BEGIN { printf "Subject: big\n\n"
  for (i = 0; i < 400; i++) printf "line %05d of a message that will not fit anywhere near\n", i }' > "$T/msg"
# deliver DEFAULTDELIVERY: one delivery to joe@example.test
deliver() { tl joe "" "" example.test a@x.test "$1"; }
tap_plan 10

# fill the filesystem, leaving a few KiB
dd if=/dev/zero of="$H/filler" bs=1k count=100 2>/dev/null
rm -f "$H/filler"
dd if=/dev/zero of="$H/filler" bs=1k count=52 2>/dev/null
deliver ./Maildir/
tap_is "$(rc)" 111 "Maildir on a full disk: exit 111"
case $(out) in *"(#4.3.1)"|*"(#4.2.2)") tap_ok 0 "reported as disk full (#4.3.1)" ;; *) tap_ok 1 "report: $(out)" ;; esac
tap_is "$(find "$H/Maildir/tmp" "$H/Maildir/new" -type f | wc -l | tr -d ' ')" 0 "no partial file in tmp/ or new/"

printf 'From old@x.test Sun Nov 29 00:00:00 2026\nSubject: old\n\nold\n\n' > "$H/Mailbox"
size=$(stat -c %s "$H/Mailbox")
deliver ./Mailbox
tap_is "$(rc)" 111 "mbox on a full disk: exit 111"; diag "$(out)"
tap_is "$(stat -c %s "$H/Mailbox")" "$size" "mbox truncated back to its old size"
tap_is "$(ls "$H" | grep -c lock)" 0 "no dot-lock left behind"

rm -f "$H/filler"
deliver ./Maildir/
tap_is "$(rc)" 0 "after space is freed: Maildir delivery succeeds"
tap_is "$(find "$H/Maildir/new" -type f | wc -l | tr -d ' ')" 1 "one message in new/"
deliver ./Mailbox
tap_is "$(rc)" 0 "after space is freed: mbox delivery succeeds"
tap_is "$(python3 -c "import mailbox; print(len(mailbox.mbox('$H/Mailbox')))")" 2 "mbox holds the old and the new message"
exit $TAP_FAIL
