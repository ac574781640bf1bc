#!/bin/sh
# 50-local-maildir.t: tern-local run directly (as root) in a temporary home:
# default Maildir delivery, a .tern with two Maildirs, -default files and
# DEFAULT, no mailbox (#5.1.1), Delivered-To loop (#5.4.6), too many
# Received lines, writable .tern and home (111).
. "$(dirname "$0")/lib.sh"
local_init 50   # lib.sh: $TL, $T, $H; tl runs tern-local, then rc, out; dotfile
mkmd() { mkdir -p "$1/tmp" "$1/new" "$1/cur"; }
printf 'Received: from a by b; Sun, 29 Nov 2026 10:00:00 +0000\nSubject: test\n\nFrom here\nbody\n' > "$T/msg"
count() { find "$1/new" -type f | wc -l | tr -d ' '; }
tap_plan 27

# 1. no .tern: defaultdelivery
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 0 "default delivery exits 0"
tap_is "$(out)" "did 1+0+0" "reports did 1+0+0"
tap_is "$(count "$H/Maildir")" 1 "one file in Maildir/new"
f=$(find "$H/Maildir/new" -type f | head -n 1)
tap_is "$(head -n 2 "$f")" "$(printf 'Return-Path: <a@x.test>\nDelivered-To: joe@example.test')" "Return-Path and Delivered-To prepended"
tap_is "$(tail -n +3 "$f" | cmp - "$T/msg" && echo same)" same "message body unchanged (no From quoting in Maildir)"
tap_is "$(find "$H/Maildir/tmp" -type f | wc -l | tr -d ' ')" 0 "tmp/ empty after delivery"
case $(basename "$f") in
  [0-9]*.M[0-9]*P[0-9]*Q[0-9]*R[0-9a-f]*.*) tap_ok 0 "unique name time.MusecPpidQcountRrandom.host" ;;
  *) tap_ok 1 "unique name has the modern form: $(basename "$f")" ;;
esac
tap_is "$(stat -c %a "$f")" 600 "delivered file is mode 0600"

# 2. .tern with two Maildirs and a comment
mkmd "$H/Maildir2"
printf '# two copies\n./Maildir/\n\n%s/Maildir2/\n' "$H" > "$H/.tern"; chmod 0644 "$H/.tern"
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc) $(out)" "0 did 2+0+0" ".tern with two Maildirs: did 2+0+0"
tap_is "$(count "$H/Maildir") $(count "$H/Maildir2")" "2 1" "one new copy in each Maildir"

# 3. extension: .tern-foo-default, DEFAULT; unknown extension without default
mkmd "$H/Foo"
dotfile './Foo/\n' .tern-foo-default
tl joe-foo-bar - foo-bar example.test "a@x.test" "./Maildir/"
tap_is "$(rc) $(count "$H/Foo")" "0 1" "joe-foo-bar uses .tern-foo-default"
tl joe-nothing - nothing example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 100 "unknown extension without .tern-default: exit 100"
tap_is "$(out)" "Sorry, no mailbox here by that name. (#5.1.1)" "unknown extension: #5.1.1"
dotfile './Maildir2/\n' .tern-Dot:Ted
dotfile './Maildir2/\n' .tern-dot:ted
tl joe-Dot.Ted - Dot.Ted example.test "a@x.test" "./Maildir/"
tap_is "$(rc) $(count "$H/Maildir2")" "0 2" "extension lowercased, '.' -> ':' (.tern-dot:ted)"

# 4. Delivered-To loop
MSG=$f tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 100 "message with my Delivered-To line: exit 100"
case $(out) in *"(#5.4.6)") tap_ok 0 "loop reported with #5.4.6" ;; *) tap_ok 1 "loop reported with #5.4.6: $(out)" ;; esac
printf 'Delivered-To: JOE@Example.Test\n\nx\n' > "$T/msg2"
MSG=$T/msg2 tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 100 "Delivered-To in another case is a loop too"
printf 'Subject: x\n\nDelivered-To: joe@example.test\n' > "$T/msg3"
MSG=$T/msg3 tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 0 "Delivered-To in the body is not a loop"

# 5. too many Received lines (control/maxhops: a copy of tern-local in $T/inst/bin)
mkdir -p "$T/inst/bin" "$T/inst/control"
cp "$TL" "$T/inst/bin/tern-local"
printf '3\n' > "$T/inst/control/maxhops"
printf 'Received: 1\nReceived: 2\nreceived: 3\n\nx\n' > "$T/msg4"
TL=$T/inst/bin/tern-local MSG=$T/msg4 tl joe "" "" example.test a@x.test ./Maildir/
tap_is "$(rc)" 0 "3 Received lines with maxhops 3: delivered"
printf 'Received: 0\nReceived: 1\nReceived: 2\nreceived: 3\n\nx\n' > "$T/msg4"
TL=$T/inst/bin/tern-local MSG=$T/msg4 tl joe "" "" example.test a@x.test ./Maildir/
tap_is "$(rc)" 100 "4 Received lines with maxhops 3: exit 100"
case $(out) in *"(#5.4.6)") tap_ok 0 "too many hops: #5.4.6" ;; *) tap_ok 1 "too many hops: $(out)" ;; esac

# 6. writable instructions file / home
n=$(count "$H/Maildir")
chmod 0666 "$H/.tern"
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 111 "world-writable .tern: exit 111"
chmod 0664 "$H/.tern"
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 111 "group-writable .tern: exit 111"
tap_is "$(count "$H/Maildir")" "$n" "nothing delivered through a writable .tern"
chmod 0644 "$H/.tern"
chmod 0757 "$H"
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 111 "world-writable home: exit 111"
chmod 0755 "$H"

# 7. a Maildir under a missing folder is a temporary failure (a missing
# Maildir itself is made: 59-local-create.t); bad first line is temporary
printf './NoSuch/Maildir/\n' > "$H/.tern"
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 111 "Maildir in a missing folder: exit 111"
printf '\n./Maildir/\n' > "$H/.tern"
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(rc)" 111 "blank first line: exit 111"
exit $TAP_FAIL
