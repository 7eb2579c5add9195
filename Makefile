# wcmem-sandbox — build, test, install.
#   make                 the binary ./wcmem-sandbox
#   make check           unit tests (cmocka), the layering check (tests/graph_check.py, and
#                        tests/plugin_check.py for the pytest plugin) and integration tests
#                        (the binary on real cgroups)
#   make check SAN=1     the same, built with AddressSanitizer and UBSan into build-san/
#   make deps            install the Debian packages the build and tests need (root), or say how
#   make check-slurm     a single-node Slurm cluster runs a job array of shards (etc/deps.sh slurm)
#   make demo            run the bundled example under a limit
#   make bench           the overhead benchmark, the soak (5,000 tests, 20 OOM kills), analyze on 100,000 tests,
#                        budget beside analyze on 100,000 and 1,000,000 tests, pytest-xdist -n 4 under
#                        a shared total against a two-phase run
#   make fuzz            each libFuzzer harness of tests/fuzz for FUZZ_SECONDS (default 60)
#                        under ASan+UBSan, built with clang into build-fuzz/; fails on a finding
#   make install         PREFIX=/usr/local DESTDIR=
#   make uninstall       the same PREFIX and DESTDIR: removes what install put there

VERSION  := 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/wcmem-sandbox
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR   ?= $(PREFIX)/share/doc/wcmem-sandbox
PYTHON   ?= /usr/bin/python3

CC       ?= cc
CFLAGS   ?= -O2 -g
# snprintf truncation is checked where it matters; gcc cannot tell those places apart.
WFLAGS   := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
            -Wmissing-prototypes -Wstrict-prototypes \
            -Wno-format-truncation
CPPFLAGS += -I. -D_GNU_SOURCE -DWCMEM_VERSION='"$(VERSION)"'

ifeq ($(SAN),1)
BUILD    ?= build-san
BIN      ?= $(BUILD)/wcmem-sandbox
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD    ?= build
BIN      ?= wcmem-sandbox
SANFLAGS :=
endif

# pkg-config runs when a recipe first needs its answer, not when this file is read: in
# `make deps demo` on a fresh machine, pkg-config and the -dev packages exist only once `deps`
# has run. Each answer is kept after its first use (lazy := idiom); an error shows as is.
lazy = $(eval $(1) := $(shell $(2)))$($(1))
PKG_CFLAGS  = $(call lazy,PKG_CFLAGS,pkg-config --cflags libcgroup inih libsystemd expat)
PKG_LIBS    = $(call lazy,PKG_LIBS,pkg-config --libs libcgroup inih libsystemd expat) -lm
TEST_CFLAGS = $(call lazy,TEST_CFLAGS,pkg-config --cflags cmocka)
TEST_LIBS   = $(call lazy,TEST_LIBS,pkg-config --libs cmocka)

LIB_SRC  := $(wildcard cgroup/*.c report/*.c runner/*/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/runner/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

ALL_CFLAGS = $(WFLAGS) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS)

.PHONY: all check check-unit check-graph check-integration check-vm check-vm-where-possible check-slurm deps demo \
	bench install uninstall clean fuzz

all: $(BIN)

$(BIN): $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# A unit test links the library objects; tests/unit/test_X.wrap (optional) lists symbols
# to replace with __wrap_ versions (mocks at module boundaries).
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(TEST_CFLAGS) -MMD -MP -o $@ $< $(LIB_OBJ) \
		$(if $(wildcard tests/unit/$*.wrap),$(addprefix -Wl$(comma)--wrap=,$(shell cat tests/unit/$*.wrap))) \
		$(PKG_LIBS) $(TEST_LIBS)

comma := ,

# `make deps X` installs before it builds, also under -j.
ifneq ($(filter deps,$(MAKECMDGOALS)),)
$(LIB_OBJ) $(MAIN_OBJ) $(UNIT_BIN): | deps
endif

check: check-unit check-graph check-integration check-vm-where-possible

check-unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
		(cd tests/unit && ../../$$t) || fail=1; \
	done; exit $$fail

# The include-and-call graph of the sources: no circle of files or folders, and each folder uses
# only those below it (cgroup/ <- report/ <- runner/, and inside runner/ the order of FOLDERS).
# The pytest plugin's package: modules of at most 450 lines, imported one way, and the
# protocol's constants equal to the runner's.
check-graph: $(BIN)
	@$(PYTHON) tests/graph_check.py --self-test
	$(PYTHON) tests/graph_check.py $(BUILD)
	@$(PYTHON) tests/plugin_check.py --self-test
	$(PYTHON) tests/plugin_check.py

# A test that hangs fails by name after TEST_TIMEOUT seconds (pytest-timeout), many times
# the slowest test's time here, so that a slow host is never taken for a hang.
TEST_TIMEOUT ?= 300
check-integration: $(BIN)
	WCMEM_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider \
		--timeout=$(TEST_TIMEOUT) tests/integration

check-vm: $(BIN)
	tests/vm/run-vm.sh $(abspath $(BIN))

# A real engine: a single-node Slurm cluster started by the test, a 3-task job array of
# shards (etc/deps.sh slurm installs Debian's slurmctld, slurmd and munge).
check-slurm: $(BIN)
	WCMEM_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider \
		--timeout=$(TEST_TIMEOUT) tests/slurm

# The pure cgroup v2 pass needs qemu (make deps installs it). On CI it is never skipped:
# a VM that cannot start is a failure there.
check-vm-where-possible: $(BIN)
	@if [ -n "$$CI" ] || command -v qemu-system-x86_64 >/dev/null; then \
		tests/vm/run-vm.sh $(abspath $(BIN)); \
	else \
		echo "check-vm: skipped: qemu-system-x86_64 is not installed (make deps installs it)"; \
	fi

deps:
	@etc/deps.sh

demo: $(BIN)
	@etc/example/demo.sh $(abspath $(BIN))

bench: $(BIN)
	$(PYTHON) tests/bench/bench.py $(abspath $(BIN))
	$(PYTHON) tests/bench/bench_pytest.py $(abspath $(BIN))
	$(PYTHON) tests/bench/bench_resume.py $(abspath $(BIN))
	$(PYTHON) tests/bench/soak.py $(abspath $(BIN))
	$(PYTHON) tests/bench/bench_analyze.py $(abspath $(BIN))
	$(PYTHON) tests/bench/bench_budget.py $(abspath $(BIN))
	$(PYTHON) tests/bench/bench_schedule.py $(abspath $(BIN))

# The plugin, a package, goes where the binary looks for it: ../share/wcmem-sandbox beside
# bin/. A plugin of one file an older install left there goes.
PLUGIN_PY := $(wildcard runner/pytest/wcmem_pytest/*.py)
# The documents a user reads beside the man page: the log's format, analyze's and the
# reports' references (the README links them).
DOCS      := README.md etc/log-format.md etc/analyze.md etc/reports.md
install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/wcmem-sandbox
	install -D -m 0644 -t $(DESTDIR)$(DATADIR)/wcmem_pytest $(PLUGIN_PY)
	rm -f $(DESTDIR)$(DATADIR)/wcmem_pytest.py
	install -D -m 0644 etc/wcmem-sandbox.1 $(DESTDIR)$(MANDIR)/man1/wcmem-sandbox.1
	install -D -m 0644 etc/wcmem-sandbox.bash $(DESTDIR)$(COMPLETIONDIR)/wcmem-sandbox
	install -D -m 0644 -t $(DESTDIR)$(DOCDIR) $(DOCS)
	install -D -m 0644 -t $(DESTDIR)$(DOCDIR)/examples etc/wcmem-sandbox.ini

# File by file, and a folder only once empty: a PREFIX given wrong removes nothing else.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wcmem-sandbox $(DESTDIR)$(MANDIR)/man1/wcmem-sandbox.1 \
		$(DESTDIR)$(COMPLETIONDIR)/wcmem-sandbox $(DESTDIR)$(DATADIR)/wcmem_pytest.py \
		$(addprefix $(DESTDIR)$(DATADIR)/wcmem_pytest/,$(notdir $(PLUGIN_PY))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS))) \
		$(DESTDIR)$(DOCDIR)/examples/wcmem-sandbox.ini
	rm -rf $(DESTDIR)$(DATADIR)/wcmem_pytest/__pycache__
	-rmdir $(DESTDIR)$(DATADIR)/wcmem_pytest $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

# Fuzzers: libFuzzer needs clang; the library is built again, instrumented, in build-fuzz/.
# Each harness starts from its seeds (tests/fuzz/corpus/NAME, kept in the repository; every
# input that once found a bug stays there) and adds what it finds to build-fuzz/corpus/NAME.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=all
FUZZ_WFLAGS  := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-format-nonliteral \
                -Wmissing-prototypes -Wstrict-prototypes
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_WFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
		$(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_WFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) \
		-MMD -MP -o $@ $< $(FUZZ_LIB_OBJ) $(PKG_LIBS)

# The instrumented objects are kept between runs, not removed as intermediate files.
.SECONDARY: $(FUZZ_LIB_OBJ)

fuzz: $(FUZZ_BIN)
	@fail=0; for f in $(FUZZ_BIN); do \
		name=$${f##*/fuzz_}; mkdir -p $(FUZZ_BUILD)/corpus/$$name; \
		echo "fuzz $$name: $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix=$(FUZZ_BUILD)/$$name- \
			$(FUZZ_BUILD)/corpus/$$name tests/fuzz/corpus/$$name \
			2>$(FUZZ_BUILD)/$$name.log || { fail=1; tail -40 $(FUZZ_BUILD)/$$name.log; }; \
		grep -E "DONE|stat::number_of_executed_units|stat::peak_rss_mb" \
			$(FUZZ_BUILD)/$$name.log; \
	done; exit $$fail

clean:
	rm -rf build build-san build-fuzz wcmem-sandbox

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d) $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d)
