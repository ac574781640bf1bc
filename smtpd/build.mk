# smtpd/: the SMTP front door (edge programs: libowfat only, never skalibs)
EDGE += smtpd/tern-smtpd
smtpd/tern-smtpd: smtpd/smtp.o
EDGE += smtpd/tern-listen smtpd/tern-rules

UNIT_TESTS += tests/unit/smtpd-smtp-test
UNIT_EXTRA_smtpd-smtp := smtpd/smtp.o
tests/unit/smtpd-smtp-test: smtpd/smtp.o

FUZZERS += tests/fuzz/smtp-fuzz
FUZZ_EXTRA_smtp := smtpd/smtp.c
tests/fuzz/smtp-fuzz: smtpd/smtp.c smtpd/smtp.h
