#!/bin/sh
# 56-dovecot.t: a Maildir written by tern-local is read back by Debian's
# Dovecot (started here as root with a private config in $ROOT: loopback
# only, free ports, no SSL, passwd-file login, mail_location = the test
# Maildir). A message sent through the instance's SMTP service is listed
# and fetched over IMAP (imaplib) and POP3 (poplib); the bytes must equal
# the Maildir file (IMAP/POP3 send CRLF: compared after CRLF -> LF), and
# the body must be what was sent. Skipped when /usr/sbin/dovecot is missing
# (Debian packages dovecot-imapd and dovecot-pop3d).
. "$(dirname "$0")/lib.sh"
[ -x /usr/sbin/dovecot ] || tap_skip_all "/usr/sbin/dovecot missing (install dovecot-imapd dovecot-pop3d)"
tern_init
DPID=
trap '[ -n "$DPID" ] && { kill "$DPID" 2>/dev/null; n=50; while [ $n -gt 0 ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done; kill -9 "$DPID" 2>/dev/null; }; tern_cleanup' EXIT
tap_plan 8
tern_install || { diag "install failed"; exit 1; }
tern_start; tap_ok $? "services up"

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
IMAPPORT=$(freeport); POPPORT=$(freeport)
D=$ROOT/dovecot
mkdir -p "$D/run" "$D/state"
chmod 0755 "$D" "$D/run"
printf 'demo:{PLAIN}tern-test-pw\n' > "$D/passwd"
chmod 0644 "$D/passwd"
cat > "$D/dovecot.conf" <<EOF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:$MAILDIR
pop3_uidl_format = %g
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/passwd
}
userdb {
  driver = static
  args = uid=$(id -u ternalias) gid=$(id -g ternalias) home=$ROOT/mail/demo
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAPPORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POPPORT
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
/usr/sbin/dovecot -c "$D/dovecot.conf" -F > "$D/stdout.log" 2>&1 &
DPID=$!
dovecot_up() { tcp_up "$IMAPPORT" && tcp_up "$POPPORT"; }
wait_for 15 dovecot_up
tap_ok $? "dovecot listens on 127.0.0.1:$IMAPPORT (IMAP) and :$POPPORT (POP3)"

tok=dv-$$-$(date +%s)
python3 "$SRC/tests/integration/56-dovecot.py" send "$TERN_PORT" "$tok" > "$ROOT/smtp.out" 2>&1
tap_is "$?" 0 "message sent through tern-smtpd"
wait_for 30 sh -c "grep -l '$tok' '$MAILDIR'/new/* 2>/dev/null | grep -q ."
tap_ok $? "delivered into the Maildir"
f=$(grep -l "$tok" "$MAILDIR"/new/* 2>/dev/null | head -n 1)

python3 "$SRC/tests/integration/56-dovecot.py" read "$IMAPPORT" "$POPPORT" "$tok" "$f" > "$ROOT/read.out" 2>&1
tap_relay < "$ROOT/read.out"
[ "$TAP_FAIL" -eq 0 ] || { sed 's/^/# /' "$ROOT/smtp.out" "$D/dovecot.log" "$D/stdout.log" 2>/dev/null | tail -n 40; }
tap_done
