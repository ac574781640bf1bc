#!/bin/sh
# 81-dkim-service.t: the DKIM keys stay out of the injectors' reach, and
# the signing service (tern-dkimkeyd on HOME/sock/dkim, as ternk) answers
# hostile requests with a clean error and signs nothing. The filter runs
# as ternd (tern-smtpd) or a local user: neither can open a key; the keys
# directory hides nothing else (the selector and the records are public).
. "$(dirname "$0")/lib.sh"
tern_init
PY=/usr/bin/python3
[ -x "$SRC/queue/tern-dkimkeyd" ] || tap_abort "queue/tern-dkimkeyd not built"
tern_install || tap_abort "install failed"
"$ROOT/bin/tern-dkimkey" demo.test > /dev/null 2> "$ROOT/dkimkey.err" || tap_abort "tern-dkimkey: $(cat "$ROOT/dkimkey.err")"
tern_start || tap_abort "instance did not come up"
wait_for 10 test -S "$ROOT/sock/dkim" || diag "no socket $ROOT/sock/dkim"
tap_plan 29
K=$ROOT/dkim/demo.test

# --- nobody but ternk reads a key ---
for u in ternd nobody terns ternq; do
  r=$(s6-setuidgid "$u" sh -c "cat '$K/tern-rsa.key' '$K/tern-ed25519.key' 2>/dev/null" | head -c 50)
  tap_is "$r" "" "$u cannot read the private keys"
done
s6-setuidgid ternd sh -c "cat '$K/selector' '$K/tern.txt'" > /dev/null 2>&1; tap_ok $? "ternd reads the selector and the public records"
for u in ternd ternk; do
  w=$(s6-setuidgid $u sh -c "( : > '$K/selector' ) 2>/dev/null && echo selector; ( : > '$K/new' ) 2>/dev/null && echo new; ( : > '$ROOT/dkim/new' ) 2>/dev/null && echo dkim/new")
  tap_is "$w" "" "$u can change nothing in the keys directories"
done
s6-setuidgid ternk sh -c "head -c 10 '$K/tern-rsa.key'" > "$ROOT/k" 2>/dev/null
tap_is "$(cat "$ROOT/k")" "-----BEGIN" "ternk reads them (the signing service's user)"
tap_is "$(stat -c '%U %a' "$ROOT/sock/dkim")" "root 777" "the signing socket is open to every local user"

# ask REQUEST (printf format) as ternd: the answer, first 40 bytes, one line
ask() { s6-setuidgid ternd $PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(15); s.connect(sys.argv[1])
try:
    s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
    s.shutdown(socket.SHUT_WR)
except OSError as e:
    sys.stderr.write("send: %s\n" % e)
a = b""
while True:
    try: b = s.recv(4096)
    except OSError as e: sys.stderr.write("recv: %s\n" % e); break
    if not b: break
    a += b
sys.stdout.write(a.decode("latin-1").replace("\n", "|"))' "$ROOT/sock/dkim" "$1"; }
D=$(printf '%064d' 0 | tr 0 a)

# a signature: "+", base64 of LEN characters, LF
signed() { echo "$1" | grep -qE "^\+[A-Za-z0-9+/]{$(($2 - 2))}==\|$"; }
r=$(ask "rsa-sha256 demo.test tern-rsa $D\n"); signed "$r" 344; tap_ok $? "a well-formed rsa-sha256 request is signed (256 bytes)"
r=$(ask "ed25519-sha256 demo.test tern-ed25519 $D\n"); signed "$r" 88; tap_ok $? "a well-formed ed25519-sha256 request is signed (64 bytes)"
# each hostile request: a "-" answer, nothing signed
bad() { r=$(ask "$1" | head -c 60); case $r in -*) tap_ok 0 "$2: refused (${r%|})" ;; *) tap_ok 1 "$2: refused (got '$r')" ;; esac; }
bad "rsa-sha256 demo.test tern-rsa ${D}aa\n" "a 33-byte digest"
bad "rsa-sha256 demo.test tern-rsa $(printf '%062d' 0)\n" "a 31-byte digest"
bad "rsa-sha256 demo.test tern-rsa $(printf '%064d' 0 | tr 0 A)\n" "an uppercase hex digest"
bad "rsa-sha256 other.test tern-rsa $D\n" "an unknown domain"
bad "rsa-sha256 demo.test nosuch $D\n" "an unknown selector"
bad "rsa-sha1 demo.test tern-rsa $D\n" "an unknown algorithm"
bad "ed25519-sha256 demo.test tern-rsa $D\n" "an RSA key asked for an Ed25519 signature"
bad "rsa-sha256 ../demo.test tern-rsa $D\n" "a domain that climbs out of the keys directory"
bad "rsa-sha256 demo.test ../demo.test/tern-rsa $D\n" "a selector with a slash"
bad "rsa-sha256 demo.test tern-rsa $D" "no LF"
r=$(ask "rsa-sha256 demo.test tern-rsa $D\ned25519-sha256 demo.test tern-ed25519 $D\n")
echo "$r" | grep -qE '^\+[A-Za-z0-9+/]{342}==\|\+[A-Za-z0-9+/]{86}==\|$'; tap_ok $? "two requests on one connection: two signatures, in order"
r=$(ask "rsa-sha256 demo.test tern-rsa $D\nmore\n")
echo "$r" | grep -qE '^\+[A-Za-z0-9+/]{342}==\|-request needs four fields\|$'; tap_ok $? "a malformed second request: the first signed, the second refused ($(echo "$r" | cut -c 1-10)...$(echo "$r" | sed 's/.*==|//'))"
r=$(ask "$(for i in 1 2 3 4 5; do printf 'ed25519-sha256 demo.test tern-ed25519 %s\\n' "$D"; done)")
tap_is "$(echo "$r" | tr '|' '\n' | cut -c 1 | tr -d '\n')" "++++-" "a fifth request on one connection is refused"
bad "rsa-sha256 demo.test tern-rsa\x00 $D\n" "a NUL byte"
bad "$(printf '%0700d' 0)\n" "700 bytes without LF"
bad "\n" "an empty line"
U=$(id -u ternd)
wait_for 5 sh -c "[ \$(grep -c 'tern-dkimkeyd: uid $U: refused: ' '$ROOT/log/dkim/current') -ge 14 ]"
tap_ok $? "the service logs each refusal with the client's uid"
grep -q "tern-dkimkeyd: uid $U: signed d=demo.test s=tern-ed25519 a=ed25519-sha256" "$ROOT/log/dkim/current"; tap_ok $? "... and each signature"
tap_done
