#!/bin/sh
# tern-dnsrecords: print, as a zone-file fragment, the DNS records an
# administrator publishes for the domains this tern receives mail for: MX,
# SPF, DMARC, MTA-STS (and its policy file, in comments), TLS-RPT, TLSA for
# the server's own certificate, and DKIM where a key's record exists. It
# changes nothing. HOME is the parent of the directory holding the real
# file of this script. See tern-dnsrecords.8. Exit 0, 100 usage, 111 a
# file could not be read.
PATH=/usr/bin:/bin:/usr/sbin:/sbin
self=$(readlink -f "$0") || { echo "tern-dnsrecords: fatal: unable to find myself: $0" >&2; exit 111; }
H=$(dirname "$(dirname "$self")")
usage() { echo "usage: tern-dnsrecords [-m mxhost] [-a address]... [domain...]" >&2; exit 100; }
die() { echo "tern-dnsrecords: fatal: $*" >&2; exit 111; }

mx= addrs=
while getopts m:a: o; do
  case $o in
    m) mx=$OPTARG ;;
    a) case $OPTARG in *[!0-9a-fA-F.:]*|'') usage ;; esac; addrs="$addrs $OPTARG" ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))

name_ok() { case $1 in ''|*[!A-Za-z0-9.-]*|.*|*..*) return 1 ;; esac; return 0; }
[ -n "$mx" ] || { [ -r "$H/control/me" ] || die "unable to read $H/control/me"; mx=$(head -n 1 "$H/control/me" | tr -d ' \t\r'); }
name_ok "$mx" || die "the MX host name is not a host name: $mx"
mx=${mx%.}

# the domains: the arguments, else control/rcpthosts (its entries that
# name a domain; ".suffix" entries and names without a dot are skipped)
if [ $# -eq 0 ]; then
  [ -r "$H/control/rcpthosts" ] || die "unable to read $H/control/rcpthosts"
  set -- $(sed 's/[[:space:]]*#.*//; s/[[:space:]]//g' "$H/control/rcpthosts" | grep '\.' | grep -v '^\.' | sort -u)
fi
for d in "$@"; do name_ok "$d" || die "not a domain name: $d"; done

# txt OWNER VALUE: a TXT record, the value in strings of at most 255 bytes
txt() {
  printf '%s\tIN\tTXT\t' "$1"
  printf '%s' "$2" | sed 's/[\\"]/\\&/g' | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ' | sed 's/ $//'
  printf '\n'
}

echo "; DNS records for the mail of $* (tern-dnsrecords; $mx receives it)"
if [ -n "$addrs" ]; then
  echo ";"
  echo "; the MX host's addresses"
  for a in $addrs; do
    case $a in *:*) printf '%s.\tIN\tAAAA\t%s\n' "$mx" "$a" ;; *) printf '%s.\tIN\tA\t%s\n' "$mx" "$a" ;; esac
  done
fi

# TLSA 3 1 1 (DANE-EE, the SubjectPublicKeyInfo, SHA-256) of HOME/tls/default.crt
crt=$H/tls/default.crt
echo ";"
if [ -r "$crt" ] && command -v openssl >/dev/null; then
  h=$(openssl x509 -in "$crt" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1) \
    || die "openssl could not read $crt"
  echo "; DANE (RFC 7672) for $mx: the key of $crt. Publish it only in a"
  echo "; DNSSEC-signed zone; before a new key is used, publish its record beside"
  echo "; this one (keep the key when the certificate is renewed, and this stays)."
  printf '_25._tcp.%s.\tIN\tTLSA\t3 1 1 %s\n' "$mx" "$h"
else
  echo "; no TLSA record: $crt cannot be read (run as root) or openssl is missing"
fi

for d in "$@"; do
  d=${d%.}
  echo ";"
  echo "; ---- $d ----"
  printf '%s.\tIN\tMX\t10 %s.\n' "$d" "$mx"
  spf="v=spf1"
  for a in $addrs; do case $a in *:*) spf="$spf ip6:$a" ;; *) spf="$spf ip4:$a" ;; esac; done
  [ -n "$addrs" ] || spf="$spf mx"
  echo "; SPF: add every other host that sends mail as $d before -all"
  txt "$d." "$spf -all"
  echo "; DMARC: p=none only reports; rua is a placeholder, change it as you like"
  txt "_dmarc.$d." "v=DMARC1; p=none; rua=mailto:postmaster@$d"
  echo "; TLS-RPT (RFC 8460): where others send their TLS reports"
  txt "_smtp._tls.$d." "v=TLSRPTv1; rua=mailto:postmaster@$d"
  policy=$(printf 'version: STSv1\nmode: testing\nmx: %s\nmax_age: 604800\n' "$mx")
  id=$(printf '%s\n' "$policy" | sha256sum | cut -c1-20)
  echo "; MTA-STS (RFC 8461): the policy file is served as"
  echo ";   https://mta-sts.$d/.well-known/mta-sts.txt"
  echo "; (a host mta-sts.$d with a valid certificate for that name) and holds:"
  printf '%s\n' "$policy" | sed 's/^/;   /'
  echo "; the id changes whenever the policy does; switch to mode: enforce when reports are clean"
  txt "_mta-sts.$d." "v=STSv1; id=$id"
  # DKIM: HOME/dkim/DOMAIN/SELECTOR.txt holds the record's value (v=DKIM1; ...)
  for k in "$H/dkim/$d"/*.txt; do
    [ -f "$k" ] || continue
    [ -r "$k" ] || die "unable to read $k"
    sel=$(basename "$k" .txt)
    name_ok "$sel" || { echo "; skipped $k: the selector is not a DNS label"; continue; }
    echo "; DKIM key $sel"
    txt "$sel._domainkey.$d." "$(tr -d '\r\n' < "$k")"
  done
done
exit 0
