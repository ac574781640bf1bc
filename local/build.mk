# local/: programs of this family (see the top Makefile)
CORE += local/tern-local local/tern-newu
local/tern-local: local/dotfile.o

UNIT_TESTS += tests/unit/local-dotfile-test
UNIT_EXTRA_local-dotfile := local/dotfile.o
tests/unit/local-dotfile-test: local/dotfile.o

FUZZERS += tests/fuzz/dotfile-fuzz
FUZZ_EXTRA_dotfile := local/dotfile.c
tests/fuzz/dotfile-fuzz: local/dotfile.c
