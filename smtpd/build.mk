# smtpd/: the SMTP front door (edge programs: libowfat only, never skalibs)
EDGE += smtpd/tern-smtpd
smtpd/tern-smtpd: smtpd/smtp.o smtpd/rcpt.o smtpd/phase.o smtpd/trace.o smtpd/client.o
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
