# tests/: unit tests (cmocka), fuzz harnesses (libFuzzer). Each family may
# add its own rows to UNIT_TESTS in its build.mk; the generic rule below links
# tests/unit/NAME-test from tests/unit/NAME-test.c, common.a and cmocka.
tests/unit/%-test: tests/unit/%-test.c common/common.a
	$(CC) -o $@ $< $(UNIT_EXTRA_$*) common/common.a -lcmocka

FUZZCC := clang -std=c99 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined
COMMON_SRCS = $(COMMON_OBJS:.o=.c)
tests/fuzz/%-fuzz: tests/fuzz/%-fuzz.c $(COMMON_SRCS)
	$(FUZZCC) -o $@ $< $(COMMON_SRCS) $(FUZZ_EXTRA_$*)
