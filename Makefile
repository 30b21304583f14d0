# The one entry point for building, testing and demonstrating the event store.
# Run `make` or `make help` for the list of targets.
#
# It works as root on a fresh Debian 12 machine with Go at /usr/local/go:
# `make deps` installs what cgo needs for the RocksDB engine.

GO ?= go
GOFMT ?= gofmt

# Go may not be on PATH in CI. The RocksDB engine is cgo.
export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED := 1

MODULE := github.com/durablelog/eventstore

# The product packages: their statements are what the coverage counts. The
# test harnesses (internal/torture, internal/lazyfs, internal/faultkv,
# internal/benchreport, internal/pgtest, internal/testreport), the conformance
# suites, benchsuite and the examples are test code, not product code.
PRODUCT_PKGS := $(MODULE) $(MODULE)/backend $(MODULE)/logstore/... $(MODULE)/backends/... $(MODULE)/prommetrics \
	$(addprefix $(MODULE)/internal/,record snapfile fsutil dump headmark layout benchknobs) \
	$(MODULE)/cmd/eventstore
comma := ,
space := $(subst ,, )
COVERPKG := $(subst $(space),$(comma),$(strip $(PRODUCT_PKGS)))
# make test fails when the coverage of the product code is below this (%).
COVER_THRESHOLD ?= 90

# What make test writes besides coverage.out: the JSON test events, the
# coverage of the go test run and of the command's runs, the harness.
TESTOUT := $(CURDIR)/testout
TESTREPORT := $(TESTOUT)/testreport
CLI_COVER_BIN := $(TESTOUT)/eventstore-cover
CLI_COVERDIR := $(TESTOUT)/cli-covdata

# Extra flags for go test, for example TEST_FLAGS='-run TestAppend -v'. A
# -run, -skip or -short narrows the run: the coverage is then reported, not
# enforced.
TEST_FLAGS ?=
# EVENTSTORE_SKIP_FUSE=1 lets make test go on when FUSE is missing (the
# power-loss tests on FUSE are then skipped, and the summary says so).
EVENTSTORE_SKIP_FUSE ?=
export EVENTSTORE_SKIP_FUSE
# Benchmarks to run (a -bench regexp) and, optionally, a -benchtime.
BENCH ?= .
BENCHTIME ?=
# Extra flags for `eventstore bench` in `make bench`, e.g. BENCH_FLAGS='--repeats 3 --scale 0.35'.
BENCH_FLAGS ?=
# Extra flags for the demo program, for example DEMO_FLAGS='-backend pebble'.
DEMO_FLAGS ?=

# sudo only when not root (CI runs as root, where sudo may not exist).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.DEFAULT_GOAL := help

# The fuzz targets: package:target pairs. FUZZTIME is per target.
FUZZ_TARGETS := ./internal/record:FuzzDecode ./internal/record:FuzzDecodeResealed ./internal/record:FuzzKeys ./internal/snapfile:FuzzDecodeHeader ./internal/dump:FuzzReader
FUZZTIME ?= 10m

.PHONY: help deps demo install lint test cover torture bench bench-go bench-short fuzz fuzz-short clean

help: ## List the targets.
	@echo 'Targets:'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo 'Variables: TEST_FLAGS (extra go test flags), COVER_THRESHOLD, EVENTSTORE_SKIP_FUSE=1, BENCH, BENCHTIME, DEMO_FLAGS, GO.'

deps: ## Install librocksdb-dev, gcc, g++, fuse3 and PostgreSQL when missing; download Go modules.
	@missing=''; \
	[ -f /usr/include/rocksdb/c.h ] || missing="$$missing librocksdb-dev"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v g++ >/dev/null 2>&1 || missing="$$missing g++"; \
	[ -x /usr/bin/fusermount3 ] || missing="$$missing fuse3"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| { command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; } \
		|| [ -n "$$PGTEST_BINDIR" ] \
		|| missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq$$missing || exit 1; \
	fi
	@$(GO) mod download

demo: deps ## Run examples/quickstart on RocksDB in a fresh temporary directory.
	$(GO) run ./examples/quickstart $(DEMO_FLAGS)

install: deps ## Install the eventstore command into $(GOPATH)/bin.
	$(GO) install ./cmd/eventstore

lint: deps ## go vet, gofmt, go mod tidy -diff and staticcheck (pinned in go.mod); fails on any finding.
	$(GO) vet ./...
	@out="$$($(GOFMT) -l .)"; \
	if [ -n "$$out" ]; then \
		echo 'gofmt: these files are not formatted (run gofmt -w on them):'; \
		echo "$$out"; \
		exit 1; \
	fi
	@$(GO) mod tidy -diff || { echo 'go mod tidy: go.mod and go.sum do not match the imports (the diff above): run go mod tidy'; exit 1; }
	$(GO) tool staticcheck ./...

# The flags that narrow a run, and the flag that makes it verbose.
NARROWED := $(filter -run% -skip% -short% -test.run% -test.skip% -test.short%,$(TEST_FLAGS))
VERBOSE := $(filter -v -v=true -test.v -test.v=true,$(TEST_FLAGS))

test: lint ## Lint, run every test with -race, check the product coverage (>= COVER_THRESHOLD) and summarise skips.
	@rm -rf coverage.out $(CLI_COVERDIR) && mkdir -p $(CLI_COVERDIR)
	@$(GO) build -o $(TESTREPORT) ./internal/testreport
	@$(TESTREPORT) fuse
	@# The command under test, built for coverage: its tests run it with GOCOVERDIR.
	$(GO) build -race -cover -covermode=atomic -coverpkg=$(COVERPKG) -o $(CLI_COVER_BIN) ./cmd/eventstore
	EVENTSTORE_TEST_CLI=$(CLI_COVER_BIN) EVENTSTORE_TEST_CLI_COVERDIR=$(CLI_COVERDIR) \
	$(TESTREPORT) run -json $(TESTOUT)/test.json $(if $(VERBOSE),-v) -- \
		$(GO) test -json -race -count=1 -timeout 20m -coverpkg=$(COVERPKG) -coverprofile=$(TESTOUT)/coverage-tests.out $(TEST_FLAGS) ./...
	@# The short benchmark and fuzz runs, then the reports; a failure of any
	@# of them fails the target after every report is printed.
	@failed=''; \
	$(MAKE) --no-print-directory bench-short || failed="$$failed bench-short"; \
	$(MAKE) --no-print-directory fuzz-short || failed="$$failed fuzz-short"; \
	echo; \
	profiles='$(TESTOUT)/coverage-tests.out'; \
	if ls $(CLI_COVERDIR)/covmeta.* >/dev/null 2>&1; then \
		$(GO) tool covdata textfmt -i=$(CLI_COVERDIR) -o $(TESTOUT)/coverage-cli.out || failed="$$failed covdata"; \
		profiles="$$profiles $(TESTOUT)/coverage-cli.out"; \
	else \
		echo 'coverage: no data from the runs of the eventstore command (its tests did not run)'; \
	fi; \
	$(TESTREPORT) cover -threshold $(COVER_THRESHOLD) -pkgs '$(COVERPKG)' -base $(TESTOUT)/coverage-tests.out -o coverage.out \
		$(if $(NARROWED),-no-threshold 'TEST_FLAGS narrows the run ($(NARROWED))') $$profiles || failed="$$failed coverage"; \
	echo; \
	if [ "$$EVENTSTORE_SKIP_FUSE" = 1 ] && ! EVENTSTORE_SKIP_FUSE= $(TESTREPORT) fuse >/dev/null 2>&1; then \
		echo 'EVENTSTORE_SKIP_FUSE=1 and FUSE is not available: the FUSE tests were skipped (listed below).'; \
	fi; \
	$(TESTREPORT) summary $(TESTOUT)/test.json || failed="$$failed tests"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed (see above)"; exit 1; fi

cover: ## Like test, and also write coverage.html (even when the coverage is too low).
	@status=0; $(MAKE) --no-print-directory test || status=$$?; \
	if [ -f coverage.out ]; then \
		$(GO) tool cover -html=coverage.out -o coverage.html && echo 'wrote coverage.html'; \
	fi; \
	exit $$status

torture: deps ## The long durability runs: 1000 kill -9 per engine (sqlite included), exhaustive corruption, power-loss cuts, postgres writer and server kills, 1M-cycle RocksDB leak check (hours).
	$(GO) test -count=1 -timeout 6h ./torture -run TestKill9 -v -args -kills=1000 -fullcheck=10 -maxacks=40 -maxdelay=50ms
	$(GO) test -count=1 -timeout 2h ./backends/postgres -run '^(TestKill9|TestPostmasterKill9)$$' -v -args -conformance.kills=500 -pg.serverkills=500
	$(GO) test -count=1 -timeout 2h ./torture -run TestCorruption -v -args -corrupt.exhaustive -corrupt.repeat=2
	$(GO) test -count=1 -timeout 3h -parallel 3 ./powerloss -v -args -powerloss.long
	$(GO) test -count=1 -timeout 1h ./backends/rocksdb -run TestLeakCMemory -v -args -rocksdb.leakcycles=1000000

bench: deps ## Write the comparison report (every engine, postgres, the peers and the disk's limit) to adr/reports/backend-comparison; refuses a busy machine unless BENCH_FORCE=1 (BENCH_FLAGS adds flags, e.g. --scale 0.35).
	$(GO) run ./cmd/eventstore bench --backends rocksdb,pebble,badger,sqlite,postgres,memory --out adr/reports/backend-comparison $(BENCH_FLAGS)

bench-go: deps ## Run the testing.B benchmarks (BENCH=regexp, BENCHTIME=duration or Nx).
	$(GO) test -run '^$$' -bench '$(BENCH)' $(if $(BENCHTIME),-benchtime=$(BENCHTIME)) ./...

bench-short: ## Run every benchmark workload once on every engine, skipping the 100K+ fills (part of test).
	$(GO) test -short -count=1 -run '^$$' -bench . -benchtime=1x ./backends/...

fuzz: deps ## Fuzz every target for FUZZTIME each (default 10m).
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

fuzz-short: ## Fuzz every target for 15s (part of test).
	@$(MAKE) --no-print-directory fuzz FUZZTIME=15s

clean: ## Remove coverage.out, coverage.html and testout/.
	rm -rf coverage.out coverage.html $(TESTOUT)
