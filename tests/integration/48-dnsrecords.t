#!/bin/sh
# 48-dnsrecords.t: tern-dnsrecords on an installed instance: the output
# parses as a zone file (ldns-read-zone); MX, SPF, DMARC, TLS-RPT and
# MTA-STS records for every domain of control/rcpthosts; the TLSA 3 1 1
# value of HOME/tls/default.crt equals the SHA-256 of its
# SubjectPublicKeyInfo as openssl and sha256sum compute it, and openssl's
# own DANE check (s_client -dane_tlsa_rrdata) accepts it against a server
# holding that certificate; a DKIM record from dkim/DOMAIN/SELECTOR.txt
# under HOME; -m and -a; a usage error.
. "$(dirname "$0")/lib.sh"
for p in openssl ldns-read-zone sha256sum; do
  command -v "$p" >/dev/null || tap_abort "$p is not installed (tests/deps.sh test installs it)"
done
tern_init
tap_plan 11
tern_install || tap_abort "install failed"
[ -x "$ROOT/bin/tern-dnsrecords" ] || tap_abort "tern-dnsrecords not installed"
printf 'demo.test\nother.test\n.sub.demo.test\nlocalhost\n' > "$ROOT/control/rcpthosts"
echo mx.demo.test > "$ROOT/control/me"
mkdir -p "$ROOT/dkim/demo.test"
key=$(head -c 400 /dev/urandom | base64 -w 0)
printf 'v=DKIM1; k=rsa; p=%s\n' "$key" > "$ROOT/dkim/demo.test/sel1.txt"
OUT=$ROOT/records
"$ROOT/bin/tern-dnsrecords" > "$OUT" 2> "$ROOT/records.err"
tap_ok $? "exit 0"
sed 's/^/# /' "$ROOT/records.err"
ldns-read-zone "$OUT" > "$ROOT/zone" 2>&1
tap_ok $? "the output parses as a zone file"
tap_is "$(awk '$4 == "MX" {print $1, $5, $6}' "$ROOT/zone" | sort | tr '\n' '|')" \
  "demo.test. 10 mx.demo.test.|other.test. 10 mx.demo.test.|" "an MX for each domain of control/rcpthosts, none for .sub or localhost"
txtof() { awk -v n="$1" '$1 == n && $4 == "TXT" { $1 = $2 = $3 = $4 = ""; print }' "$ROOT/zone" | sed 's/^ *//; s/" "//g; s/^"//; s/"$//'; }
tap_is "$(txtof demo.test.)|$(txtof _dmarc.demo.test.)|$(txtof _smtp._tls.other.test.)" \
  "v=spf1 mx -all|v=DMARC1; p=none; rua=mailto:postmaster@demo.test|v=TLSRPTv1; rua=mailto:postmaster@other.test" \
  "SPF, DMARC and TLS-RPT records"
sts=$(txtof _mta-sts.demo.test.)
"$ROOT/bin/tern-dnsrecords" demo.test > "$ROOT/records2"
echo "$sts" | grep -qE '^v=STSv1; id=[0-9a-f]{20}$' && grep -q "_mta-sts.demo.test.*$(echo "$sts" | sed 's/.*id=//')" "$ROOT/records2" \
  && grep -q '^;   mx: mx.demo.test$' "$OUT" && grep -q '^;   mode: testing$' "$OUT"
tap_ok $? "MTA-STS: TXT with an id stable across runs, the policy file in comments"
want=$(openssl x509 -in "$ROOT/tls/default.crt" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
got=$(awk '$1 == "_25._tcp.mx.demo.test." && $4 == "TLSA" {print $5, $6, $7, tolower($8)}' "$ROOT/zone")
tap_is "$got" "3 1 1 $want" "TLSA 3 1 1: SHA-256 of the certificate's SubjectPublicKeyInfo"
P=$((31000 + $$ % 20000))
openssl s_server -accept "127.0.0.1:$P" -cert "$ROOT/tls/default.crt" -key "$ROOT/tls/default.key" -quiet \
  > /dev/null 2>&1 < /dev/null &
SRV=$!
wait_for 10 tcp_up "$P"
echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$P" -dane_tlsa_domain mx.demo.test \
  -dane_tlsa_rrdata "${got}" -dane_ee_no_namechecks -verify_return_error > "$ROOT/sclient" 2>&1
rc=$?
echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$P" -dane_tlsa_domain mx.demo.test \
  -dane_tlsa_rrdata "3 1 1 $(printf '%064d' 0)" -dane_ee_no_namechecks -verify_return_error > "$ROOT/sclient0" 2>&1
rc0=$?
kill $SRV 2>/dev/null; wait $SRV 2>/dev/null
[ $rc -eq 0 ] && grep -q 'Verification: OK' "$ROOT/sclient" && grep -q 'DANE TLSA 3 1 1' "$ROOT/sclient"
tap_ok $? "openssl's DANE check accepts the TLSA record against a server with that certificate"
[ $rc -eq 0 ] || sed 's/^/# /' "$ROOT/sclient" | tail -n 20
[ $rc0 -ne 0 ] && ! grep -q 'Verification: OK' "$ROOT/sclient0"
tap_ok $? "and refuses a TLSA record that does not match (the check is not vacuous)"
tap_is "$(txtof sel1._domainkey.demo.test.)" "v=DKIM1; k=rsa; p=$key" "DKIM: the record of dkim/demo.test/sel1.txt, split and joined again"
"$ROOT/bin/tern-dnsrecords" -m mail.other.test -a 192.0.2.7 -a 2001:db8::7 other.test | ldns-read-zone /dev/stdin > "$ROOT/zone3" 2>&1
grep -qE '^mail\.other\.test\.[[:space:]].*A[[:space:]]+192\.0\.2\.7$' "$ROOT/zone3" \
  && grep -qE '^mail\.other\.test\.[[:space:]].*AAAA[[:space:]]+2001:db8::7$' "$ROOT/zone3" \
  && grep -q '"v=spf1 ip4:192.0.2.7 ip6:2001:db8::7 -all"' "$ROOT/zone3" \
  && grep -qE '^other\.test\.[[:space:]].*MX[[:space:]]+10 mail\.other\.test\.$' "$ROOT/zone3" \
  && ! grep -q 'demo.test' "$ROOT/zone3"
tap_ok $? "-m and -a: the MX host, its addresses, SPF with ip4/ip6; only the named domain"
"$ROOT/bin/tern-dnsrecords" -a 'x;y' > /dev/null 2>&1
tap_is "$?" 100 "a bad address is a usage error (100)"
tap_done
