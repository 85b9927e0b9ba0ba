# Entry points for people and CI. See internal/lab/README.md for the VM lab.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)

.PHONY: deps test vet race lab-kernel lab-check demo

# Everything: unit tests, CLI testscripts, and the TestKernel... tests
# (in the QEMU lab when this kernel has no IPVS).
# Kernel-test packages queue for the one VM slot, so the default 10m
# per-package timeout is too short on a slow machine.
test: deps
	$(GO) test -timeout 30m ./...

# Install the Debian packages the lab needs (once; a no-op afterwards).
deps:
	scripts/deps.sh

# go vet and staticcheck (the version pinned here, fetched by go run).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The packages that run goroutines, under the race detector (the
# TestKernel... tests ran in make test; under -race they would run in the
# VM again).
RACE_PKGS = ./kernel/ ./internal/apply/... ./internal/cmd/ ./internal/health/ ./internal/pulse/... ./internal/reconcile/ ./internal/rundir/ ./internal/netns/ ./internal/proc/ ./internal/regular/ ./internal/atomicfile/
race:
	$(GO) test -race -skip '^TestKernel' $(RACE_PKGS)

# Download the lab's kernel into the cache ahead of time.
lab-kernel:
	$(GO) run ./internal/lab/cmd/lab -fetch

# Boot the lab once and show that IPVS answers.
lab-check:
	$(GO) run ./internal/lab/cmd/lab -- ipvsadm -L -n

.PHONY: bench bench-go

# Time lvsctl against ipvsadm on the lab's kernel, in one VM boot (about ten
# minutes under TCG), and print the ratios; see BENCHMARKS.md. Not part of test.
bench:
	$(GO) run ./bench

# The Go benchmarks of the pure parts, on this machine.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 6 ./internal/plan/ ./internal/source/config/ ./internal/ipvsadm/ ./internal/apply/

# See lvsctl work without an IPVS kernel of your own: builds lvsctl, boots
# the lab VM, builds the LVS HOWTO's four hosts as namespaces there, applies
# examples/nat-four-host.hcl and a round-robin variant of it, and shows the
# client's requests alternating between real1 and real2.
demo: deps
	$(GO) run ./internal/lab/cmd/demo -go $(GO)
