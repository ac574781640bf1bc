# tern: build every program in place, test, install, demo.
#
#   make            build every program (warnings are errors)
#   make check      build, prove no binary links both libraries, run every test
#   make install    install into $(shell head -n 1 conf-home) (needs root),
#                   the man pages into MANDIR/man8 and the systemd unit
#                   tern.service into UNITDIR
#   make deb        the Debian package, in DEB_BUILD (queue/debian/README)
#   make demo       a complete private instance in ./demo-root, in the foreground
#   make fuzz       run every libFuzzer harness for FUZZ_SECONDS each
#   make fault      the long crash-safety tests (tests/fault/)
#   make bench      the benchmark against Postfix (tests/bench)
#
# Each program family keeps its own fragment (common/build.mk, queue/build.mk,
# ...): it appends its programs to EDGE (libowfat) or CORE (skalibs) and names
# the extra objects each program links.

CC      := $(shell head -n 1 conf-cc)
LD      := $(shell head -n 1 conf-ld)
HOME_DIR := $(shell head -n 1 conf-home)
OWFAT   := -Wl,-Bstatic -lowfat -Wl,-Bdynamic
SKARNET := -Wl,-Bstatic -lskarnet -Wl,-Bdynamic

# The programs that run once per message or connection are linked fully
# static: an exec of a static binary costs about half of a dynamic one here
# (no ld.so, no relocations), and they need no NSS (no getpwnam). The rest
# keep libc dynamic (LIBS.md section 2). Sanitizers need dynamic linking.
STATIC := smtpd/tern-smtpd queue/tern-queue local/tern-local send/tern-remote

# Of those, the edge programs exec'd for every SMTP session (tern-smtpd)
# and every relayed message (tern-remote) are built against musl libc
# (Debian's musl-tools), statically, with Debian's libowfat.a: glibc's
# start-up probes the CPU's caches with cpuid, which a virtual machine
# traps (9 us each here), and an empty static glibc program costs 0.72 ms
# of CPU against 0.03 ms with musl (BENCHMARKS.md, "Process start").
# Their objects are NAME.mu.o, common/ is common/common.mu.a; glibc's
# /usr/include comes after musl's headers, for libowfat's only (-Wno-cpp:
# its iopause.h includes <sys/poll.h>, on which musl says #warning).
MUSL := smtpd/tern-smtpd send/tern-remote
MUSL_CC := musl-gcc $(wordlist 2,$(words $(CC)),$(CC)) -idirafter /usr/include -Wno-cpp
# (recursive: asked when linking, after make deps has installed libowfat-dev)
OWFAT_A = $(shell gcc -print-file-name=libowfat.a)

ifeq ($(SANITIZE),1)
STATIC :=
MUSL :=
CC += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LD += -fsanitize=address,undefined
endif

EDGE :=
CORE :=
TLSPROGS :=
SCRIPTS :=
UNIT_TESTS :=
FUZZERS :=

all: programs

include common/build.mk
include queue/build.mk
include send/build.mk
include local/build.mk
include smtpd/build.mk
include tests/build.mk

programs: $(EDGE) $(CORE) $(TLSPROGS) $(SCRIPTS)

%.o: %.c
	$(CC) -MMD -MP -c -o $@ $<

%.mu.o: %.c
	$(MUSL_CC) -MMD -MP -c -o $@ $<

common/common.mu.a: $(COMMON_OBJS:.o=.mu.o)
	rm -f $@
	ar rcs $@ $^

# Edge programs link libowfat only, core programs skalibs only; the link map
# lets check-sides prove it.
$(filter-out $(MUSL),$(EDGE)): %: %.o common/common.a
	$(LD) -o $@ $(filter %.o,$^) common/common.a $(if $(filter $@,$(STATIC)),-static -lowfat,$(OWFAT)) -Wl,-Map,$@.map

# the musl programs: the objects their build.mk names in OBJS_prog, as
# .mu.o (with SANITIZE=1 they link as the other edge programs, with OBJS_prog)
.SECONDEXPANSION:
$(EDGE): $$(OBJS_$$@)
$(MUSL): %: $$(OBJS_$$@:.o=.mu.o) %.mu.o common/common.mu.a
	musl-gcc -static -o $@ $(filter %.mu.o,$^) common/common.mu.a $(OWFAT_A) -Wl,-Map,$@.map

$(CORE): %: %.o common/common.a
	$(LD) -o $@ $(filter %.o,$^) common/common.a $(if $(filter $@,$(STATIC)),-static -lskarnet,$(SKARNET)) $(LDLIBS_$@) -Wl,-Map,$@.map

# The TLS programs link OpenSSL and libc only (common/tlspolicy.o is the one
# file of common/ that uses a library, and is not in common.a), and what
# LDLIBS_prog adds (libcurl for tern-mtasts).
$(TLSPROGS): %: %.o common/common.a
	$(LD) -o $@ $(filter %.o,$^) common/common.a $(LDLIBS_$@) -lssl -lcrypto -Wl,-Map,$@.map

check-sides: $(EDGE) $(CORE) $(TLSPROGS)
	@for m in $(addsuffix .map,$(EDGE) $(CORE)); do \
	  if grep -q 'libowfat\.a(' $$m && grep -q 'libskarnet\.a(' $$m; then \
	    echo "check-sides: $$m links both libowfat and skalibs" >&2; exit 1; fi; done
	@for m in $(addsuffix .map,$(EDGE)); do \
	  if grep -q 'libskarnet\.a(' $$m; then echo "check-sides: edge $$m links skalibs" >&2; exit 1; fi; done
	@for m in $(addsuffix .map,$(CORE)); do \
	  if grep -q 'libowfat\.a(' $$m; then echo "check-sides: core $$m links libowfat" >&2; exit 1; fi; done
	@for m in $(addsuffix .map,$(TLSPROGS)); do \
	  if grep -qE 'lib(owfat|skarnet)\.a\(' $$m; then echo "check-sides: TLS program $$m links libowfat or skalibs" >&2; exit 1; fi; done
	@for m in $(addsuffix .map,$(EDGE) $(CORE)); do \
	  if grep -qE 'libssl|libcrypto|libcurl' $$m; then echo "check-sides: $$m links OpenSSL or libcurl (only the TLS programs may)" >&2; exit 1; fi; done
	@if grep -lE '#include *<openssl/' common/*.[ch] | grep -v '^common/tlspolicy\.[ch]$$'; then \
	  echo "check-sides: only common/tlspolicy.[ch] may include OpenSSL in common/" >&2; exit 1; fi
	@if grep -nE '#include *[<"](skalibs/|buffer\.h|stralloc\.h|dns\.h|io\.h|cdb\.h|socket\.h|str\.h|fmt\.h|scan\.h)' common/*.[ch]; then \
	  echo "check-sides: common/ includes a library header" >&2; exit 1; fi
	@echo "check-sides: ok ($(words $(EDGE)) edge, $(words $(CORE)) core, $(words $(TLSPROGS)) TLS programs; none links both libraries, only the TLS programs link OpenSSL)"

deps:
	@sh tests/deps.sh build

check: deps-test programs check-sides unit-tests fuzz-short integration-tests

fuzz-short: $(FUZZERS)
	sh tests/fuzz/run.sh $(or $(FUZZ_SHORT_SECONDS),10)

deps-test:
	@sh tests/deps.sh test

unit-tests: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do ./$$t || fail=1; done; exit $$fail

# the short forms of the crash-safety tests (the long ones: make fault)
FAULT_SHORT := tests/fault/crash-short.t tests/fault/short.t tests/fault/diskfull.t tests/fault/diskfull-inodes.t

integration-tests: programs
	prove -v tests/integration/ $(FAULT_SHORT)

# make install: the instance (queue/install.sh), then the files that live
# outside it: the man pages and the systemd unit (install-files, which the
# Debian package uses too, with DESTDIR)
MANDIR ?= /usr/share/man
UNITDIR ?= /etc/systemd/system
MANPAGES := $(sort $(wildcard $(foreach s,1 5 7 8,common/*.$(s) queue/*.$(s) send/*.$(s) local/*.$(s) smtpd/*.$(s))))

install: deps programs
	sh queue/install.sh "$(HOME_DIR)"
	$(MAKE) --no-print-directory install-files

install-files:
	install -d $(DESTDIR)$(UNITDIR)
	for p in $(MANPAGES); do install -d $(DESTDIR)$(MANDIR)/man$${p##*.} && \
	  install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$${p##*.}/ || exit 1; done
	sed 's|@HOME@|$(HOME_DIR)|g' queue/tern.service > $(DESTDIR)$(UNITDIR)/tern.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tern.service
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

# make deb: the Debian package, built by dpkg-buildpackage in a copy of the
# tree under DEB_BUILD; the .deb and lintian.log land in DEB_BUILD
DEB_BUILD ?= /tmp/tern-deb
deb:
	@sh tests/deps.sh deb
	sh queue/deb.sh "$(DEB_BUILD)"

# DEMO_ROOT empty: ./demo-root, or /var/tmp/tern-demo when the tern users
# cannot reach the checkout (tests/demo.sh)
DEMO_ROOT ?=
demo: deps programs
	sh tests/demo.sh $(if $(DEMO_ROOT),"$(DEMO_ROOT)")

fuzz: $(FUZZERS)
	sh tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

# the long crash-safety runs (tests/fault); their short forms run in make check
fault: programs
	prove -v tests/fault/

bench: programs
	sh tests/bench/run.sh
	sh tests/bench/relay.sh

# outbound relay with STARTTLS, tern's client beside Postfix's (not in make check)
bench-relay: programs
	sh tests/bench/relay.sh
.PHONY: bench-relay

clean:
	rm -f $(EDGE) $(CORE) $(TLSPROGS) $(SCRIPTS) $(UNIT_TESTS) $(FUZZERS) common/common.a common/common.mu.a
	find . -name '*.o' -o -name '*.d' -o -name '*.map' | xargs rm -f

.PHONY: fault fuzz-short all programs check check-sides deps deps-test unit-tests integration-tests install install-files deb demo fuzz bench clean

-include $(shell find . -name '*.d' 2>/dev/null)
