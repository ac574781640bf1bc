# send/: programs of this family (see the top Makefile). Two sides live
# here, and no binary links both libraries (check-sides proves it):
#
#   CORE (skalibs only): tern-start, tern-send and its parts (sched.*, the
#     pure scheduler, and the modules listed below), the spawners tern-lspawn and tern-rspawn (with rreport.*, its
#     conversion of tern-remote's reports).
#   EDGE (libowfat only): tern-remote, the SMTP client, and its own modules,
#     all named remote-*: remote-reply.* (reply parser), remote-tcpto.*
#     (timeout table), remote-route.* (smtproutes, MX and address choice).

# ---- CORE: the scheduler side ----
CORE += send/tern-start send/tern-lspawn send/tern-send
# tern-send's parts: scheduler (sched.*, pure), message table and retry
# heaps (msgs.*), preprocessing (todo.*), passes and spawner I/O (jobs.*),
# bounces (bounce.*), configuration (sconf.*), log (slog.*), queue files
# and tern-clean (files.*)
send/tern-send: send/sched.o send/slog.o send/files.o send/sconf.o send/msgs.o send/todo.o send/jobs.o send/bounce.o send/journal.o
# the command socket (tern-queuectl)
send/tern-send: send/ctl.o
# the spawner loop and the request framer, shared by tern-lspawn and tern-rspawn
send/tern-lspawn: send/spawn.o send/spawnreq.o local/deliver.o local/dotfile.o
# the spawner request framer: unit test and fuzz harness
UNIT_TESTS += tests/unit/send-spawnreq-test
UNIT_EXTRA_send-spawnreq := send/spawnreq.o
tests/unit/send-spawnreq-test: send/spawnreq.o
FUZZERS += tests/fuzz/spawnreq-fuzz
FUZZ_EXTRA_spawnreq := send/spawnreq.c
tests/fuzz/spawnreq-fuzz: send/spawnreq.c
UNIT_TESTS += tests/unit/send-sched-test
UNIT_EXTRA_send-sched := send/sched.o
tests/unit/send-sched-test: send/sched.o
FUZZERS += tests/fuzz/bounce-fuzz
FUZZ_EXTRA_bounce := send/sched.c
tests/fuzz/bounce-fuzz: send/sched.c
FUZZERS += tests/fuzz/qfile-fuzz
FUZZ_EXTRA_qfile := send/sched.c
tests/fuzz/qfile-fuzz: send/sched.c

# ---- CORE: tern-rspawn, the spawner that runs tern-remote ----
CORE += send/tern-rspawn
send/tern-rspawn: send/rreport.o send/spawn.o send/spawnreq.o
UNIT_TESTS += tests/unit/remote-report-test
UNIT_EXTRA_remote-report := send/rreport.o
tests/unit/remote-report-test: send/rreport.o

# ---- EDGE: tern-remote and its remote-* modules ----
EDGE += send/tern-remote
OBJS_send/tern-remote += send/remote-route.o send/remote-reply.o send/remote-tcpto.o send/remote-conn.o
UNIT_TESTS += tests/unit/remote-reply-test tests/unit/remote-tcpto-test tests/unit/remote-route-test
UNIT_EXTRA_remote-reply := send/remote-reply.o
tests/unit/remote-reply-test: send/remote-reply.o
UNIT_EXTRA_remote-tcpto := send/remote-tcpto.o
tests/unit/remote-tcpto-test: send/remote-tcpto.o
UNIT_EXTRA_remote-route := send/remote-route.o $(OWFAT)
tests/unit/remote-route-test: send/remote-route.o
FUZZERS += tests/fuzz/remote-reply-fuzz
FUZZ_EXTRA_remote-reply := send/remote-reply.c
tests/fuzz/remote-reply-fuzz: send/remote-reply.c
FUZZERS += tests/fuzz/remote-tcpto-fuzz
FUZZ_EXTRA_remote-tcpto := send/remote-tcpto.c
tests/fuzz/remote-tcpto-fuzz: send/remote-tcpto.c

# ---- TLS: tern-tlsc, the client side of TLS (OpenSSL and libc only) ----
TLSPROGS += send/tern-tlsc
send/tern-tlsc: common/tlspolicy.o
# tern-remote's side of it: the TLS policy file and the tern-tlsc spawner
OBJS_send/tern-remote += send/remote-tlspol.o send/remote-tls.o
UNIT_TESTS += tests/unit/remote-tlspol-test
UNIT_EXTRA_remote-tlspol := send/remote-tlspol.o
tests/unit/remote-tlspol-test: send/remote-tlspol.o
FUZZERS += tests/fuzz/remote-tlspol-fuzz
FUZZ_EXTRA_remote-tlspol := send/remote-tlspol.c
tests/fuzz/remote-tlspol-fuzz: send/remote-tlspol.c
# relay credentials for AUTH (HOME/remote/auth)
OBJS_send/tern-remote += send/remote-auth.o send/remote-msg.o
UNIT_TESTS += tests/unit/remote-auth-test
UNIT_EXTRA_remote-auth := send/remote-auth.o
tests/unit/remote-auth-test: send/remote-auth.o
FUZZERS += tests/fuzz/remote-auth-fuzz
FUZZ_EXTRA_remote-auth := send/remote-auth.c
tests/fuzz/remote-auth-fuzz: send/remote-auth.c
# DANE: the validated DNS question (TLSA, and the MX RRset's AD bit)
OBJS_send/tern-remote += send/remote-dns.o send/remote-dane.o send/remote-rptlog.o
UNIT_TESTS += tests/unit/remote-dns-test
UNIT_EXTRA_remote-dns := send/remote-dns.o
tests/unit/remote-dns-test: send/remote-dns.o
FUZZERS += tests/fuzz/remote-dns-fuzz
FUZZ_EXTRA_remote-dns := send/remote-dns.c
tests/fuzz/remote-dns-fuzz: send/remote-dns.c
# the message scan (8-bit, longest line, size on the wire)
UNIT_TESTS += tests/unit/remote-msg-test
UNIT_EXTRA_remote-msg := send/remote-msg.o
tests/unit/remote-msg-test: send/remote-msg.o
# MTA-STS (RFC 8461): the pure parts (policy file, TXT record, MX match,
# cache entry), shared by tern-mtasts and tern-remote
UNIT_TESTS += tests/unit/send-mtasts-test
UNIT_EXTRA_send-mtasts := send/mtasts.o
tests/unit/send-mtasts-test: send/mtasts.o
FUZZERS += tests/fuzz/mtasts-fuzz
FUZZ_EXTRA_mtasts := send/mtasts.c
tests/fuzz/mtasts-fuzz: send/mtasts.c
# tern-mtasts, the MTA-STS fetcher: libcurl (and through it OpenSSL),
# libc's resolver; a TLS-side program, so tern-remote never maps them
TLSPROGS += send/tern-mtasts
send/tern-mtasts: send/mtasts.o
LDLIBS_send/tern-mtasts := -lcurl -lresolv
# tern-remote's side of MTA-STS: the cache, tern-mtasts run when it is stale
OBJS_send/tern-remote += send/remote-mtasts.o send/mtasts.o send/remote-text.o
# TLS-RPT (RFC 8460): tern-remote's day files (remote-rptlog.*), and
# tern-tlsrpt, the daily report (libc and zlib only; no skalibs symbol)
CORE += send/tern-tlsrpt
send/tern-tlsrpt: send/tlsrpt.o send/remote-rptlog.o send/remote-dns.o send/remote-dane.o
LDLIBS_send/tern-tlsrpt := -lz
UNIT_TESTS += tests/unit/send-tlsrpt-test
UNIT_EXTRA_send-tlsrpt := send/tlsrpt.o send/remote-rptlog.o
tests/unit/send-tlsrpt-test: send/tlsrpt.o send/remote-rptlog.o
FUZZERS += tests/fuzz/tlsrpt-fuzz
FUZZ_EXTRA_tlsrpt := send/tlsrpt.c send/remote-rptlog.c
tests/fuzz/tlsrpt-fuzz: send/tlsrpt.c send/remote-rptlog.c
