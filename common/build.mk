# common/: libc-only code shared by both sides (no libowfat, no skalibs).
COMMON_OBJS := common/home.o common/qfn.o common/date822.o common/safe.o common/qqcode.o \
  common/ctl.o common/addr.o common/envelope.o

common/home.o: common/home.c
	$(CC) -MMD -MP -DCONF_HOME='"$(HOME_DIR)"' -c -o $@ $<

common/common.a: $(COMMON_OBJS)
	rm -f $@
	ar rcs $@ $(COMMON_OBJS)

UNIT_TESTS += tests/unit/common-addr-test
UNIT_TESTS += tests/unit/common-ctl-test
UNIT_TESTS += tests/unit/common-envelope-test
UNIT_TESTS += tests/unit/common-misc-test

FUZZERS += tests/fuzz/addr-fuzz tests/fuzz/envelope-fuzz tests/fuzz/ctl-fuzz
