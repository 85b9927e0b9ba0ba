// Package selftest holds no code: its tests check, through "go test ./...",
// that lab.TestMain runs TestKernel... tests on a kernel with IPVS (in the
// VM when this machine has none) with the package's sources at hand. It is
// also the smallest example of a package with kernel tests.
package selftest
