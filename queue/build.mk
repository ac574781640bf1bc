# queue/: tern-queue (the qmail-queue interface), tern-clean, tern-inject
# and sendmail (one module, two entry points). Core side: skalibs only.
CORE += queue/tern-queue
# tern-queued: the injection server on the queue socket; queue/qwrite.c is
# the queue writer (moved here from tern-queue, which is now its client)
CORE += queue/tern-queued
queue/tern-queued: queue/qwrite.o
CORE += queue/tern-clean
# tern-inject and sendmail: one module (queue/inject.c), two names; sendmail
# is also installed as mailq (-bp) and newaliases (exit 0), chosen by argv[0].
CORE += queue/tern-inject queue/sendmail
queue/tern-inject: queue/inject.o queue/hdr.o
queue/sendmail: queue/inject.o queue/hdr.o
UNIT_TESTS += tests/unit/queue-hdr-test
UNIT_EXTRA_queue-hdr := queue/hdr.o
tests/unit/queue-hdr-test: queue/hdr.o
FUZZERS += tests/fuzz/inject-fuzz
FUZZ_EXTRA_inject := queue/hdr.c
# read-only administration tools (owner: local family): qmail-qstat,
# qmail-qread, qmail-showctl for tern
CORE += queue/tern-qstat queue/tern-qread queue/tern-showctl
queue/tern-showctl: send/sched.o
queue/tern-qread: send/sched.o
# tern-reload: a shell script (check, then signal the services)
SCRIPTS += queue/tern-reload
queue/tern-reload: queue/tern-reload.sh
	cp queue/tern-reload.sh $@ && chmod 0755 $@
# tern-queuectl: the queue commands, a client of tern-send's command socket
CORE += queue/tern-queuectl
# tern-qnext: the next stage of a control/filters chain (libc and common/)
CORE += queue/tern-qnext
# tern-rspamc: the rspamd filter (queue/rspamc.c: its answer's reader, pure)
CORE += queue/tern-rspamc
queue/tern-rspamc: queue/rspamc.o
UNIT_TESTS += tests/unit/queue-rspamc-test
UNIT_EXTRA_queue-rspamc := queue/rspamc.o
tests/unit/queue-rspamc-test: queue/rspamc.o
FUZZERS += tests/fuzz/rspamc-fuzz
FUZZ_EXTRA_rspamc := queue/rspamc.c
# DKIM signing: the filter (tern-dkimsign, no key access), the signing
# service run as ternk (tern-dkimkeyd) and the key maker (tern-dkimkey).
# libcrypto and libc only, so they sit with the TLS programs.
TLSPROGS += queue/tern-dkimsign
TLSPROGS += queue/tern-dkimkeyd
TLSPROGS += queue/tern-dkimkey
# tern-dnsrecords: a shell script (prints the DNS records to publish)
SCRIPTS += queue/tern-dnsrecords
queue/tern-dnsrecords: queue/tern-dnsrecords.sh
	cp queue/tern-dnsrecords.sh $@ && chmod 0755 $@
