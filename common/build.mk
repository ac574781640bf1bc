# common/: libc-only code shared by both sides (no libowfat, no skalibs).
COMMON_OBJS := common/home.o common/qfn.o common/date822.o common/safe.o common/qqcode.o \
  common/ctl.o common/addr.o common/envelope.o common/qclient.o

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

FUZZERS += tests/fuzz/addr-fuzz tests/fuzz/envelope-fuzz tests/fuzz/ctl-fuzz tests/fuzz/qclient-fuzz
