# Entry points for people and CI. See lab/README.md for the VM lab.
GO ?= go

.PHONY: test vet lab-kernel lab-check

# Everything: unit tests, CLI testscripts, and the TestKernel... tests
# (in the QEMU lab when this kernel has no IPVS).
test:
	$(GO) test ./...

vet:
	$(GO) vet ./...

# Download the lab's kernel into the cache ahead of time.
lab-kernel:
	$(GO) run ./lab/cmd/lab -fetch

# Boot the lab once and show that IPVS answers.
lab-check:
	$(GO) run ./lab/cmd/lab -- ipvsadm -L -n
