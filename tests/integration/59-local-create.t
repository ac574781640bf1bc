#!/bin/sh
# 59-local-create.t: tern-local run directly (as root) in a temporary home:
# a Maildir that does not exist yet is made (tmp, new, cur; mode 0700),
# a missing parent still defers (#4.2.1), and an mbox line /dev/null (what
# "nobody: /dev/null" in /etc/aliases becomes) discards instead of deferring.
. "$(dirname "$0")/lib.sh"
TL=$SRC/local/tern-local
[ -x "$TL" ] || tap_skip_all "local/tern-local not built"
T=$(mktemp -d /tmp/tern-local59.XXXXXX)
trap 'rm -rf "$T"' EXIT
H=$T/home
mkdir -p "$H"; chmod 0755 "$H"
printf 'Subject: test\n\nbody\n' > "$T/msg"
tl() { "$TL" -- joe "$H" "$@" < "$T/msg" > "$T/out" 2>&1; echo $? > "$T/rc"; }
tap_plan 8

# 1. default delivery into a Maildir that is not there
tl joe "" "" example.test "a@x.test" "./Maildir/"
tap_is "$(cat "$T/rc") $(cat "$T/out")" "0 did 1+0+0" "missing ./Maildir/: made and delivered"
tap_is "$(find "$H/Maildir/new" -type f | wc -l | tr -d ' ')" 1 "one file in the new Maildir's new/"
tap_is "$(stat -c %a "$H/Maildir" "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur" | tr '\n' ' ')" "700 700 700 700 " "Maildir and tmp/new/cur are mode 0700"

# 2. a Maildir whose parent is missing: deferred, nothing made
tl joe "" "" example.test "a@x.test" "./nothere/Maildir/"
tap_is "$(cat "$T/rc")" 111 "Maildir under a missing folder: deferred (111)"
case $(cat "$T/out") in *"#4.2.1"*) tap_ok 0 "reported with #4.2.1" ;; *) tap_ok 1 "reported with #4.2.1: $(cat "$T/out")" ;; esac
tap_ok "$([ ! -e "$H/nothere" ]; echo $?)" "the missing parent is not created"

# 3. /dev/null as a delivery line discards
printf '/dev/null\n' > "$H/.tern-nobody"; chmod 0644 "$H/.tern-nobody"
before=$(stat -c %Y /dev/null)
tl joe-nobody - nobody example.test "a@x.test" "./Maildir/"
tap_is "$(cat "$T/rc") $(cat "$T/out")" "0 did 1+0+0" "/dev/null line: delivered (discarded), exit 0"
tap_ok "$([ ! -e /dev/null.lock ] && [ -c /dev/null ]; echo $?)" "/dev/null untouched: still a device, no lock file"
