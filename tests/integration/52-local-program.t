#!/bin/sh
# 52-local-program.t: |command delivery: /bin/sh -c in the home directory,
# message on stdin from offset 0, qmail's environment, exit codes 0, 99
# (stop), 100 and the permanent list, 111 and others (temporary).
. "$(dirname "$0")/lib.sh"
local_init 52   # lib.sh: $TL, $T, $H; tl runs tern-local, then rc, out; dotfile
printf 'Subject: prog\n\nhello\n' > "$T/msg"
count() { find "$H/Maildir/new" -type f | wc -l | tr -d ' '; }
tap_plan 22

dotfile '|cat > got; pwd > where; env > env\n' .tern-a-b-default
tl joe-a-b-c - a-b-c mail.example.test "s@x.test" "./Maildir/"
tap_is "$(rc) $(out)" "0 did 0+0+1" "program exit 0: delivered, did 0+0+1"
tap_is "$(cat "$H/got")" "$(cat "$T/msg")" "program reads the message from the start, no header added"
tap_is "$(cat "$H/where")" "$H" "program runs in the home directory"
e() { sed -n "s/^$1=//p" "$H/env"; }
tap_is "$(e SENDER) $(e RECIPIENT) $(e LOCAL) $(e HOST)" "s@x.test joe-a-b-c@mail.example.test joe-a-b-c mail.example.test" "SENDER RECIPIENT LOCAL HOST"
tap_is "$(e EXT)|$(e EXT2)|$(e EXT3)|$(e EXT4)" "a-b-c|b-c|c|" "EXT EXT2 EXT3 EXT4"
tap_is "$(e HOST2)|$(e HOST3)|$(e HOST4)" "mail.example|mail|mail" "HOST2 HOST3 HOST4"
tap_is "$(e DEFAULT) $(e USER) $(e HOME) $(e NEWSENDER)" "c joe $H s@x.test" "DEFAULT USER HOME NEWSENDER"
tap_is "$(e DTLINE)" "Delivered-To: joe-a-b-c@mail.example.test" "DTLINE"
tap_is "$(e RPLINE)" "Return-Path: <s@x.test>" "RPLINE"
case $(e UFLINE) in "From s@x.test "*) tap_ok 0 "UFLINE" ;; *) tap_ok 1 "UFLINE: $(e UFLINE)" ;; esac

dotfile '|exit 99\n./Maildir/\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc) $(count)" "0 0" "exit 99: success, following lines skipped"

dotfile './Maildir/\n|echo nope; exit 100\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 100 "exit 100: permanent (100)"
case $(out) in "nope"*"(#5."*) tap_ok 0 "program output in the report, ends with a 5.x.x code" ;; *) tap_ok 1 "report: $(out)" ;; esac
for c in 64 65 70 76 77 78 112; do
  dotfile "|exit $c\n" .tern
  tl joe "" "" example.test "s@x.test" "./Maildir/"
  [ "$(rc)" = 100 ] || { diag "exit $c -> $(rc)"; bad=1; }
done
tap_ok "${bad:-0}" "exit 64 65 70 76 77 78 112: permanent"

dotfile '|exit 111\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 111 "exit 111: temporary"
case $(out) in *"(#4."*) tap_ok 0 "temporary report ends with a 4.x.x code" ;; *) tap_ok 1 "report: $(out)" ;; esac
dotfile '|exit 1\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 111 "exit 1: temporary"
dotfile '|kill -9 $$\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 111 "killed by a signal: temporary"

# the x bit: forward only
dotfile '|true\n' .tern; chmod 0744 "$H/.tern"
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 111 "executable .tern with a program line: 111"
dotfile '+list\n./Maildir/\n' .tern
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc)" 111 "+list .tern with a Maildir line: 111"

# an empty .tern means defaultdelivery
: > "$H/.tern"; chmod 0644 "$H/.tern"
n=$(count)
tl joe "" "" example.test "s@x.test" "./Maildir/"
tap_is "$(rc) $(count)" "0 $((n + 1))" "empty .tern: defaultdelivery"
# defaultdelivery with a program line
rm -f "$H/.tern" "$H/got"
tl joe "" "" example.test "s@x.test" '|cat > got'
tap_is "$(rc) $(cat "$H/got" | head -n 1)" "0 Subject: prog" "defaultdelivery may be a program"
exit $TAP_FAIL
