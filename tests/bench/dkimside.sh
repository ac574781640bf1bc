# tests/bench/dkimside.sh: the filters side by side, sourced by run.sh
# (BENCH_DKIM=1, the default; BENCH_ONLY_DKIM=1 runs only this) once both
# instances are up. The same smtp-source load (BENCH_N_DKIM x 4 KiB from
# 10 clients, BENCH_ROUNDS rounds in alternation, bench.py) three times:
#   plain    no filter on either side;
#   dkim     tern: control/filters "smtp:tern-dkimsign" with tern-dkimkey's
#            keys for sender.test (smtp-source's From: domain), both
#            signatures; Postfix: Debian's opendkim as signing milter (Mode
#            s), one per algorithm (its SignatureAlgorithm is global), with
#            copies of the same two keys: both signatures;
#   rspamd   tern: "smtp:tern-rspamc" to an rspamd of its own (normal
#            worker); Postfix: an rspamd of its own as milter (the proxy
#            worker, milter = yes, handing to its normal worker). Both rspamds have the same
#            private configuration, their DNS a dnsmasq on loopback that
#            knows no names (no lookup leaves the machine), greylisting off.
# Each helper daemon (tern-dkimkeyd under s6; opendkim; each rspamd) runs
# in its instance's cgroup, so its CPU is counted with its instance.
# Writes the table (ms CPU per message and ratios) to $ROOT/dkim-section.md.

dkim_side() {
  _dn=${BENCH_N_DKIM:-500}
  _d=$ROOT/dkimbench
  mkdir -p "$_d"; chmod 0755 "$_d"
  _load() { # PHASE
    find "$MAILDIR/new" "$MAILDIR/cur" "$PF_MAILDIR/new" "$PF_MAILDIR/cur" -type f -delete 2>/dev/null
    python3 "$here/bench.py" \
      --inst "$INST_TERN" \
      --inst "$INST_PF" \
      --load "4096:$_dn:10" --rounds "$BENCH_ROUNDS" --fsync-n 0 --big-mib 0 \
      --tracedir "$_d" --out "$_d/$1.json" --md "$_d/$1.md" > "$_d/$1.log" 2>&1
    _r=$?; grep '^round' "$_d/$1.log"; return $_r
  }
  # _sample NAME RE: one more message to each; the header lines matching RE
  # of what each delivered, in $_d/NAME.SERVER (for the table)
  _sample() {
    for _s in tern postfix; do
      case $_s in tern) _md=$MAILDIR _p=$TERN_PORT ;; *) _md=$PF_MAILDIR _p=$PF_PORT ;; esac
      find "$_md/new" "$_md/cur" -type f -delete 2>/dev/null
      smtp-source -l 4096 -m 1 -s 1 -f bench@sender.test -t bench@demo.test "127.0.0.1:$_p" > /dev/null 2>&1
      wait_for 20 sh -c "find '$_md/new' -type f | grep -q ."
      _m=$(find "$_md/new" -type f 2>/dev/null | head -n 1)
      [ -n "$_m" ] && sed '/^$/q' "$_m" | grep "$2" | sed -e 's/^DKIM-Signature: v=1; a=\([a-z0-9-]*\).*/\1/' -e 's/^\([A-Za-z-]*\):.*/\1/' | sort | tr '\n' ' ' > "$_d/$1.$_s"
    done
  }
  # _pf_milters LIST: Postfix's smtpd_milters (none when empty), reloaded
  _pf_milters() {
    if [ -n "$1" ]; then
      postconf -c "$PF_ETC" -e "smtpd_milters = $1" "milter_default_action = tempfail" "milter_protocol = 6" || return 1
    else
      postconf -c "$PF_ETC" -X smtpd_milters milter_default_action milter_protocol
    fi
    postfix -c "$PF_ETC" reload > /dev/null 2>&1; sleep 1
  }
  _drc=0
  rm -f "$ROOT/control/filters"
  echo "bench dkim: plain"
  _load plain || _drc=1

  # ---- DKIM: tern-dkimsign on port 25; opendkim signing for Postfix ----
  "$ROOT/bin/tern-dkimkey" sender.test > "$_d/records" || { echo "bench: tern-dkimkey failed" >&2; return 1; }
  printf 'smtp:tern-dkimsign\n' > "$ROOT/control/filters"
  _od=$_d/opendkim; mkdir -p "$_od"
  cp "$ROOT/dkim/sender.test/tern-rsa.key" "$_od/rsa.key"
  cp "$ROOT/dkim/sender.test/tern-ed25519.key" "$_od/ed25519.key"
  printf 'rsa sender.test:tern-rsa:%s/rsa.key\ned sender.test:tern-ed25519:%s/ed25519.key\n' "$_od" "$_od" > "$_od/keys"
  chown -R opendkim "$_od"; chmod 0600 "$_od/rsa.key" "$_od/ed25519.key"
  # one opendkim per algorithm: its SignatureAlgorithm is one for all keys
  _odpids= _milters=
  for _a in rsa ed25519; do
    case $_a in rsa) _key=rsa _p=$((PF_PORT + 11)) ;; *) _key=ed _p=$((PF_PORT + 12)) ;; esac
    printf '*@sender.test %s\n' "$_key" > "$_od/signing.$_a"
    cat > "$_od/$_a.conf" <<EOC
Mode s
Socket inet:$_p@127.0.0.1
Background no
Syslog no
PidFile $_od/pid.$_a
UserID opendkim
KeyTable file:$_od/keys
SigningTable refile:$_od/signing.$_a
SignatureAlgorithm $_a-sha256
Canonicalization relaxed/relaxed
InternalHosts 127.0.0.1
RequireSafeKeys false
EOC
    cg_enter "$CG_PF"
    /usr/sbin/opendkim -f -x "$_od/$_a.conf" > "$_od/out.$_a" 2>&1 &
    _odpids="$_odpids $!"
    cg_leave "$CG_PF"
    wait_for 10 tcp_up "$_p" || { echo "bench: opendkim ($_a) did not start: $(cat "$_od/out.$_a")" >&2; return 1; }
    _milters="$_milters${_milters:+, }inet:127.0.0.1:$_p"
  done
  _pf_milters "$_milters" || return 1
  echo "bench dkim: signing (rsa-sha256 + ed25519-sha256)"
  _load dkim || _drc=1
  _sample sigs '^DKIM-Signature:'
  kill $_odpids 2>/dev/null; wait $_odpids 2>/dev/null
  _pf_milters ""
  rm -f "$ROOT/control/filters"

  # ---- rspamd: one per instance, in its cgroup ----
  if command -v rspamd > /dev/null && command -v dnsmasq > /dev/null; then
    _dns=$((PF_PORT + 13)) _rt=$((PF_PORT + 14)) _rp=$((PF_PORT + 15)) _rn=$((PF_PORT + 16))
    dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
      --port=$_dns --pid-file= --user=root --group=root --log-facility=/dev/null > /dev/null 2>&1 &
    _dnspid=$!
    _rspamd_conf() { # DIR: the shared private configuration
      mkdir -p "$1/local/local.d" "$1/local/override.d" "$1/db" "$1/run" "$1/log"
      printf 'dns { nameserver = ["127.0.0.1:%s"]; timeout = 1s; retransmits = 1; }\n' "$_dns" > "$1/local/local.d/options.inc"
      printf 'enabled = false;\n' > "$1/local/override.d/worker-controller.inc"
      printf 'enabled = false;\n' > "$1/local/local.d/dkim_signing.conf"
      printf 'enabled = false;\n' > "$1/local/local.d/arc.conf"
      printf 'use = ["authentication-results", "x-spam-status"];\nskip_local = false;\n' > "$1/local/local.d/milter_headers.conf"
      printf 'greylist = null;\nreject = 500;\n' > "$1/local/local.d/actions.conf"
    }
    _rs_t=$_d/rspamd-tern _rs_p=$_d/rspamd-postfix
    _rspamd_conf "$_rs_t"; _rspamd_conf "$_rs_p"
    printf 'bind_socket = "127.0.0.1:%s";\ncount = 1;\n' "$_rt" > "$_rs_t/local/override.d/worker-normal.inc"
    printf 'enabled = false;\n' > "$_rs_t/local/override.d/worker-proxy.inc"
    printf 'bind_socket = "127.0.0.1:%s";\ncount = 1;\n' "$_rn" > "$_rs_p/local/override.d/worker-normal.inc"
    printf 'bind_socket = "127.0.0.1:%s";\nmilter = yes;\ntimeout = 120s;\ncount = 1;\nupstream "local" { default = yes; hosts = "127.0.0.1:%s"; }\n' "$_rp" "$_rn" \
      > "$_rs_p/local/override.d/worker-proxy.inc"
    chown -R _rspamd: "$_rs_t" "$_rs_p"
    _rspamd() { # DIR CGROUP
      cg_enter "$2"
      rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf --var CONFDIR=/etc/rspamd \
        --var LOCAL_CONFDIR="$1/local" --var DBDIR="$1/db" --var RUNDIR="$1/run" --var LOGDIR="$1/log" \
        > "$1/log/stdout" 2>&1 &
      cg_leave "$2"
    }
    _rspamd "$_rs_t" "$CG_TERN"; _rtpid=$!
    _rspamd "$_rs_p" "$CG_PF"; _rppid=$!
    if wait_for 120 tcp_up "$_rt" && wait_for 60 tcp_up "$_rp" && wait_for 60 tcp_up "$_rn"; then
      printf '127.0.0.1:%s\n' "$_rt" > "$ROOT/control/rspamd"
      printf 'smtp:tern-rspamc\n' > "$ROOT/control/filters"
      _pf_milters "inet:127.0.0.1:$_rp" || return 1
      echo "bench dkim: rspamd"
      _load rspamd || _drc=1
      _sample rsh '^X-Spam-Status:\|^Authentication-Results:'
      _pf_milters ""
      rm -f "$ROOT/control/filters"
    else
      echo "bench: rspamd did not come up: $(tail -n 3 "$_rs_t/log/stdout" "$_rs_p/log/stdout")" >&2; _drc=1
    fi
    kill "$_rtpid" "$_rppid" "$_dnspid" 2>/dev/null; wait "$_rtpid" "$_rppid" "$_dnspid" 2>/dev/null
  fi
  python3 - "$_d" "$_dn" "$BENCH_ROUNDS" > "$ROOT/dkim-section.md" <<'EOP'
import json, os, sys
d, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def cpu(phase):
    try:
        t = json.load(open(os.path.join(d, phase + ".json")))["table"][0]
        return t["tern"]["cpu_1000"], t["postfix"]["cpu_1000"]
    except (OSError, KeyError, IndexError, ValueError):
        return None, None
def rd(name):
    try:
        return open(os.path.join(d, name)).read().strip() or "none"
    except OSError:
        return "?"
f = lambda x: "-" if x is None else "%.2f" % x
r = lambda a, b: "-" if a is None or not b else "%.2f" % (a / b)
base = cpu("plain")
print("**%d messages of 4 KiB from 10 clients, per filter** (smtp-source on port 25, median of %d rounds;"
      " CPU ms per message of the whole instance and its filter daemons, cgroups)" % (n, rounds))
print()
print("| filters | tern | postfix | tern/postfix | tern: added by the filter | postfix: added by the milter |")
print("|---|---:|---:|---:|---:|---:|")
for phase, label in (("plain", "none"),
                     ("dkim", "DKIM signing, rsa-sha256 + ed25519-sha256 (tern-dkimsign; opendkim milter)"),
                     ("rspamd", "rspamd checks (tern-rspamc; rspamd's milter)")):
    t, p = cpu(phase)
    if t is None:
        continue
    at = None if base[0] is None or phase == "plain" else t - base[0]
    ap = None if base[1] is None or phase == "plain" else p - base[1]
    print("| %s | %s | %s | %s | %s | %s |" % (label, f(t), f(p), r(t, p), f(at) if at is not None else "",
                                               f(ap) if ap is not None else ""))
print()
print("Signatures on a delivered message: tern %s; postfix %s." % (rd("sigs.tern"), rd("sigs.postfix")))
if os.path.exists(os.path.join(d, "rsh.tern")):
    print("rspamd's header fields on a delivered message: tern %s; postfix %s."
          % (rd("rsh.tern"), rd("rsh.postfix")))
EOP
  cat "$ROOT/dkim-section.md"
  return $_drc
}
