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

# The packages whose statements count towards coverage. The conformance suites
# and the examples are test code, not product code.
COVERPKG := $(MODULE),$(MODULE)/backend,$(MODULE)/logstore/...,$(MODULE)/internal/...,$(MODULE)/backends/...

# Extra flags for go test, for example TEST_FLAGS='-run TestAppend -v'.
TEST_FLAGS ?=
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
FUZZ_TARGETS := ./internal/record:FuzzDecode ./internal/record:FuzzDecodeResealed ./internal/record:FuzzKeys ./internal/snapfile:FuzzDecodeHeader
FUZZTIME ?= 10m

.PHONY: help deps demo install lint test cover torture bench bench-go bench-short fuzz fuzz-short clean

help: ## List the targets.
	@echo 'Targets:'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-6s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo 'Variables: TEST_FLAGS (extra go test flags), BENCH, BENCHTIME, DEMO_FLAGS, GO.'

deps: ## Install librocksdb-dev, a C/C++ compiler and fuse3 when missing; download Go modules.
	@missing=''; \
	[ -f /usr/include/rocksdb/c.h ] || missing="$$missing librocksdb-dev"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v g++ >/dev/null 2>&1 || missing="$$missing g++"; \
	updated=''; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq$$missing || exit 1; \
		updated=1; \
	fi; \
	if [ ! -x /usr/bin/fusermount3 ]; then \
		echo 'deps: installing fuse3 (optional, for the torture tests)'; \
		{ [ -n "$$updated" ] || $(APT_GET) update -qq; } && $(APT_GET) install -y -qq fuse3 \
			|| echo 'deps: warning: could not install fuse3; the torture tests that need it will be skipped'; \
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

test: lint ## Lint, run every test with -race and coverage, print the coverage.
	$(GO) test -race -count=1 -timeout 20m -coverpkg=$(COVERPKG) -coverprofile=coverage.out $(TEST_FLAGS) ./...
	@$(MAKE) --no-print-directory bench-short fuzz-short
	@printf 'coverage (all covered packages): %s\n' "$$($(GO) tool cover -func=coverage.out | tail -1 | awk '{ print $$NF }')"
	@tmp="$$(mktemp)"; \
	trap 'rm -f "$$tmp"' EXIT; \
	grep -E '^mode: |^$(MODULE)/[^/]+\.go:|^$(MODULE)/backends/' coverage.out > "$$tmp"; \
	printf 'coverage (root + backends): %s\n' "$$($(GO) tool cover -func="$$tmp" | tail -1 | awk '{ print $$NF }')"

cover: test ## Like test, and also write coverage.html.
	$(GO) tool cover -html=coverage.out -o coverage.html
	@echo 'wrote coverage.html'

torture: deps ## The long durability runs: 1000 kill -9 per engine, exhaustive corruption, power-loss cuts, 1M-cycle RocksDB leak check (hours).
	$(GO) test -count=1 -timeout 6h ./torture -run TestKill9 -v -args -kills=1000 -fullcheck=10 -maxacks=40 -maxdelay=50ms
	$(GO) test -count=1 -timeout 2h ./torture -run TestCorruption -v -args -corrupt.exhaustive -corrupt.repeat=2
	$(GO) test -count=1 -timeout 3h -parallel 3 ./powerloss -v -args -powerloss.long
	$(GO) test -count=1 -timeout 1h ./backends/rocksdb -run TestLeakCMemory -v -args -rocksdb.leakcycles=1000000

bench: deps ## Write the engine comparison report to adr/reports/backend-comparison (BENCH_FLAGS adds flags, e.g. --scale 0.35).
	$(GO) run ./cmd/eventstore bench --backends rocksdb,pebble,badger,memory --out adr/reports/backend-comparison $(BENCH_FLAGS)

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

clean: ## Remove coverage.out and coverage.html.
	rm -f coverage.out coverage.html
