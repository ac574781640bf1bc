# send/: programs of this family (see the top Makefile)
# scheduler side (tern-start, tern-send, tern-lspawn): core, skalibs only
CORE += send/tern-start send/tern-lspawn send/tern-send
send/tern-send: send/sched.o send/slog.o send/files.o send/sconf.o send/msgs.o send/todo.o send/jobs.o send/bounce.o
UNIT_TESTS += tests/unit/send-sched-test
UNIT_EXTRA_send-sched := send/sched.o
tests/unit/send-sched-test: send/sched.o
FUZZERS += tests/fuzz/bounce-fuzz
FUZZ_EXTRA_bounce := send/sched.c
tests/fuzz/bounce-fuzz: send/sched.c
FUZZERS += tests/fuzz/qfile-fuzz
FUZZ_EXTRA_qfile := send/sched.c
tests/fuzz/qfile-fuzz: send/sched.c
# remote delivery (issue 4): tern-remote is edge (libowfat only), tern-rspawn core (skalibs only)
EDGE += send/tern-remote
send/tern-remote: send/reply.o send/tcpto.o
CORE += send/tern-rspawn
send/tern-rspawn: send/rreport.o
UNIT_TESTS += tests/unit/remote-reply-test tests/unit/remote-report-test tests/unit/remote-tcpto-test
UNIT_EXTRA_remote-tcpto := send/tcpto.o
tests/unit/remote-tcpto-test: send/tcpto.o
UNIT_EXTRA_remote-reply := send/reply.o
tests/unit/remote-reply-test: send/reply.o
UNIT_EXTRA_remote-report := send/rreport.o
tests/unit/remote-report-test: send/rreport.o
FUZZERS += tests/fuzz/reply-fuzz
FUZZ_EXTRA_reply := send/reply.c
tests/fuzz/reply-fuzz: send/reply.c
FUZZERS += tests/fuzz/tcpto-fuzz
FUZZ_EXTRA_tcpto := send/tcpto.c
tests/fuzz/tcpto-fuzz: send/tcpto.c
