#!/bin/sh
# 90-deb.t: make deb builds the Debian package from a copy of this tree
# (dpkg-buildpackage, debhelper) and lintian reports no error (its whole
# output is printed here, as comments). The package's metadata and files,
# read with dpkg-deb: it provides, conflicts with and replaces
# mail-transport-agent, depends on s6 and execline, ships every program
# under /usr/lib/tern/bin, /usr/sbin/sendmail, /usr/lib/sendmail,
# /usr/bin/mailq and /usr/bin/newaliases, every man page, tern.service
# (which systemd-analyze verify accepts), the links from /usr/lib/tern into
# /etc (configuration only), /var and /run, and maintainer scripts that run
# queue/install.sh on configure and remove everything on purge. Then the
# package is installed, run and purged in a fresh Debian root
# (tests/deb-root.sh).
. "$(dirname "$0")/lib.sh"
for t in dpkg-buildpackage dh lintian dpkg-deb; do
  command -v $t >/dev/null || tap_skip_all "$t not installed (tests/deps.sh deb)"
done
W=$(mktemp -d /tmp/tern-debtest.XXXXXX)
trap '[ -n "${TERN_KEEP:-}" ] || rm -rf "$W"' EXIT
tap_plan 38

make -C "$SRC" --no-print-directory deb DEB_BUILD="$W/build" > "$W/make.log" 2>&1
rc=$?
sed 's/^/# make deb: /' "$W/make.log"
tap_ok $rc "make deb builds the package and lintian reports no error"
deb=$(ls "$W"/build/tern_*_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ]; tap_ok $? "the .deb is in DEB_BUILD: ${deb:-none}"
[ -n "$deb" ] || { tap_done; exit 1; }

diag "lintian output (DEB_BUILD/lintian.log):"
sed 's/^/#   /' "$W/build/lintian.log"
tap_is "$(grep -c '^E: ' "$W/build/lintian.log")" 0 "lintian: no error"

field() { dpkg-deb -f "$deb" "$1"; }
tap_is "$(field Provides)" mail-transport-agent "Provides: mail-transport-agent"
tap_is "$(field Conflicts)" mail-transport-agent "Conflicts: mail-transport-agent"
tap_is "$(field Replaces)" mail-transport-agent "Replaces: mail-transport-agent"
dep=$(field Depends)
case ", $dep," in *", s6,"*) case ", $dep," in *", execline,"*) r=0 ;; *) r=1 ;; esac ;; *) r=1 ;; esac
tap_ok $r "Depends on s6 and execline ($dep)"

dpkg-deb -c "$deb" | awk '{ p = $6; sub(/^\./, "", p); if ($7 == "->") p = p " -> " $8; print p }' > "$W/list"
has() { grep -qx -- "$1" "$W/list"; }
miss=
for p in $(cd "$SRC" && ls queue/tern-* send/tern-* local/tern-* smtpd/tern-* queue/sendmail | grep -v '\.' ); do
  has "/usr/lib/tern/bin/$(basename "$p")" || miss="$miss $p"
done
tap_is "$miss" "" "every program in /usr/lib/tern/bin"
miss=
for p in $(cd "$SRC" && find common queue send local smtpd -name '*.[1-8]'); do
  b=$(basename "$p"); has "/usr/share/man/man${b##*.}/$b.gz" || miss="$miss $b"
done
tap_is "$miss" "" "every man page in /usr/share/man"
miss=
for l in "/usr/sbin/sendmail -> ../lib/tern/bin/sendmail" "/usr/lib/sendmail -> ../sbin/sendmail" \
         "/usr/bin/mailq -> ../lib/tern/bin/sendmail" "/usr/bin/newaliases -> ../lib/tern/bin/sendmail"; do
  has "$l" || miss="$miss [$l]"
done
tap_is "$miss" "" "sendmail, mailq and newaliases where Debian expects them"
miss=
for l in "control -> /etc/tern" "queue -> /var/spool/tern" "users -> /var/lib/tern/users" \
         "alias -> /var/lib/tern/alias" "service -> /var/lib/tern/service" "log -> /var/log/tern" \
         "sock -> /run/tern" "mail -> /var/lib/tern/mail" "remote -> /etc/tern-remote" \
         "remote-state -> /var/lib/tern/remote-state"; do
  has "/usr/lib/tern/$l" || miss="$miss [$l]"
done
tap_is "$miss" "" "the FHS links of /usr/lib/tern"
# /etc gets configuration only: control files, TLS keys, relay credentials,
# DKIM keys; what the daemons write (remote-state: tcpto, the MTA-STS cache;
# tlsrpt, auth-fail, the queue) goes to /var
etc=$(sed -n 's|^/usr/lib/tern/\([^/]*\) -> /etc/.*|\1|p' "$W/list" | sort | tr '\n' ' ')
tap_is "$etc" "control dkim remote tls " "the only HOME directories in /etc are control, dkim, remote, tls"
has /usr/share/tern/queue/install.sh && has /usr/share/tern/send/service/send/run && has /usr/lib/tmpfiles.d/tern.conf
tap_ok $? "install.sh, the service templates and the /run/tern tmpfiles entry ship"

mkdir -p "$W/x" "$W/ctl"
dpkg-deb -x "$deb" "$W/x" && dpkg-deb -e "$deb" "$W/ctl"
U=$W/x/lib/systemd/system/tern.service
tap_is "$(sed -n 's/^ExecStart=//p' "$U")" "/usr/bin/s6-svscan /usr/lib/tern/service" "tern.service runs s6-svscan over /usr/lib/tern/service"
if command -v systemd-analyze >/dev/null; then
  out=$(cd "$W" && MANPATH=$W/x/usr/share/man systemd-analyze verify "$U" 2>&1)
  tap_ok $? "systemd-analyze verify the packaged tern.service"
  [ -z "$out" ] || diag "$out"
else
  tap_ok 0 "systemd-analyze verify the packaged tern.service # SKIP systemd-analyze not installed"
fi
grep -q 'sh /usr/share/tern/queue/install.sh /usr/lib/tern' "$W/ctl/postinst"
tap_ok $? "postinst configure runs queue/install.sh over /usr/lib/tern"
grep -q 'deb-systemd-helper' "$W/ctl/postinst" && grep -q 'systemd-tmpfiles' "$W/ctl/postinst"
tap_ok $? "postinst enables tern.service and creates /run/tern (debhelper)"
r=0
for p in /etc/tern /var/spool/tern /var/lib/tern /var/log/tern /run/tern userdel groupdel; do
  grep -q -- "$p" "$W/ctl/postrm" || { r=1; diag "postrm lacks $p"; }
done
tap_ok $r "postrm purge removes /etc/tern, the queue, state, logs, the users and groups"
# the unpacked install.sh is the tree's, and it keeps edited control files
cmp -s "$W/x/usr/share/tern/queue/install.sh" "$SRC/queue/install.sh" && grep -q '\[ -e "$H/control/$1" \] ||' "$SRC/queue/install.sh"
tap_ok $? "the packaged install.sh is the tree's, which never overwrites a control file"

# the package in a fresh Debian root (debootstrap from the mirror this
# machine's apt uses; kept in /var/tmp/tern-debroot for later runs, and
# made again when it is not a Debian root): tests/deb-root.sh
FR=${TERN_DEB_ROOT:-/var/tmp/tern-debroot}
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $2 ~ /debian$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
if [ ! -x "$FR/usr/bin/apt-get" ] && command -v debootstrap >/dev/null && [ -n "$mirror" ]; then
  rm -rf "$FR"; mkdir -p "$FR"
  debootstrap --variant=minbase bookworm "$FR" "$mirror" > "$W/debootstrap.log" 2>&1 || tail -n 5 "$W/debootstrap.log" | sed 's/^/# /'
  cp /etc/resolv.conf "$FR/etc/resolv.conf" 2>/dev/null
  cp /etc/apt/sources.list.d/debian.sources "$FR/etc/apt/sources.list.d/" 2>/dev/null && : > "$FR/etc/apt/sources.list"
fi
[ -x "$FR/usr/bin/apt-get" ]; tap_ok $? "a fresh Debian root in $FR (debootstrap)"
if [ -x "$FR/usr/bin/apt-get" ]; then
  for m in proc sys dev dev/pts; do mountpoint -q "$FR/$m" || mount --bind "/$m" "$FR/$m"; done
  sh "$SRC/tests/deb-root.sh" "$FR" "$deb" 2>&1 | tap_relay
  for m in dev/pts dev sys proc; do umount "$FR/$m" 2>/dev/null; done
else
  for i in $(seq 18); do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP no Debian root"; done
fi
tap_done
