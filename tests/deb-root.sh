#!/bin/sh
# tests/deb-root.sh ROOT DEB: the Debian package in a fresh Debian root
# (made by debootstrap; tests/integration/90-deb.t makes one and runs this
# in make check: it needs the Debian mirror and takes a few minutes). TAP.
# Inside ROOT: Postfix and bsd-mailx are installed, then `apt-get install
# ./DEB` replaces Postfix and keeps bsd-mailx; postinst takes me from
# /etc/mailname; the services are started the way tern.service does
# (its ExecStart), mail from sendmail and mailx is delivered to a user's
# Maildir; what tern-remote writes (tcpto, the MTA-STS cache) is under
# /var/lib/tern and /etc/tern-remote holds only the relay credentials;
# ExecReload makes tern-send reread locals; a reinstall keeps an edited
# control file and moves an older layout's state out of /etc; ExecStop stops everything; `apt-get purge tern`
# leaves no file, directory, user or group of tern's behind.
set -u
[ $# -eq 2 ] || { echo "usage: tests/deb-root.sh ROOT DEB" >&2; exit 100; }
R=$1; DEB=$2
[ -x "$R/usr/bin/apt-get" ] || { echo "deb-root: $R is not a Debian root" >&2; exit 100; }
N=0; FAIL=0
ok() { N=$((N + 1)); if [ "$1" -eq 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAIL=$((FAIL + 1)); fi; }
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive HOME=/root /bin/sh -c "$1"; }
# root_procs: commands of the processes whose root is R (a chroot shares
# the host's /proc, so pgrep inside it would see the host's processes too)
root_procs() {
  rr=$(cd "$R" && pwd -P)
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$rr" ] && tr '\0' ' ' < "$p/cmdline" && echo
  done
}
echo "1..18"
cp "$DEB" "$R/root/tern.deb"
echo mail.root.test > "$R/etc/mailname"
# a root used before: start from no tern and an empty Maildir
in_root 'dpkg -s tern >/dev/null 2>&1 && apt-get purge -y -qq tern; rm -rf /home/bob/Maildir' > /dev/null 2>&1
in_root 'echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq postfix bsd-mailx' > "$R/root/postfix.log" 2>&1
ok $? "Postfix and bsd-mailx installed first"
in_root 'apt-get install -y ./root/tern.deb' > "$R/root/tern-install.log" 2>&1
ok $? "apt-get install ./tern.deb"
in_root 'for p in postfix bsd-mailx tern; do dpkg-query -W -f "\${db:Status-Abbrev}\n" $p; done' > "$R/root/status" 2>&1
[ "$(tr -d ' ' < "$R/root/status" | tr '\n' ,)" = "rc,ii,ii," ]
ok $? "Postfix was removed, bsd-mailx kept, tern installed ($(tr '\n' ' ' < "$R/root/status"))"
[ "$(cat "$R/etc/tern/me")" = mail.root.test ]
ok $? "control/me comes from /etc/mailname"
in_root 'id ternd && id ternq && id terns && id ternr && id ternl && id ternalias' > /dev/null 2>&1
ok $? "the tern users exist"
# HOME/remote is /etc/tern-remote (configuration: auth), HOME/remote-state
# /var/lib/tern/remote-state (what tern-remote and tern-mtasts write)
in_root 'readlink /usr/lib/tern/remote /usr/lib/tern/remote-state
  stat -c "%U:%G %a %n" /var/lib/tern/remote-state /var/lib/tern/remote-state/tcpto /var/lib/tern/remote-state/mta-sts
  stat -c %s /var/lib/tern/remote-state/tcpto' > "$R/root/rstate" 2>&1
[ "$(cat "$R/root/rstate")" = "/etc/tern-remote
/var/lib/tern/remote-state
ternr:ternr 700 /var/lib/tern/remote-state
ternr:ternr 600 /var/lib/tern/remote-state/tcpto
ternr:ternr 700 /var/lib/tern/remote-state/mta-sts
1024" ]
ok $? "tcpto and the MTA-STS cache are ternr's, under /var/lib/tern/remote-state ($(tr '\n' ';' < "$R/root/rstate"))"

in_root 'useradd -m bob 2>/dev/null; s6-setuidgid bob mkdir -p /home/bob/Maildir/new /home/bob/Maildir/cur /home/bob/Maildir/tmp; /usr/lib/tern/bin/tern-newu'
start=$(sed -n 's/^ExecStart=//p' "$R/lib/systemd/system/tern.service")
in_root "$start > /root/svscan.log 2>&1 &"
n=100; while [ $n -gt 0 ] && [ ! -S "$R/run/tern/queue" ]; do sleep 0.1; n=$((n - 1)); done
[ -S "$R/run/tern/queue" ]
ok $? "ExecStart brings up the queue socket in /run/tern"
n=50; while [ $n -gt 0 ] && ! root_procs | grep -q tern-send; do sleep 0.1; n=$((n - 1)); done
root_procs | grep -q tern-send
ok $? "tern-send runs in the root"
in_root 'printf "Subject: one\n\nbody\n" | /usr/sbin/sendmail bob && echo body | mailx -s two bob'
ok $? "sendmail and mailx inject"
n=100; while [ $n -gt 0 ] && [ "$(ls "$R/home/bob/Maildir/new" | wc -l)" -lt 2 ]; do sleep 0.1; n=$((n - 1)); done
[ "$(ls "$R/home/bob/Maildir/new" | wc -l)" -eq 2 ]
ok $? "both messages delivered to bob's Maildir"

echo extra.test >> "$R/etc/tern/locals"
in_root "$(sed -n 's/^ExecReload=//p' "$R/lib/systemd/system/tern.service")"
n=50; while [ $n -gt 0 ] && ! grep -q 'reread control/locals' "$R/var/log/tern/send/current"; do sleep 0.1; n=$((n - 1)); done
grep -q 'reread control/locals' "$R/var/log/tern/send/current"
ok $? "ExecReload: tern-send rereads control/locals"
in_root 'stat -c "%U:%G %a" /etc/tern-remote /etc/tern-remote/auth; ls -A /etc/tern-remote' > "$R/root/etcremote" 2>&1
[ "$(cat "$R/root/etcremote")" = "ternr:ternr 700
ternr:ternr 600
auth" ]
ok $? "/etc/tern-remote holds only auth (ternr, 0600), no file the daemons write ($(tr '\n' ';' < "$R/root/etcremote"))"

echo edited.test > "$R/etc/tern/rcpthosts"
# the layout of an older package: tcpto and the MTA-STS cache in /etc/tern-remote
in_root 'head -c 1024 /dev/zero > /etc/tern-remote/tcpto; mkdir -m 0700 /etc/tern-remote/mta-sts
  printf "tern-mta-sts 1 - 1 1 1\nno _mta-sts TXT record\n" > /etc/tern-remote/mta-sts/old.test
  chown -R ternr:ternr /etc/tern-remote/tcpto /etc/tern-remote/mta-sts; chmod 0600 /etc/tern-remote/mta-sts/old.test'
in_root 'apt-get install -y --reinstall ./root/tern.deb' > "$R/root/tern-reinstall.log" 2>&1
[ "$(cat "$R/etc/tern/rcpthosts")" = edited.test ]
ok $? "a reinstall keeps the edited control/rcpthosts"
in_root 'ls -A /etc/tern-remote; stat -c "%U:%G %a" /var/lib/tern/remote-state/mta-sts/old.test' > "$R/root/moved" 2>&1
[ "$(cat "$R/root/moved")" = "auth
ternr:ternr 600" ] && grep -q '^no _mta-sts TXT record$' "$R/var/lib/tern/remote-state/mta-sts/old.test"
ok $? "the reinstall moves an older layout's MTA-STS entry to /var/lib/tern and drops its tcpto ($(tr '\n' ';' < "$R/root/moved"))"

in_root "$(sed -n 's/^ExecStop=//p' "$R/lib/systemd/system/tern.service")"
n=100; while [ $n -gt 0 ] && root_procs | grep -q 's6-svscan'; do sleep 0.1; n=$((n - 1)); done
left=$(root_procs | grep -E 's6-|tern' | tr '\n' ';')
[ -z "$left" ]
ok $? "ExecStop: s6-svscan and every tern program have exited${left:+ (left: $left)}"

in_root 'apt-get purge -y tern' > "$R/root/tern-purge.log" 2>&1
ok $? "apt-get purge tern"
left=
for p in etc/tern var/spool/tern var/lib/tern var/log/tern run/tern usr/lib/tern usr/share/tern usr/sbin/sendmail \
         lib/systemd/system/tern.service usr/lib/tmpfiles.d/tern.conf; do
  [ -e "$R/$p" ] || [ -L "$R/$p" ] && left="$left /$p"
done
[ -z "$left" ]
ok $? "no tern file left after purge${left:+:$left}"
in_root 'getent passwd ternd ternq terns ternr ternl ternalias; getent group tern ternnofiles ternl' > "$R/root/ids" 2>&1
[ ! -s "$R/root/ids" ]
ok $? "no tern user or group left after purge"
[ $FAIL -eq 0 ]
