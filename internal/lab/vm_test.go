package lab

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// requireLab skips a test that boots a VM where the lab cannot run, or
// with -short; under CI=true, which requires the lab, it fails instead.
func requireLab(t *testing.T) {
	t.Helper()
	if os.Getenv("LVSCTL_IN_VM") == "1" {
		t.Skip("already in the VM")
	}
	ci := os.Getenv("CI") == "true"
	if testing.Short() {
		if ci {
			t.Fatal("boots a VM, and CI=true requires it: do not pass -short")
		}
		t.Skip("boots a VM; skipped with -short")
	}
	if err := Check(); err != nil {
		if ci {
			t.Fatalf("the lab cannot run, and CI=true requires it: %v", err)
		}
		t.Skipf("the lab cannot run here: %v", err)
	}
}

var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

// vmScript checks, in one boot, what later tests rely on. Each check prints
// "check NAME ok" or "check NAME FAIL: output".
const vmScript = `
IP=/usr/sbin/ip
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then echo "check $name ok"; else echo "check $name FAIL: $out"; fi
}
check ipvsadm sh -c 'ipvsadm -A -t 10.0.0.2:80 -s rr && ipvsadm -S -n | grep -x -- "-A -t 10.0.0.2:80 -s rr"'
check netns sh -c "$IP netns add x && $IP netns list | grep -w x && $IP netns exec x ipvsadm -L -n"
i=0
for s in ` + "$SCHEDULERS" + `; do
	i=$((i+1))
	if grep -q "/ip_vs_$s.ko:" /lib/modules/$(uname -r)/modules.dep; then echo "module ip_vs_$s present"; fi
	check sched-$s sh -c "ipvsadm -A -t 10.0.1.$i:80 -s $s && ipvsadm -S -n | grep -x -- '-A -t 10.0.1.$i:80 -s $s'"
done
check veth-bridge sh -c "$IP link add v0 type veth peer name v1 && $IP link add br0 type bridge && $IP link set v0 master br0 && $IP link set br0 up && $IP link set v0 up && $IP -d link show v0 | grep 'master br0'"
check ipip sh -c "$IP link show tunl0 && $IP link add t1 type ipip local 10.9.9.8 remote 10.9.9.9 && $IP link show t1"
check gue sh -c "[ -d /sys/module/fou ] && $IP fou add port 5555 gue && $IP fou show | grep 5555"
check gre sh -c "[ -d /sys/module/ip_gre ] && [ -d /sys/module/gre ] && $IP link add g1 type gre local 10.9.9.8 remote 10.9.9.9 && $IP link show g1"
check dummy sh -c "$IP link add d0 type dummy && $IP addr add 10.0.0.2/32 dev d0"
check pe-sip sh -c "[ -d /sys/module/ip_vs_pe_sip ] && ipvsadm -A -u 10.0.0.3:5060 -s rr -p 60 --pe sip && ipvsadm -S -n | grep -- '--pe sip'"
check sctp sh -c "ipvsadm -A --sctp-service 10.0.0.4:9 -s rr && ipvsadm -S -n | grep -- '--sctp-service 10.0.0.4:9'"
check modules sh -c "! cat /run/lab/modules.failed"
check env sh -c '[ "$LAB_VALUE" = "it'"'"'s \$HOME; rm -rf /" ] && [ "$LVSCTL_IN_VM" = 1 ] && [ "$LVSCTL_REQUIRE_IPVS" = 1 ]'
check files sh -c 'grep -x "copied in" /data/dir/marker.txt && [ -x /data/tool ]'
exit 7
`

func TestVM(t *testing.T) {
	requireLab(t)
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(host, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "dir", "marker.txt"), []byte("copied in\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "tool"), []byte("#!/bin/sh\necho tool\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{
		Files: map[string]string{
			"/data/dir":  filepath.Join(host, "dir"),
			"/data/tool": filepath.Join(host, "tool"),
		},
		Command: []string{"sh", "-c", vmScript},
		Env:     []string{"SCHEDULERS=" + strings.Join(schedulers, " "), `LAB_VALUE=it's $HOME; rm -rf /`},
		Timeout: 3 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kernel %s booted in %v; the run took %v", res.Kernel, res.Boot.Round(time.Millisecond), res.Total.Round(time.Millisecond))
	out := string(res.Output)
	if res.ExitCode != 7 {
		t.Errorf("exit code %d, want 7 (the script's); output:\n%s", res.ExitCode, out)
	}

	results := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^check (\S+) (ok|FAIL: .*(?:\n[^c].*)*)$`).FindAllStringSubmatch(out, -1) {
		results[m[1]] = m[2]
	}
	present := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^module ip_vs_(\S+) present$`).FindAllStringSubmatch(out, -1) {
		present[m[1]] = true
	}
	names := []string{"ipvsadm", "netns", "veth-bridge", "ipip", "gue", "gre", "dummy", "pe-sip", "sctp", "modules", "env", "files"}
	for _, s := range schedulers {
		names = append(names, "sched-"+s)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			got, ok := results[name]
			switch {
			case !ok:
				t.Errorf("no result in the VM's output:\n%s", out)
			case name == "sched-twos" && !present["twos"]:
				// twos arrived in Linux 6.7; older kernels must refuse it.
				if got == "ok" {
					t.Errorf("kernel %s has no ip_vs_twos module, yet the twos scheduler was accepted", res.Kernel)
				}
				t.Skipf("kernel %s has no twos scheduler (Linux 6.7+)", res.Kernel)
			case got != "ok":
				t.Errorf("%s", got)
			}
		})
	}
	for _, s := range schedulers {
		if s != "twos" && !present[s] {
			t.Errorf("the guest's modules.dep lists no ip_vs_%s", s)
		}
	}
}

func TestVMTimeout(t *testing.T) {
	requireLab(t)
	res, err := Run(context.Background(), Options{
		Command: []string{"sh", "-c", "echo started; sleep 600"},
		Timeout: 15 * time.Second,
	})
	if err == nil {
		t.Fatalf("a command that outlives its timeout: no error, result %+v", res)
	}
	if !strings.Contains(err.Error(), "timeout") {
		t.Errorf("error %q does not mention the timeout", err)
	}
	if res != nil && res.Total > 30*time.Second {
		t.Errorf("the VM ran %v, long after its 15s timeout", res.Total)
	}
	if res == nil || !strings.Contains(string(res.Output), "started") {
		t.Errorf("the output before the timeout is lost: %+v", res)
	}
}

func TestVMExitStatusAndOutput(t *testing.T) {
	requireLab(t)
	// No trailing newline: the exit marker then shares the line.
	res, err := Run(context.Background(), Options{
		Command: []string{"sh", "-c", `echo oops >&2; pwd; printf 'one\ntwo'; exit 42`},
		Dir:     "/tmp",
		Timeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 42 {
		t.Errorf("exit code %d, want 42", res.ExitCode)
	}
	if got, want := string(res.Output), "oops\n/tmp\none\ntwo"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}
