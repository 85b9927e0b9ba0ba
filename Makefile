# Entry points for people and CI. See internal/lab/README.md for the VM lab.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)

.PHONY: deps test vet race lab-kernel lab-check demo build man deb deb-test

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

# The version stamped into the binary, the man pages and the package:
# vX.Y.Z when HEAD is tagged so, else cmd.Version's base with the date and
# commit of HEAD (0.1.0~git20261202.abcdef123456: "~" sorts before the
# release in dpkg's order). The date is the commit's, so that a rebuild of
# one commit gives the same pages.
BASE_VERSION := $(shell sed -n 's/^\(var\)\{0,1\}[[:space:]]*Version *= *"\(.*\)-dev"$$/\2/p' internal/cmd/*.go | head -n 1)
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
SOURCE_DATE := $(or $(shell git log -1 --format=%cs 2>/dev/null),$(shell date -u +%F))
VERSION ?= $(or $(patsubst v%,%,$(shell git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null)),$(BASE_VERSION)~git$(subst -,,$(SOURCE_DATE)).$(GIT_COMMIT))
# lvsctl version prints the commit and its time too (the Go build
# information has them only in a plain git checkout, and not with -buildvcs=false).
GIT_COMMIT_TIME := $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS = -s -w -X github.com/lvsctl/lvsctl/internal/cmd.Version=$(VERSION) \
	-X github.com/lvsctl/lvsctl/internal/cmd.Commit=$(GIT_COMMIT) -X github.com/lvsctl/lvsctl/internal/cmd.Date=$(GIT_COMMIT_TIME)

# lvsctl, static, version stamped, into build/lvsctl.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o build/lvsctl .

# One man page per command into man/ (man -l man/lvsctl-plan.1), from the
# definitions --help shows; TestManPages checks them with groff -ww.
MAN_DIR ?= man
man:
	$(GO) run ./internal/tools/man -dir $(MAN_DIR) -version $(VERSION) -date $(SOURCE_DATE)

# The Debian package, build/lvsctl_VERSION_ARCH.deb, made by nfpm (run at
# the version pinned here) from packaging/nfpm.yaml: the binary, the
# systemd units of examples/systemd, the completions, the man pages
# (compressed, as Debian installs them), /etc/lvsctl/lvsctl.hcl as a
# conffile and maintainer scripts that start and enable nothing.
NFPM ?= github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
DEB_ARCH ?= $(shell $(GO) env GOARCH)
deb: build
	rm -rf build/deb && mkdir -p build/deb/completion build/deb/man
	cp build/lvsctl build/deb/lvsctl
	build/lvsctl completion bash > build/deb/completion/lvsctl.bash
	build/lvsctl completion zsh > build/deb/completion/_lvsctl
	build/lvsctl completion fish > build/deb/completion/lvsctl.fish
	$(MAKE) --no-print-directory man MAN_DIR=build/deb/man
	gzip -9n build/deb/man/*.1
	VERSION=$(VERSION) DEB_ARCH=$(DEB_ARCH) $(GO) run $(NFPM) package -f packaging/nfpm.yaml -p deb -t build/

# Install the package on this machine (as root), check it as an
# administrator would (version, man -w, conffile, units verified and not
# enabled, completions found by each shell) and remove it: .ci/run runs it.
deb-test: deb
	scripts/deb-test.sh build/lvsctl_$(VERSION)_$(DEB_ARCH).deb $(VERSION)
