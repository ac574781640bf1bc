#!/bin/sh
# 57-aliases.t: a sendmail-style aliases file -> tern-newaliases ->
# HOME/alias/.tern-NAME files (ternalias, 0644) -> mail to an alias is
# forwarded, piped, appended, expanded from :include:; the system aliases
# exist by default; hand-written files are never touched; a rerun removes
# the aliases that left the file; recipients.cdb learns the aliases.
. "$(dirname "$0")/lib.sh"
[ -x "$SRC/local/tern-newaliases" ] || tap_skip_all "local/tern-newaliases not built"
tern_init
tap_plan 24
tern_install || { diag "install failed"; exit 1; }
A=$ROOT/alias
# no users/assign catch-all: unknown local parts go to ternalias (HOME/alias)
printf '.\n' > "$ROOT/users/assign"
# the administrator's own catch-all, written by hand: everything else -> $MAILDIR
printf '%s/\n' "$MAILDIR" > "$A/.tern-default"
printf '# by hand\n%s/\n' "$MAILDIR" > "$A/.tern-hand"
chown ternalias:ternnofiles "$A/.tern-default" "$A/.tern-hand"
chmod 0644 "$A/.tern-default" "$A/.tern-hand"
mkdir -m 0700 "$ROOT/spool"; chown ternalias:ternnofiles "$ROOT/spool"
printf 'bob@demo.test, carol\n# not me\n' > "$ROOT/team.txt"
cat > "$ROOT/aliases" <<EOF
# aliases for the test
postmaster: root
Staff: alice-copy,
  "|cat > $ROOT/spool/prog.out"
team.lead: :include:$ROOT/team.txt
archive: $ROOT/spool/archive.mbox
this line has no colon
hand: somebody
EOF
"$ROOT/bin/tern-newaliases" "$ROOT/aliases" > "$ROOT/na.out" 2> "$ROOT/na.err"
tap_is "$?" 0 "tern-newaliases exits 0 despite a bad line"
grep -q "line 7: no ':'" "$ROOT/na.err"; tap_ok $? "the bad line is named in a warning"
grep -q "hand.*written by hand" "$ROOT/na.err"; tap_ok $? "a hand-written file is reported and kept"
tap_is "$(cat "$A/.tern-hand")" "$(printf '# by hand\n%s/' "$MAILDIR")" "hand-written .tern-hand untouched"
tap_is "$(stat -c '%U %a' "$A/.tern-staff" "$A/.tern-team:lead" "$A/.tern-archive" | sort -u)" "ternalias 644" \
  "alias files owned by ternalias, mode 0644 ('.' stored as ':')"
tap_is "$(grep -v '^#' "$A/.tern-staff")" "$(printf '&alice-copy@demo.test\n|cat > %s/spool/prog.out' "$ROOT")" \
  "staff: a qualified forward and a program line"
tap_is "$(grep -v '^#' "$A/.tern-team:lead")" "$(printf '&bob@demo.test\n&carol@demo.test')" ":include: expanded to forwards"
tap_is "$(grep -v '^#' "$A/.tern-postmaster")" "&root@demo.test" "postmaster: root (Debian's default line)"
tap_is "$(grep -v '^#' "$A/.tern-root")" "./Maildir/" "root not in the file: default ./Maildir/ of the alias user"
tap_is "$(grep -v '^#' "$A/.tern-mailer-daemon")" "&postmaster@demo.test" "mailer-daemon default: postmaster"
tap_ok "$( [ -d "$A/Maildir/new" ] && [ "$(stat -c %U "$A/Maildir")" = ternalias ]; echo $?)" "alias Maildir created for root's mail"
python3 "$SRC/tests/integration/cdb.py" keys "$ROOT/users/recipients.cdb" > "$ROOT/keys"
tap_is "$(grep -c '^astaff$\|^ateam\.lead$\|^aroot$\|^apostmaster$\|^ahand$\|^\*$' "$ROOT/keys")" 6 "tern-newu ran: recipients.cdb has the aliases and the catch-all"

tern_start; tap_ok $? "services up"
tok=al-$$-$(date +%s)
printf 'Subject: %s staff\n\nto the staff\n' "$tok" | inject_as root -f sender@demo.test staff@demo.test
wait_for 30 sh -c "grep -q '$tok staff' '$ROOT/spool/prog.out' 2>/dev/null"
tap_ok $? "program line of the alias ran with the message"
wait_for 30 sh -c "grep -l '$tok staff' '$MAILDIR'/new/* 2>/dev/null | grep -q ."
tap_ok $? "forward of the alias delivered (alice-copy -> hand-written catch-all)"
f=$(grep -l "$tok staff" "$MAILDIR"/new/* 2>/dev/null | head -n 1)
grep -q '^Delivered-To: staff@demo.test$' "$f" 2>/dev/null; tap_ok $? "forwarded copy carries Delivered-To: staff@demo.test"
printf 'Subject: %s team\n\nto the team\n' "$tok" | inject_as root -f sender@demo.test Team.Lead@demo.test
wait_for 30 sh -c "[ \$(grep -l '$tok team' '$MAILDIR'/new/* 2>/dev/null | wc -l) -eq 2 ]"
tap_ok $? ":include: members both got the message (mixed-case alias name)"
printf 'Subject: %s archive\n\nkeep me\n' "$tok" | inject_as root -f sender@demo.test archive@demo.test
wait_for 30 sh -c "grep -q '$tok archive' '$ROOT/spool/archive.mbox' 2>/dev/null"
tap_ok $? "file value: appended to the mbox"
printf 'Subject: %s pm\n\nfor postmaster\n' "$tok" | inject_as root -f sender@demo.test postmaster@demo.test
wait_for 30 sh -c "grep -l '$tok pm' '$A'/Maildir/new/* 2>/dev/null | grep -q ."
tap_ok $? "postmaster -> root -> the alias user's Maildir"

# rerun without staff: its file goes, the others stay, hand-written ones stay
sed -i '/^Staff/,/prog.out/d' "$ROOT/aliases"
"$ROOT/bin/tern-newaliases" "$ROOT/aliases" > "$ROOT/na.out" 2> "$ROOT/na.err"
tap_is "$?" 0 "second run exits 0"
tap_ok "$( [ ! -e "$A/.tern-staff" ] && [ -e "$A/.tern-archive" ] && [ -e "$A/.tern-default" ] && [ -e "$A/.tern-hand" ]; echo $?)" \
  "removed alias's file deleted; other generated and hand-written files kept"
grep -q '^# .tern-staff$' "$A/.tern-newaliases-list"; tap_ok "$((! $?))" "list no longer names .tern-staff"
"$ROOT/bin/tern-newaliases" "$ROOT/no-such-file" > /dev/null 2>&1
tap_is "$?" 0 "a missing aliases file: exit 0 (Debian's newaliases must work)"
tap_ok "$( [ ! -e "$A/.tern-archive" ] && [ -e "$A/.tern-root" ] && [ -e "$A/.tern-postmaster" ] && [ -e "$A/.tern-hand" ]; echo $?)" \
  "then only the default aliases (and hand-written files) remain"
[ "$TAP_FAIL" -eq 0 ] || { sed 's/^/# /' "$ROOT/na.err"; tail -n 30 "$ROOT/log/send/current" 2>/dev/null | sed 's/^/# /'; }
tap_done
