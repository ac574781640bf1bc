# local/: programs of this family (see the top Makefile)
CORE += local/tern-local local/tern-newu
local/tern-local: local/deliver.o local/dotfile.o

UNIT_TESTS += tests/unit/local-dotfile-test
UNIT_EXTRA_local-dotfile := local/dotfile.o
tests/unit/local-dotfile-test: local/dotfile.o

FUZZERS += tests/fuzz/dotfile-fuzz
FUZZ_EXTRA_dotfile := local/dotfile.c
tests/fuzz/dotfile-fuzz: local/dotfile.c

# tern-newaliases: /etc/aliases -> HOME/alias/.tern-NAME files (local/aliases.c parses)
CORE += local/tern-newaliases
local/tern-newaliases: local/aliases.o
UNIT_TESTS += tests/unit/local-aliases-test
UNIT_EXTRA_local-aliases := local/aliases.o
tests/unit/local-aliases-test: local/aliases.o
FUZZERS += tests/fuzz/aliases-fuzz
FUZZ_EXTRA_aliases := local/aliases.c
tests/fuzz/aliases-fuzz: local/aliases.c
