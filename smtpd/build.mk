# smtpd/: the SMTP front door (edge programs: libowfat only, never skalibs)
# a musl program (Makefile: MUSL) names its objects in OBJS_prog, not as prerequisites
EDGE += smtpd/tern-smtpd
OBJS_smtpd/tern-smtpd := smtpd/config.o smtpd/smtp.o smtpd/rcpt.o smtpd/phase.o smtpd/trace.o smtpd/client.o smtpd/io.o \
  smtpd/auth.o smtpd/authrun.o smtpd/authfail.o smtpd/authsender.o smtpd/dtscan.o send/sched.o
EDGE += smtpd/tern-listen smtpd/tern-rules

UNIT_TESTS += tests/unit/smtpd-smtp-test
UNIT_EXTRA_smtpd-smtp := smtpd/smtp.o
tests/unit/smtpd-smtp-test: smtpd/smtp.o

UNIT_TESTS += tests/unit/smtpd-rcpt-test
UNIT_EXTRA_smtpd-rcpt := smtpd/rcpt.o
tests/unit/smtpd-rcpt-test: smtpd/rcpt.o

UNIT_TESTS += tests/unit/smtpd-phase-test
UNIT_EXTRA_smtpd-phase := smtpd/phase.o
tests/unit/smtpd-phase-test: smtpd/phase.o

UNIT_TESTS += tests/unit/smtpd-trace-test
UNIT_EXTRA_smtpd-trace := smtpd/trace.o
tests/unit/smtpd-trace-test: smtpd/trace.o

UNIT_TESTS += tests/unit/smtpd-client-test
UNIT_EXTRA_smtpd-client := smtpd/client.o
tests/unit/smtpd-client-test: smtpd/client.o

FUZZERS += tests/fuzz/smtp-fuzz
FUZZ_EXTRA_smtp := smtpd/smtp.c
tests/fuzz/smtp-fuzz: smtpd/smtp.c smtpd/smtp.h

FUZZERS += tests/fuzz/smtp-rcpt-fuzz
FUZZ_EXTRA_smtp-rcpt := smtpd/rcpt.c smtpd/smtp.c
tests/fuzz/smtp-rcpt-fuzz: smtpd/rcpt.c smtpd/rcpt.h smtpd/smtp.c

# tern-tlsd: TLS for incoming sessions, OpenSSL 3 and libc only (neither
# libowfat nor skalibs); with tern-tlsc the only programs that link libssl.
TLSPROGS += smtpd/tern-tlsd
smtpd/tern-tlsd: common/tlspolicy.o
UNIT_TESTS += tests/unit/common-ucspitls-test
FUZZERS += tests/fuzz/ucspitls-fuzz
# SMTP AUTH: the client's side of it parsed in smtpd/auth.c (pure)
UNIT_TESTS += tests/unit/smtpd-auth-test
UNIT_EXTRA_smtpd-auth := smtpd/auth.o
tests/unit/smtpd-auth-test: smtpd/auth.o
FUZZERS += tests/fuzz/auth-fuzz
FUZZ_EXTRA_auth := smtpd/auth.c
tests/fuzz/auth-fuzz: smtpd/auth.c smtpd/auth.h

# password checkers (checkpassword interface, common/checkpw.h): libc only,
# on the core list, so they link nothing of libowfat; tern-authfile adds
# libcrypt (yescrypt hashes, crypt(5)).
CORE += smtpd/tern-authfile
LDLIBS_smtpd/tern-authfile := -lcrypt
CORE += smtpd/tern-authdovecot
smtpd/tern-authdovecot: smtpd/dovecot.o
UNIT_TESTS += tests/unit/smtpd-dovecot-test
UNIT_EXTRA_smtpd-dovecot := smtpd/dovecot.o
tests/unit/smtpd-dovecot-test: smtpd/dovecot.o
FUZZERS += tests/fuzz/dovecot-fuzz
FUZZ_EXTRA_dovecot := smtpd/dovecot.c
tests/fuzz/dovecot-fuzz: smtpd/dovecot.c smtpd/dovecot.h

# tern-smtpd's AUTH policies (senders, failure counters, the checker's run)
UNIT_TESTS += tests/unit/smtpd-authpol-test
UNIT_EXTRA_smtpd-authpol := smtpd/authsender.o smtpd/authfail.o smtpd/authrun.o
tests/unit/smtpd-authpol-test: smtpd/authsender.o smtpd/authfail.o smtpd/authrun.o

# the DATA-time loop check (Delivered-To), with tern-send's routing rules
UNIT_TESTS += tests/unit/smtpd-dtscan-test
UNIT_EXTRA_smtpd-dtscan := smtpd/dtscan.o send/sched.o
tests/unit/smtpd-dtscan-test: smtpd/dtscan.o send/sched.o
FUZZERS += tests/fuzz/dtscan-fuzz
FUZZ_EXTRA_dtscan := smtpd/dtscan.c send/sched.c
tests/fuzz/dtscan-fuzz: smtpd/dtscan.c smtpd/dtscan.h send/sched.c
