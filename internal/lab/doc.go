// Package lab runs commands and tests on a real kernel with IPVS when the
// machine's own kernel has none: it boots a Debian kernel under QEMU
// (software emulation) with an initramfs built for the one run — busybox,
// iproute2's ip, ipvsadm, the IPVS, tunnel and bridge modules, and the
// caller's files — and reports the command's output and exit status.
//
// [Run] runs one command. [TestMain] lets a package's TestKernel... tests
// run in the VM as part of "go test ./..."; see README.md for the naming
// convention, the cache and the environment variables.
//
// Nothing here touches the host's network or IPVS state: the VM has no
// network card, and it is gone when the command ends.
package lab
