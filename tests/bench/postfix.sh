# tests/bench/postfix.sh: a private Postfix instance for the benchmark.
#
#   pf_ensure_installed          # apt-get install postfix if missing, never as the system MTA
#   pf_setup DIR PORT DOMAIN     # config, queue and data directories under DIR
#   pf_start / pf_stop           # postfix -c DIR/etc start|stop (bounded waits)
#   PF_MAILDIR                   # where the catch-all of DOMAIN delivers
#
# The instance keeps Postfix's default durability (cleanup fsyncs the queue
# file, virtual(8) fsyncs the Maildir file; no directory fsync) and its
# default flow control (in_flow_delay 1s). Only what a private loopback
# instance needs is changed: directories, listen address and port, no
# chroot (the queue directory is a temp dir without the chroot's copies of
# /etc), and a catch-all virtual Maildir domain like tern's test instance.

pf_ensure_installed() {
  if command -v smtp-source >/dev/null 2>&1 && command -v postfix >/dev/null 2>&1; then return 0; fi
  [ "$(id -u)" = 0 ] || { echo "bench: postfix missing and not root" >&2; return 1; }
  echo "bench: installing postfix from Debian's packages"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  _pol=/usr/sbin/policy-rc.d _madepol=
  if [ ! -e $_pol ]; then printf '#!/bin/sh\nexit 101\n' > $_pol; chmod 755 $_pol; _madepol=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix > /tmp/bench-apt.$$ 2>&1 \
    || { apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >> /tmp/bench-apt.$$ 2>&1; } \
    || { cat /tmp/bench-apt.$$ >&2; rm -f /tmp/bench-apt.$$; [ -n "$_madepol" ] && rm -f $_pol; return 1; }
  rm -f /tmp/bench-apt.$$
  [ -n "$_madepol" ] && rm -f $_pol
  # never the system MTA: if the package started the default instance, stop it
  if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then postfix stop >/dev/null 2>&1 || :; fi
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now postfix >/dev/null 2>&1 || :; fi
  command -v smtp-source >/dev/null 2>&1
}

pf_setup() { # DIR PORT DOMAIN
  PF=$1; PF_PORT=$2; _dom=$3
  PF_ETC=$PF/etc
  PF_MAILDIR=$PF/mail/$_dom/Maildir
  mkdir -p "$PF_ETC" "$PF/queue" "$PF/data" "$PF/mail"
  chown postfix "$PF/data"
  chown nobody:nogroup "$PF/mail"
  cat > "$PF_ETC/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.$_dom
mydomain = $_dom
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = $_dom
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = static:$_dom/Maildir/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
smtputf8_enable = no
EOC
  # the Debian master.cf, with the listener on our port and no chroot
  awk -v port="$PF_PORT" '
    /^smtp[ \t]+inet/ { print "127.0.0.1:" port " inet n - n - - smtpd"; next }
    /^[a-z]/ && NF >= 8 { $5 = "n" }
    { print }' /etc/postfix/master.cf > "$PF_ETC/master.cf"
}

pf_start() {
  postfix -c "$PF_ETC" check > "$PF/check.log" 2>&1 || { cat "$PF/check.log" >&2; return 1; }
  postfix -c "$PF_ETC" start > "$PF/start.log" 2>&1 || { cat "$PF/start.log" >&2; return 1; }
  wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1',$PF_PORT),1).close()"
}

# the master's pid (the instance's pid file)
pf_master_pid() { head -n 1 "$PF/queue/pid/master.pid" 2>/dev/null | tr -d ' '; }

pf_stop() {
  [ -n "${PF_ETC:-}" ] && [ -f "$PF_ETC/main.cf" ] || return 0
  _m=$(pf_master_pid)
  postfix -c "$PF_ETC" stop >/dev/null 2>&1 || :
  if [ -n "$_m" ]; then
    _n=100
    while [ $_n -gt 0 ] && kill -0 "$_m" 2>/dev/null; do sleep 0.1; _n=$((_n - 1)); done
    kill -0 "$_m" 2>/dev/null && postfix -c "$PF_ETC" abort >/dev/null 2>&1
  fi
  return 0
}

# pf_tls CRT KEY: STARTTLS offered (smtpd_tls_security_level = may) with a
# copy of this certificate and key, as a fresh Debian Postfix offers it
# with the snakeoil pair; reloads the running instance
pf_tls() {
  cp "$1" "$PF_ETC/tls.crt"; cp "$2" "$PF_ETC/tls.key"
  chmod 0644 "$PF_ETC/tls.crt"; chmod 0600 "$PF_ETC/tls.key"
  postconf -c "$PF_ETC" -e "smtpd_tls_security_level = may" "smtpd_tls_cert_file = $PF_ETC/tls.crt" \
    "smtpd_tls_key_file = $PF_ETC/tls.key" "smtpd_tls_loglevel = 0" || return 1
  postfix -c "$PF_ETC" reload > "$PF/reload.log" 2>&1 || { cat "$PF/reload.log" >&2; return 1; }
  sleep 1
}
