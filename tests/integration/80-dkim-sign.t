#!/bin/sh
# 80-dkim-sign.t: tern-dkimsign signs, an independent verifier agrees.
# Keys from tern-dkimkey for demo.test; their TXT records served by the
# test's own dnsmasq on 127.0.0.1 (a private port); Debian's python3-dkim
# (dkimpy) verifies both signatures (rsa-sha256, ed25519-sha256) of what
# tern-local delivered, for: bare LF through sendmail as an ordinary user,
# CRLF handed to the filter as ternd, an 8-bit body, long folded header
# lines, an empty body; a tampered body fails; a foreign From domain is
# not signed. The filter on the qmail-queue interface: QMAILQUEUE_NEXT
# gets the signed message and the unchanged envelope, and its exit code,
# id line and fd-6 text come back; the size limit; the signing service
# down means a temporary failure and nothing queued.
. "$(dirname "$0")/lib.sh"
tern_init
PY=/usr/bin/python3
command -v dnsmasq >/dev/null || tap_abort "dnsmasq not installed (tests/deps.sh test)"
$PY -c 'import dkim, dns.resolver' 2>/dev/null || tap_abort "python3-dkim or python3-dnspython not installed (tests/deps.sh test)"
[ -x "$SRC/queue/tern-dkimsign" ] || tap_abort "queue/tern-dkimsign not built"
tern_install || tap_abort "install failed"
"$ROOT/bin/tern-dkimkey" demo.test > "$ROOT/records" 2> "$ROOT/dkimkey.err" || tap_abort "tern-dkimkey: $(cat "$ROOT/dkimkey.err")"
tern_start || tap_abort "instance did not come up"
tap_plan 36

# --- the records ---
tap_is "$(sed -n '1p;3p' "$ROOT/records" | tr '\n' ' ')" "tern-rsa._domainkey.demo.test tern-ed25519._domainkey.demo.test " "tern-dkimkey names both records"
sed -n 2p "$ROOT/records" | grep -qE '^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{380,}=*$'; tap_ok $? "the RSA record: v=DKIM1; k=rsa; p= a 2048-bit key"
sed -n 4p "$ROOT/records" | grep -qE '^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$'; tap_ok $? "the Ed25519 record: v=DKIM1; k=ed25519; p= 32 bytes"
cmp -s "$ROOT/records" "$ROOT/dkim/demo.test/tern.txt"; tap_ok $? "the records are also in HOME/dkim/demo.test/tern.txt"
tap_is "$(stat -c '%U %a' "$ROOT/dkim/demo.test/tern-rsa.key" "$ROOT/dkim/demo.test/tern-ed25519.key" | tr '\n' ' ')" "ternk 600 ternk 600 " "the keys are ternk's, mode 0600"
"$ROOT/bin/tern-dkimkey" demo.test > "$ROOT/records2" 2>&1
cmp -s "$ROOT/records" "$ROOT/records2"; tap_ok $? "a second run keeps the keys (same records)"

dkim_dns "$ROOT/records" || diag "dnsmasq does not answer on 127.0.0.1:$DNSPORT"
trap 'kill $DNSMASQ 2>/dev/null; tern_cleanup' EXIT

# delivered TOKEN: the Maildir file holding TOKEN (waits up to 20 s)
delivered() { wait_for 20 sh -c "grep -l '$1' '$MAILDIR'/new/* >/dev/null 2>&1" && grep -l "$1" "$MAILDIR"/new/* | head -n 1; }
# verify FILE: dkimpy's verdict per signature, sorted: "ALG pass|fail ..."
verify() { $PY "$SRC/tests/integration/dkimverify.py" $DNSPORT "$1" | grep -v "^#" | sed 's/^[^ ]* //' | awk '{print $1, $NF}' | sort | tr '\n' ' '; }
BOTH="a=ed25519-sha256 pass a=rsa-sha256 pass "
# hlist FILE: the h= list of its rsa-sha256 signature, unfolded
hlist() { sed -n '/^DKIM-Signature: v=1; a=rsa/,/b=/p' "$1" | tr -d '\n\t ' | sed 's/.*;h=\([^;]*\);bh=.*/\1/'; }
send() { # USER TOKEN: the message on stdin through sendmail with the filter
  QMAILQUEUE=$ROOT/bin/tern-dkimsign s6-setuidgid "$1" "$ROOT/bin/sendmail" -f ann@demo.test "rcpt-$2@demo.test"
}

# --- bare LF through sendmail, as an ordinary user ---
printf 'From: Ann <ann@demo.test>\nTo: someone@demo.test\nSubject: plain lf\n\nline one\n  indented   and spaced  \n\n\nlast\n\n\n' | send nobody lf
tap_ok $? "sendmail as nobody with tern-dkimsign as QMAILQUEUE: accepted"
f=$(delivered rcpt-lf@demo.test)
tap_is "$(verify "$f")" "$BOTH" "bare LF via sendmail: both signatures verify"
tap_is "$(grep -c '^DKIM-Signature:' "$f")" 2 "two DKIM-Signature fields, one per key"
tap_is "$(hlist "$f")" "from:from:to:subject:date:message-id" "h= signs From (over-signed), To, Subject, Date, Message-ID"

# --- tampered: the verifier is real ---
sed 's/^last$/LAST/' "$f" > "$ROOT/tampered"
tap_is "$(verify "$ROOT/tampered")" "a=ed25519-sha256 fail a=rsa-sha256 fail " "a changed body fails both"

# --- 8-bit body, MIME fields ---
printf 'From: ann@demo.test\nTo: b@demo.test\nCc: c@demo.test\nReply-To: r@demo.test\nSubject: 8bit\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncaf\303\251 \342\202\254 \377\376\n' | send nobody 8bit
f=$(delivered rcpt-8bit@demo.test)
tap_is "$(verify "$f")" "$BOTH" "8-bit body: both signatures verify"
tap_is "$(hlist "$f")" "from:from:to:subject:date:message-id:mime-version:content-type:content-transfer-encoding:cc:reply-to" "MIME fields, Cc and Reply-To are signed"

# --- long folded header lines ---
long=$(printf 'word%.0s ' $(seq 1 200))
rc=$(seq 1 40 | sed 's/.*/  rcpt&@example.test,/' | tr '\n' '\n')
{ printf 'From: "A very long display name that goes on" <ann@demo.test>\nTo: x@demo.test,\n%s\n y@demo.test\nSubject: %s\n\t%s\nX-Unsigned:   spaced    out   \n\nbody\n' "$rc" "$long" "$long"; } | send nobody long
f=$(delivered rcpt-long@demo.test)
tap_is "$(verify "$f")" "$BOTH" "long folded To and Subject: both signatures verify"

# --- a name repeated 30 times: its last 8 instances signed ---
{ printf 'From: ann@demo.test\n'; for i in $(seq 1 30); do printf 'To: t%d@demo.test\n' $i; done; printf 'Subject: many\n\nbody\n'; } | send nobody many
f=$(delivered rcpt-many@demo.test)
tap_is "$(verify "$f")" "$BOTH" "30 To: fields: both signatures verify"
tap_is "$(hlist "$f")" "from:from:to:to:to:to:to:to:to:to:subject:date:message-id" "... signing the last 8 of them"
tap_is "$(awk 'length > 80' "$f" | wc -l)" 0 "no line of the signed message passes 80 bytes"

# --- empty body ---
printf 'From: ann@demo.test\nTo: e@demo.test\nSubject: empty\n\n' | send nobody empty
f=$(delivered rcpt-empty@demo.test)
tap_is "$(verify "$f")" "$BOTH" "empty body: both signatures verify"
grep -q 'bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;' "$f"; tap_ok $? "empty body: bh= is SHA-256 of nothing"
printf 'From: ann@demo.test\nTo: e@demo.test\nSubject: no body at all' | send nobody nobody
f=$(delivered rcpt-nobody@demo.test)
tap_is "$(verify "$f")" "$BOTH" "header only, no empty line, no final LF: both signatures verify"

# --- CRLF, handed to the filter as ternd (tern-smtpd's user) ---
printf 'From: Ann <ann@demo.test>\r\nTo: c@demo.test\r\nSubject: crlf\r\n\tfolded\r\nDate: Sun, 6 Dec 2026 00:00:00 +0000\r\nMessage-ID: <crlf@demo.test>\r\n\r\nline  one \r\n\r\n' > "$ROOT/crlf.msg"
printf 'Fann@demo.test\0Trcpt-crlf@demo.test\0\0' > "$ROOT/crlf.env"
chmod 0644 "$ROOT/crlf.msg" "$ROOT/crlf.env"
s6-setuidgid ternd "$ROOT/bin/tern-dkimsign" < "$ROOT/crlf.msg" 1< "$ROOT/crlf.env" 2> "$ROOT/crlf.err"
tap_is "$?" 0 "CRLF message as ternd: exit 0"
grep -qE '^msg [0-9a-z]+ qp [0-9]+$' "$ROOT/crlf.err"; tap_ok $? "the queue's id line comes back on fd 2 ($(cat "$ROOT/crlf.err"))"
f=$(delivered rcpt-crlf@demo.test)
tap_is "$(verify "$f")" "$BOTH" "CRLF message: both signatures verify"

# --- not one of our domains ---
printf 'From: x@other.test\nTo: o@demo.test\nSubject: foreign\n\nbody\n' | send nobody foreign
f=$(delivered rcpt-foreign@demo.test)
tap_is "$(grep -c '^DKIM-Signature:' "$f")" 0 "From a domain without keys: not signed, delivered"
printf 'From: a@demo.test, b@demo.test\nTo: o@demo.test\nSubject: two\n\nbody\n' | send nobody twofrom
f=$(delivered rcpt-twofrom@demo.test)
tap_is "$(grep -c '^DKIM-Signature:' "$f")" 0 "two addresses in From: not signed"

# --- QMAILQUEUE_NEXT: the chain's next stage ---
cat > "$ROOT/next" <<'EOS'
#!/bin/sh
cat > "$NEXT_OUT.msg"; cat <&1 > "$NEXT_OUT.env"
[ -n "$NEXT_FD2" ] && printf '%s' "$NEXT_FD2" >&2
[ -n "$NEXT_FD6" ] && printf '%s' "$NEXT_FD6" >&6
exit "${NEXT_EXIT:-0}"
EOS
chmod 0755 "$ROOT/next"
nx() { env QMAILQUEUE_NEXT="$ROOT/next" NEXT_OUT="$ROOT/nx" "$@" "$ROOT/bin/tern-dkimsign" < "$ROOT/crlf.msg" 1< "$ROOT/crlf.env" 2> "$ROOT/nx.err" 6> "$ROOT/nx.fd6"; echo $?; }
tap_is "$(nx NEXT_FD2='msg abc123 qp 77
')" 0 "QMAILQUEUE_NEXT exit 0: exit 0"
tap_is "$(cat "$ROOT/nx.err")" "msg abc123 qp 77" "its id line is passed on, on fd 2"
cmp -s "$ROOT/nx.env" "$ROOT/crlf.env"; tap_ok $? "the next stage gets the envelope unchanged"
tap_is "$(grep -c '^DKIM-Signature:' "$ROOT/nx.msg")" 2 "the next stage gets the message with both signatures"
tail -c "$(wc -c < "$ROOT/crlf.msg")" "$ROOT/nx.msg" | cmp -s - "$ROOT/crlf.msg"; tap_ok $? "... and the message itself unchanged after them"
tap_is "$(nx NEXT_EXIT=82 NEXT_FD6='Dno thanks')" 82 "next stage exits 82: exit 82"
tap_is "$(cat "$ROOT/nx.fd6")" "Dno thanks" "its fd-6 text is passed on"
tap_is "$(nx NEXT_EXIT=53 NEXT_FD2='disk trouble')" 53 "next stage exits 53: exit 53"

# --- size limit ---
echo 100 > "$ROOT/control/dkimbytes"
tap_is "$(nx)" 31 "a message over control/dkimbytes: exit 31"
rm -f "$ROOT/control/dkimbytes"

# --- the signing service down: temporary failure, nothing queued ---
s6-svc -d "$ROOT/service/dkim"
wait_for 5 sh -c "! s6-svstat '$ROOT/service/dkim' | grep -q '^up'"
before=$(queue_count); mb=$(maildir_count "$MAILDIR")
printf 'From: ann@demo.test\nTo: d@demo.test\nSubject: down\n\nbody\n' | QMAILQUEUE=$ROOT/bin/tern-dkimsign s6-setuidgid nobody "$ROOT/bin/sendmail" -f ann@demo.test rcpt-down@demo.test 2> "$ROOT/down.err"
rcd=$?
[ "$rcd" -ne 0 ]; tap_ok $? "signing service down: sendmail fails ($rcd: $(head -c 200 "$ROOT/down.err"))"
sleep 1
tap_is "$(queue_count) $(maildir_count "$MAILDIR")" "$before $mb" "... and nothing is queued or delivered"
s6-svc -u "$ROOT/service/dkim"
tap_done
