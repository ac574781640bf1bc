# common/: libc-only code shared by both sides (no libowfat, no skalibs).
# one object a line, so that branches adding files merge cleanly
COMMON_OBJS := common/home.o
COMMON_OBJS += common/qfn.o
COMMON_OBJS += common/date822.o
COMMON_OBJS += common/safe.o
COMMON_OBJS += common/qqcode.o
COMMON_OBJS += common/ctl.o
COMMON_OBJS += common/addr.o
COMMON_OBJS += common/envelope.o
COMMON_OBJS += common/qclient.o
COMMON_OBJS += common/qproto.o
COMMON_OBJS += common/qid.o
COMMON_OBJS += common/ucspitls.o
COMMON_OBJS += common/base64.o
COMMON_OBJS += common/checkpw.o
COMMON_OBJS += common/priv.o
COMMON_OBJS += common/say.o
COMMON_OBJS += common/qctl.o
COMMON_OBJS += common/filters.o
# DKIM relaxed canonicalisation (tern-dkimsign)
COMMON_OBJS += common/dkimcanon.o
COMMON_OBJS += common/qmsg.o

common/home.o: common/home.c
	$(CC) -MMD -MP -DCONF_HOME='"$(HOME_DIR)"' -c -o $@ $<

# SANITIZE=1: common/sanitize.o (the sanitizers' compiled-in defaults) goes
# into common.a, and -u makes every link pull it in (an archive member is
# otherwise only linked when something references it). The fuzzers keep
# libFuzzer's own defaults: they compile COMMON_OBJS' sources, not this list.
COMMON_AR_OBJS := $(COMMON_OBJS)
ifeq ($(SANITIZE),1)
COMMON_AR_OBJS += common/sanitize.o
SANITIZE_LINK := -Wl,-u,__asan_default_options -Wl,-u,__ubsan_default_options
CC += $(SANITIZE_LINK)
LD += $(SANITIZE_LINK)
endif

common/common.a: $(COMMON_AR_OBJS)
	rm -f $@
	ar rcs $@ $(COMMON_AR_OBJS)

UNIT_TESTS += tests/unit/common-addr-test
UNIT_TESTS += tests/unit/common-ctl-test
UNIT_TESTS += tests/unit/common-envelope-test
UNIT_TESTS += tests/unit/common-misc-test
UNIT_TESTS += tests/unit/common-qclient-test
UNIT_TESTS += tests/unit/common-priv-test

FUZZERS += tests/fuzz/addr-fuzz tests/fuzz/envelope-fuzz tests/fuzz/ctl-fuzz tests/fuzz/qclient-fuzz
# the queue socket's reader (tern-queued): frames and the envelope in them
FUZZERS += tests/fuzz/qproto-fuzz
UNIT_TESTS += tests/unit/common-qproto-test
UNIT_TESTS += tests/unit/common-qid-test
UNIT_TESTS += tests/unit/common-qctl-test
FUZZERS += tests/fuzz/qctl-fuzz
UNIT_TESTS += tests/unit/common-filters-test
FUZZERS += tests/fuzz/filters-fuzz
UNIT_TESTS += tests/unit/common-dkimcanon-test
FUZZERS += tests/fuzz/dkimcanon-fuzz
UNIT_TESTS += tests/unit/common-qmsg-test
