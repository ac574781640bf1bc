#!/bin/sh
# tests/deps.sh build|test|deb: install, through apt-get, the Debian packages
# that building (build), testing (test) or
# building the Debian package (deb: make deb) needs and that are missing, and
# say so. Nothing is fetched from anywhere but Debian's archive.
set -e
stage=${1:-build}
# one addition a line, so that branches adding packages merge cleanly
build_pkgs="gcc make libc6-dev libowfat-dev skalibs-dev s6 execline"
build_pkgs="$build_pkgs libssl-dev"      # tern-tlsd (OpenSSL 3)
build_pkgs="$build_pkgs libcrypt-dev"    # tern-authfile (yescrypt)
build_pkgs="$build_pkgs openssl"         # install.sh makes a self-signed certificate; s_client in tests
build_pkgs="$build_pkgs libcurl4-openssl-dev"   # tern-mtasts (the MTA-STS policy over HTTPS)
build_pkgs="$build_pkgs zlib1g-dev"      # tern-tlsrpt gzips its reports
build_pkgs="$build_pkgs musl-tools"      # tern-smtpd and tern-remote are built against musl (Makefile: MUSL)
test_pkgs="$build_pkgs libcmocka-dev python3 perl swaks msmtp dnsmasq-base strace clang libclang-rt-14-dev procps iproute2 util-linux postfix dovecot-imapd dovecot-pop3d valgrind"
test_pkgs="$test_pkgs man-db systemd"     # 05-manpages.t, 06-systemd-unit.t
test_pkgs="$test_pkgs unbound"         # a validating resolver for the DANE test
test_pkgs="$test_pkgs ldnsutils"       # ldns-keygen and ldns-signzone sign its test zone
test_pkgs="$test_pkgs nmap"                # 62-open-relay.t (smtp-open-relay script)
test_pkgs="$test_pkgs testssl.sh"          # 63-testssl.t
test_pkgs="$test_pkgs rspamd"              # 84-rspamc.t (a real rspamd, private configuration)
test_pkgs="$test_pkgs python3-dkim"        # 84-rspamc.t signs a message (Debian's /usr/bin/python3)
test_pkgs="$test_pkgs python3-dkim python3-dnspython"  # 80-dkim-sign.t: dkimpy verifies the signatures
test_pkgs="$test_pkgs opendkim"           # 82-dkim-opendkim.t: a verifying milter on a private Postfix
# make deb: Debian's packaging tools (dpkg-buildpackage, debhelper, lintian)
deb_pkgs="$build_pkgs dpkg-dev debhelper fakeroot lintian debootstrap"
case $stage in
  build) want=$build_pkgs ;;
  test) want="$test_pkgs dpkg-dev debhelper fakeroot lintian debootstrap" ;;
  deb) want=$deb_pkgs ;;
  *) echo "usage: tests/deps.sh build|test|deb" >&2; exit 100 ;;
esac
missing=
for p in $want; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages:$missing; install them as root (apt-get install$missing)" >&2
  exit 111
fi
echo "deps: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix and Dovecot are test peers only: never the system MTA, never
# started by their packages (tests run private instances on loopback).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || :
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod 755 $policy; trap 'rm -f $policy' EXIT; fi
apt-get update -qq >/dev/null 2>&1 || apt-get update
apt-get install -y -qq --no-install-recommends $missing >/dev/null || apt-get install -y --no-install-recommends $missing
