#!/bin/sh
# queue/install.sh HOME: install tern into HOME (make install passes
# conf-home; make demo and the tests pass private roots; the Debian
# package's postinst passes /usr/lib/tern, whose control, queue, users,
# alias, sock, service, log, mail, tls, remote, remote-state and the
# others are links into /etc, /var and /run (queue/debian/links):
# a directory of HOME that is a link is made where the link points).
# queue/install.sh -b BINDIR: install only the programs (and the sendmail,
# mailq and newaliases links) into BINDIR; no users, needs no root (the
# Debian package's build).
#
# Creates the users and groups tern runs as, if missing (below), the queue
# with the owners and modes of tern-queue(8), control/ with working
# defaults (never overwriting a file that exists), users/, the queue socket
# directory, the s6 service directories (from */service/*/ templates) and
# their log directories. Installs every built program into HOME/bin. Nothing
# is installed setuid or setgid. Refuses to run over a queue whose ownership
# it does not recognise. Needs root. Exit 0 done, 100 usage or refusal,
# 111 a command failed.
set -eu
umask 022

die() { echo "install: fatal: $1" >&2; exit "${2:-111}"; }
src=$(cd "$(dirname "$0")/.." && pwd)

# programs(BINDIR): every built program of the tree into BINDIR, each
# replaced atomically; sendmail, mailq and newaliases links if missing
programs() {
  for p in queue/tern-queue queue/tern-queued queue/tern-clean queue/tern-inject queue/sendmail queue/tern-qstat queue/tern-qread \
           queue/tern-showctl queue/tern-reload send/tern-start send/tern-send send/tern-lspawn send/tern-rspawn send/tern-remote \
           send/tern-tlsc local/tern-local local/tern-newu local/tern-newaliases \
           smtpd/tern-listen smtpd/tern-smtpd smtpd/tern-rules smtpd/tern-tlsd smtpd/tern-authfile smtpd/tern-authdovecot \
           queue/tern-queuectl \
           queue/tern-qnext \
           queue/tern-rspamc \
           queue/tern-dkimsign \
           queue/tern-dkimkeyd \
           queue/tern-dkimkey \
           send/tern-mtasts \
           send/tern-tlsrpt \
           queue/tern-dnsrecords \
           ; do
    [ -f "$src/$p" ] || continue
    b=$(basename "$p")
    cp -f "$src/$p" "$1/.$b.new"
    case $b in tern-start|tern-lspawn) chmod 0700 "$1/.$b.new" ;; *) chmod 0755 "$1/.$b.new" ;; esac
    [ "$(id -u)" != 0 ] || chown root:root "$1/.$b.new"
    mv -f "$1/.$b.new" "$1/$b"
  done
  [ -e "$1/sendmail" ] || { [ -e "$1/tern-inject" ] && ln -sf tern-inject "$1/sendmail"; } || :
  for l in mailq newaliases; do [ -e "$1/$l" ] || ln -sf sendmail "$1/$l"; done
}
if [ $# -eq 2 ] && [ "$1" = -b ]; then
  mkdir -p "$2" || die "mkdir $2"
  programs "$2"
  exit 0
fi
[ $# -eq 1 ] || die "usage: queue/install.sh HOME | queue/install.sh -b BINDIR" 100
[ "$(id -u)" = 0 ] || die "must run as root (it creates users and sets owners)" 100
H=$1
case $H in /*) ;; *) die "HOME must be an absolute path: $H" 100 ;; esac

# --- users and groups: one user per program role, as qmail's INSTALL.ids ---
nologin=/usr/sbin/nologin
[ -x $nologin ] || nologin=/bin/false
group() { getent group "$1" >/dev/null || groupadd --system "$1" || die "groupadd $1"; }
user() { # name group home
  getent passwd "$1" >/dev/null && return 0
  useradd --system --no-create-home --home-dir "$3" --shell $nologin -g "$2" "$1" || die "useradd $1"
}
group tern; group ternnofiles; group ternl; group terntls; group ternauth
group ternr
group ternk
user ternd ternnofiles /nonexistent
user ternq tern /nonexistent
user terns tern /nonexistent
# ternr (tern-rspawn, tern-remote: they parse what remote servers say) has
# a group of its own and is no member of tern, so nothing in the queue
# opens for it: tern-send hands it each message as a descriptor. An older
# install made tern its group: moved here.
user ternr ternr /nonexistent
[ "$(id -gn ternr)" = ternr ] || usermod -g ternr ternr || die "usermod -g ternr ternr"
if id -nG ternr | tr ' ' '\n' | grep -qx tern; then gpasswd -d ternr tern >/dev/null || die "gpasswd -d ternr tern"; fi
user ternl ternl /nonexistent
user ternalias ternnofiles /nonexistent
user terntls terntls /nonexistent
user ternauth ternauth /nonexistent
# ternk: the only user that can read the DKIM private keys (tern-dkimkeyd)
user ternk ternk /nonexistent

# --- refuse to run over something we do not recognise ---
if [ -d "$H/queue" ]; then
  o=$(stat -L -c %U:%G "$H/queue")
  [ "$o" = ternq:tern ] || die "$H/queue is owned by $o, not ternq:tern: not a tern queue; refusing" 100
fi

d() { # mode owner:group path...
  m=$1; og=$2; shift 2
  for p in "$@"; do
    [ -L "$p" ] && p=$(readlink -m "$p")
    mkdir -p "$p"; chown "$og" "$p"; chmod "$m" "$p"
  done
}

d 0755 root:root "$H" "$H/bin" "$H/control" "$H/users" "$H/sock" "$H/service" "$H/log" "$H/mail"
d 0755 ternalias:ternnofiles "$H/alias"
# tern-remote's private files, ternr's only (tern-remote(8)): remote/ is
# configuration it only reads (auth: the relay credentials); remote-state/
# is what it writes (tcpto: the connect timeout table; mta-sts/: the
# MTA-STS policy cache, written by tern-mtasts as ternr), kept apart so
# that a package can put remote/ in /etc and remote-state/ in /var/lib
d 0700 ternr:ternr "$H/remote"
[ -e "$H/remote/auth" ] || : > "$H/remote/auth"
chown ternr:ternr "$H/remote/auth"; chmod 0600 "$H/remote/auth"
d 0700 ternr:ternr "$H/remote-state" "$H/remote-state/mta-sts"
[ -e "$H/remote-state/tcpto" ] || head -c 1024 /dev/zero > "$H/remote-state/tcpto"
chown ternr:ternr "$H/remote-state/tcpto"; chmod 0600 "$H/remote-state/tcpto"
# an older install kept both in remote/: its cache entries move (each one
# is a policy still in force), its timeout table goes (it only saves
# connection attempts)
if [ -d "$H/remote/mta-sts" ] && [ ! -L "$H/remote/mta-sts" ]; then
  for f in "$H/remote/mta-sts"/*; do
    b=${f##*/}
    if [ -f "$f" ] && [ ! -L "$f" ] && [ ! -e "$H/remote-state/mta-sts/$b" ]; then
      mv "$f" "$H/remote-state/mta-sts/$b"
    fi
  done
  rm -rf "$H/remote/mta-sts"
fi
rm -f "$H/remote/tcpto"
# tern-remote's TLS-RPT day files, read by tern-tlsrpt (also ternr)
d 0700 ternr:ternr "$H/tlsrpt"

# --- the queue: one file per message (common/qmsg.h, tern-queued(8)) ---
Q=$H/queue
d 0750 ternq:tern "$Q"
d 0750 ternq:tern "$Q/msg" "$Q/lock"
d 0700 terns:tern "$Q/state" "$Q/bounce"
# held messages (tern-queuectl hold): one empty file per id, tern-send's
d 0700 terns:tern "$Q/hold"
[ -e "$Q/lock/sendmutex" ] || : > "$Q/lock/sendmutex"
chown terns:tern "$Q/lock/sendmutex"; chmod 0600 "$Q/lock/sendmutex"
[ -p "$Q/lock/trigger" ] || mkfifo "$Q/lock/trigger"
chown terns:tern "$Q/lock/trigger"; chmod 0622 "$Q/lock/trigger"
# an older install's table in the queue: tern-remote keeps it in remote-state/ now
rm -f "$Q/lock/tcpto"

# --- programs ---
programs "$H/bin"

# --- TLS keys and passwords: each readable by its one reader only ---
# tls/: tern-tlsd's certificates (terntls); auth/: tern-authfile's password
# file (ternauth); auth-fail/: tern-smtpd's counters of failed AUTH (ternd)
d 0750 root:terntls "$H/tls"
d 0750 root:ternauth "$H/auth"
d 0700 ternd:ternnofiles "$H/auth-fail"
[ -e "$H/auth/passwd" ] || : > "$H/auth/passwd"
chown root:ternauth "$H/auth/passwd"; chmod 0640 "$H/auth/passwd"
# dkim/DOMAIN/: tern-dkimkey's keys (ternk, 0600) beside the public
# selector and DNS records, so that tern-dkimsign sees which domains sign;
# the directories are root's: the signer reads there and writes nothing
d 0755 root:root "$H/dkim"

# --- control files with working defaults (kept if present) ---
c() { [ -e "$H/control/$1" ] || printf '%s\n' "$2" > "$H/control/$1"; chmod 0644 "$H/control/$1"; }
# Debian's /etc/mailname (the host's mail name) first, as Debian's MTAs do
me=
[ -s /etc/mailname ] && me=$(head -n 1 /etc/mailname | tr -d ' \t\r')
[ -n "$me" ] || me=$(hostname -f 2>/dev/null || hostname)
case $me in *.*) ;; *) me=$me.localdomain ;; esac
c me "$me"
c locals "$me"
c rcpthosts "$me"
c defaultdelivery ./Maildir/
c smtplisten "::"
c smtpport 25
c smtprules ':allow'
c submissionrules ':allow'
c smtpsrules ':allow'
# who may inject through the queue socket, how many at once, how many bytes
# (tern-queued.8): tern-smtpd (ternd) as many as tern-listen runs sessions,
# every other local user 20 at once; no byte limit (tern-smtpd has its own)
c queueusers "$(printf 'ternd:300:0\n*:20:0')"
# the qmail-queue filters of each way in (tern-qnext.8): DKIM signing of
# everything that leaves from here (submission, smtps, local injection,
# bounces); tern-dkimsign passes on unchanged the mail of a domain without
# keys (tern-dkimkey DOMAIN makes them). Port 25 and forwards: none.
c filters "$(printf 'submission:tern-dkimsign\nsmtps:tern-dkimsign\nlocal:tern-dkimsign\nbounce:tern-dkimsign')"
# the password socket: only ternd (tern-smtpd) may ask
d 0755 root:root "$H/control/auth.rules" "$H/control/auth.rules/uid" "$H/control/auth.rules/uid/$(id -u ternd)"
: > "$H/control/auth.rules/uid/$(id -u ternd)/allow"
c authcheck "s6-sudo -e -t 10000 $H/sock/auth"
# a certificate for STARTTLS, SMTPS and submission, as Debian's Postfix
# offers STARTTLS out of the box: self-signed for me, made once, kept
if [ ! -e "$H/tls/default.crt" ] && command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$me" -addext "subjectAltName=DNS:$me" \
    -keyout "$H/tls/.default.key.new" -out "$H/tls/.default.crt.new" >/dev/null 2>&1 || die "openssl req (self-signed certificate)"
  chown root:terntls "$H/tls/.default.key.new" "$H/tls/.default.crt.new"
  chmod 0640 "$H/tls/.default.key.new"; chmod 0644 "$H/tls/.default.crt.new"
  mv -f "$H/tls/.default.key.new" "$H/tls/default.key"
  mv -f "$H/tls/.default.crt.new" "$H/tls/default.crt"
fi
# the session ticket key every tern-tlsd shares (tern-tlsd.8 SESSION
# RESUMPTION: 80 random bytes; rotated by putting 80 new ones in front)
if [ ! -e "$H/tls/ticketkey" ]; then
  head -c 80 /dev/urandom > "$H/tls/.ticketkey.new" || die "ticket key"
  chown root:terntls "$H/tls/.ticketkey.new"; chmod 0640 "$H/tls/.ticketkey.new"
  mv -f "$H/tls/.ticketkey.new" "$H/tls/ticketkey"
fi
[ -e "$H/users/assign" ] || printf '.\n' > "$H/users/assign"

# --- s6 service directories (templates in */service/NAME) ---
for t in "$src"/queue/service/* "$src"/send/service/* "$src"/smtpd/service/*; do
  [ -d "$t" ] || continue
  n=$(basename "$t")
  d 0755 root:root "$H/service/$n" "$H/service/$n/log"
  # s6-supervise would create event/ setgid (03730); made here first, plain
  # 0700, so that nothing in the tree carries a setuid or setgid bit
  for e in "$H/service/$n" "$H/service/$n/log"; do
    [ -d "$e/event" ] || mkdir -m 0700 "$e/event"
    [ -d "$e/supervise" ] || mkdir -m 0700 "$e/supervise"
  done
  # logs for root and group adm only (the log/run templates): an older
  # install's files lose their world bits and go to the group
  lg=ternl; getent group adm >/dev/null && lg=adm
  d 0750 ternl:$lg "$H/log/$n"
  find "$H/log/$n" -mindepth 1 -exec chgrp $lg {} + -exec chmod o-rwx {} +
  # FILE.dist is the template as last installed. A FILE that still equals
  # it (or is new) is replaced; one the administrator edited is kept, and
  # the new template is left beside it as FILE.new with a warning.
  for f in run log/run notification-fd log/notification-fd; do
    [ -f "$t/$f" ] || continue
    dst=$H/service/$n/$f
    sed "s|@HOME@|$H|g" "$t/$f" > "$dst.tmp"
    chmod 0755 "$dst.tmp"
    if [ -f "$dst" ] && ! cmp -s "$dst" "$dst.tmp" && ! { [ -f "$dst.dist" ] && cmp -s "$dst" "$dst.dist"; }; then
      mv -f "$dst.tmp" "$dst.new"
      echo "install: warning: $dst was edited; kept it, the new template is $dst.new" >&2
    else
      cp -f "$dst.tmp" "$dst.dist"
      mv -f "$dst.tmp" "$dst"
    fi
  done
done

# --- compiled tables ---
# the system aliases (postmaster, root, mailer-daemon; /etc/aliases if
# present) into HOME/alias, then users/cdb and users/recipients.cdb
if [ -x "$H/bin/tern-newaliases" ]; then "$H/bin/tern-newaliases" || die "tern-newaliases"
elif [ -x "$H/bin/tern-newu" ]; then "$H/bin/tern-newu" || die "tern-newu"; fi
if [ -x "$H/bin/tern-rules" ]; then
  for r in smtprules submissionrules smtpsrules; do
    "$H/bin/tern-rules" "$H/control/$r.cdb" "$H/control/$r.tmp" < "$H/control/$r" || die "tern-rules $r"
  done
fi
echo "install: tern installed in $H"
