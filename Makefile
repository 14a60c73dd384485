# mogan-manage: one Go module; make build writes mogan-api, the two drivers and the mogan CLI.
# Pinned tool versions: `make proto` and `make lint` install exactly these.
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GOLANGCI_LINT_VERSION      := v2.15.0

TOOLS := $(CURDIR)/.tools/bin
BIN   := $(CURDIR)/bin
GO    ?= go

# Short by default so `make test` stays quick; `make fuzz` runs longer.
FUZZTIME ?= 10s

.PHONY: all build proto sample-config test test-quick test-deps bench bench-ironic lint fuzz race demo clean

all: build

build:
	$(GO) build -o $(BIN)/mogan-api ./host/cmd/mogan-api
	$(GO) build -o $(BIN)/mogan-driver-noop ./plugins/noop
	$(GO) build -o $(BIN)/mogan-driver-ironic ./plugins/ironic/cmd/mogan-driver-ironic
	$(GO) build -o $(BIN)/mogan ./cmd/mogan

$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

$(TOOLS)/golangci-lint:
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# Needs protoc (Debian: protobuf-compiler).
proto: $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc
	protoc --proto_path=proto \
	  --plugin=protoc-gen-go=$(TOOLS)/protoc-gen-go \
	  --plugin=protoc-gen-go-grpc=$(TOOLS)/protoc-gen-go-grpc \
	  --go_out=proto/driverv1 --go_opt=paths=source_relative \
	  --go-grpc_out=proto/driverv1 --go-grpc_opt=paths=source_relative \
	  proto/driver.proto

# etc/mogan.conf.sample: every option of mogan-api's table with its default
# and help, and the [ironic] section as mogan-driver-ironic describes it over
# the contract. A test fails when the file drifts from the code.
sample-config: build
	$(BIN)/mogan-api sample-config --plugin-dir $(BIN) --driver ironic > etc/mogan.conf.sample.tmp
	mv etc/mogan.conf.sample.tmp etc/mogan.conf.sample

# Every test: unit, integration against the real Ironic, Glance, Neutron,
# Keystone, PostgreSQL and RabbitMQ the tests start or expect (.ci/run makes
# sure they can), crash recovery, and a short bounded run of the fuzz target.
# The fuzz targets' short runs do not minimize what they find: in ten
# seconds a minimization of a new interesting input can still run at the
# deadline, which Go's fuzzer reports as a failure ("context deadline
# exceeded") though no input failed. A failing input is still reported
# whole (make fuzz, for long runs, minimizes as usual).
test: test-deps
	$(GO) test -count=1 -timeout 50m ./...
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzManageServer$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./host/internal/api
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzManageableServersQuery$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./host/internal/api
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzServersRoutes$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./host/internal/api
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzValidateMatchesGojsonschema$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./host/internal/schema
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzMigration$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./host/internal/api
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzMigrationValidateMatchesGojsonschema$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./host/internal/schema
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzCheckUTF8NothingIsReplaced$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./host/internal/schema
	$(MAKE) race

# The inner loop (at most 15 minutes on 2 cores): every package's tests
# but the end-to-end, doc and Ironic-integration suites, which run their
# quick part only — the Ironic driver's offline unit tests and its
# conformance kit, the doc test's static checks, and one end-to-end case
# of each feature (QUICK_E2E). The engine tests (manage, store, workflow)
# run whole, on both databases. make test runs everything.
QUICK_E2E  := TestCheckConfigCommand|TestRecoverCommand|TestAdoptWithGlanceAndNeutron|TestKillMidAdoptionThenRestart|TestFencingPausedReplicaNeverUndoesAnother|TestSameHostRefused|TestLateNeutronPutIsRepaired|TestUnmanageLeavesForeignNodeBindings|TestConnectionLostAnswers503|TestCLIAgainstCloud|TestClientSocketTimeoutClosesIdleAndStalledClients|TestHangIs504WhileHostAnswers|TestDryRunChangesNothing|TestHostileBodiesBothEngines|TestKeystoneAuth|TestNotificationsOnRabbitMQ|TestObservability|TestTwoReplicasOnePostgresOneWinner|TestSecretsNeverLeak|TestStartupRefusals|TestNoopAnswers501AndSurvivesKill9|TestAdoptIntoBasicAuthProject|TestOutOfRangeDurationsAndBadHostAreRefused|TestTwoBackendsListAndAdopt|TestMigrateQuick|TestHandoffQuick
test-quick: test-deps
	$(GO) test -count=1 -timeout 15m $$($(GO) list ./... | grep -v -e '/host/e2e$$' -e '/docs/doctest$$' -e '/plugins/ironic/ironicdriver$$' -e '/testenv/ironicbench$$')
	$(GO) test -count=1 -timeout 10m -run 'Unit|TestConformance' ./plugins/ironic/ironicdriver
	$(GO) test -count=1 -timeout 5m -run 'TestQuotedFilesAreTheTree|TestReadmeLayoutCoversTheTree|TestRelativeLinksResolve|TestParse|TestCovered' ./docs/doctest
	$(GO) test -count=1 -timeout 15m -run '^($(QUICK_E2E))$$' ./host/e2e

# The race detector over the packages with concurrency (part of make test:
# about 30 s once the race-instrumented build is cached, a few minutes cold).
RACE_PKGS := ./host/internal/pluginmanager ./host/internal/api ./host/internal/manage ./host/internal/store ./host/internal/httpconn
race:
	$(GO) test -race -count=1 -timeout 15m $(RACE_PKGS)

# The Debian packages the harnesses under testenv/ run (standalone Ironic,
# Keystone, Glance, Neutron; psycopg2 for PostgreSQL), installed when
# missing. Tests never install anything themselves.
test-deps:
	host/scripts/test-deps.sh

# A longer fuzz run: make fuzz FUZZTIME=10m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzManageServer$$' -fuzztime $(FUZZTIME) ./host/internal/api
	$(GO) test -run '^$$' -fuzz '^FuzzManageableServersQuery$$' -fuzztime $(FUZZTIME) ./host/internal/api
	$(GO) test -run '^$$' -fuzz '^FuzzServersRoutes$$' -fuzztime $(FUZZTIME) ./host/internal/api
	$(GO) test -run '^$$' -fuzz '^FuzzValidateMatchesGojsonschema$$' -fuzztime $(FUZZTIME) ./host/internal/schema
	$(GO) test -run '^$$' -fuzz '^FuzzMigration$$' -fuzztime $(FUZZTIME) ./host/internal/api
	$(GO) test -run '^$$' -fuzz '^FuzzMigrationValidateMatchesGojsonschema$$' -fuzztime $(FUZZTIME) ./host/internal/schema
	$(GO) test -run '^$$' -fuzz '^FuzzCheckUTF8NothingIsReplaced$$' -fuzztime $(FUZZTIME) ./host/internal/schema

bench:
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 2s ./...

# Fleet-scale figures (docs/performance.md): a standalone Ironic with NODES
# bulk-loaded adoptable nodes, mogan-api on SQLite with the Ironic driver
# side by side with the raw fetch, adoptions on SQLite and PostgreSQL
# (POSTGRES='' skips it); then two Ironics of TWO_BACKENDS nodes each as
# backends east and west of one mogan-api, against the two raw fetches one
# after the other (TWO_BACKENDS=0 skips it); prints markdown tables.
# NODES=10000 takes ~6 min on a quiet machine, the two backends ~3 more.
NODES        ?= 1000
RUNS         ?= 3
ADOPTIONS    ?= 100
CONCURRENCY  ?= 20
POSTGRES     ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
TWO_BACKENDS ?= 5000
bench-ironic: build test-deps
	$(GO) build -o $(BIN)/bench-ironic ./testenv/cmd/bench-ironic
	$(BIN)/bench-ironic -bin $(BIN) -nodes $(NODES) -runs $(RUNS) -adoptions $(ADOPTIONS) \
	  -concurrency $(CONCURRENCY) -postgres '$(POSTGRES)' -two-backends $(TWO_BACKENDS)

# Migrations from an inventory (docs/performance.md, "Migrations"):
# MIGRATE_NODES machines through `mogan migrate --adopt --concurrency
# MIGRATE_CONCURRENCY`, side by side with a script making the same Ironic
# and Neutron requests directly at that concurrency; the median of RUNS,
# a markdown table with the load average.
.PHONY: bench-migrate
MIGRATE_NODES       ?= 200
MIGRATE_CONCURRENCY ?= 8
bench-migrate: build test-deps
	$(GO) build -o $(BIN)/bench-migrate ./testenv/cmd/bench-migrate
	$(BIN)/bench-migrate -bin $(BIN) -nodes $(MIGRATE_NODES) -runs $(RUNS) -concurrency $(MIGRATE_CONCURRENCY)

# Handoffs between two clouds (docs/performance.md, "Handoffs"):
# HANDOFF_NODES machines moved from Ironic A to Ironic B through `mogan
# migrate --from a --to b --adopt` against the same requests made directly.
.PHONY: bench-handoff
HANDOFF_NODES ?= 200
bench-handoff: build test-deps
	$(GO) build -o $(BIN)/bench-handoff ./testenv/cmd/bench-handoff
	$(BIN)/bench-handoff -bin $(BIN) -nodes $(HANDOFF_NODES) -runs $(RUNS) -concurrency $(MIGRATE_CONCURRENCY)

lint: $(TOOLS)/golangci-lint
	gofmt -l $$(git ls-files '*.go') | grep -v '\.pb\.go$$' | (! grep .)
	$(GO) vet ./...
	$(TOOLS)/golangci-lint run ./...

# Builds everything and runs the manage workflow against a local standalone
# Ironic, Glance and Neutron (see host/scripts/demo.sh).
demo: build test-deps
	$(GO) build -o $(BIN)/openstack-standalone ./testenv/cmd/openstack-standalone
	host/scripts/demo.sh

clean:
	rm -rf $(BIN) .tools .demo
