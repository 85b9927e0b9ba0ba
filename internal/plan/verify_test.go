package plan

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// saveAndRead writes f to a fresh plan file and reads it back.
func saveAndRead(t *testing.T, f *File) (*File, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "web.plan")
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	return ReadFile(path)
}

// createFile is a plan that creates services and real servers from an
// empty table, and the table it was made against.
func createFile(t testing.TB) (*File, *lvs.Table) {
	t.Helper()
	sc := scenarios()["create_all"]
	return &File{
		Version:     "0.1.0-test",
		Fingerprint: Fingerprint(sc.live, sc.desired.Ignore),
		Desired:     sc.desired.Clone(),
		Plan:        Diff(sc.live, sc.desired, Options{}),
	}, sc.live
}

// Every plan Diff makes passes Validate and Check against the table it was
// made from, also when that table's order, names and counters changed.
func TestCheckAcceptsComputedPlans(t *testing.T) {
	f := sampleFile(t)
	got, err := saveAndRead(t, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Check(scenarios()["drain"].live); err != nil {
		t.Fatalf("Check of the sample plan: %v", err)
	}
	dir := t.TempDir()
	for seed := range int64(300) {
		r := rand.New(rand.NewSource(seed))
		g := gen{r}
		live := g.table()
		desired := g.desiredFrom(live)
		drain := seed%2 == 0
		f := &File{Fingerprint: Fingerprint(live, desired.Ignore), Desired: desired, Plan: Diff(live, desired, Options{Drain: drain})}
		if drain {
			f.DrainTimeout = time.Minute
		}
		path := filepath.Join(dir, "p")
		if err := WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if err := got.Check(live); err != nil {
			t.Fatalf("seed %d: Check against the planned table: %v%s", seed, err, opsString(got.Plan.Ops))
		}
		if err := got.Check(shuffled(r, live)); err != nil {
			t.Fatalf("seed %d: Check against the table with other counters and order: %v", seed, err)
		}
	}
}

// Check refuses a plan whose operations are not exactly what its desired
// table needs.
func TestCheckRefusesTamperedOperations(t *testing.T) {
	live := scenarios()["drain"].live
	web, dns := tcp("10.0.0.2:80"), udp("10.0.0.2:53")
	for _, tc := range []struct {
		name   string
		tamper func(f *File)
		want   string
	}{
		{"an added real server", func(f *File) {
			f.Plan.Ops = append(f.Plan.Ops, Op{Action: AddDest, Service: web, ServiceName: "web", ToDest: dest("192.168.10.200:80", 1)})
		}, "operation 4 (add real server 192.168.10.200:80 to tcp 10.0.0.2:80) is not in the plan lvsctl computes; refusing"},
		{"an added service delete", func(f *File) {
			f.Plan.Ops = slices.Insert(f.Plan.Ops, 0, Op{Action: DeleteService, Service: web, From: live.Service(web).Opts})
		}, "operation 1 (delete service tcp 10.0.0.2:80) is not in the plan lvsctl computes"},
		{"an operation twice", func(f *File) {
			f.Plan.Ops = append(f.Plan.Ops, f.Plan.Ops[len(f.Plan.Ops)-1])
		}, "operation 4 (delete service udp 10.0.0.2:53) is not in the plan lvsctl computes"},
		{"a missing operation", func(f *File) {
			f.Plan.Ops = f.Plan.Ops[:len(f.Plan.Ops)-1]
		}, "it lacks the operation to delete service udp 10.0.0.2:53"},
		{"reordered operations", func(f *File) {
			ops := f.Plan.Ops
			ops[len(ops)-1], ops[len(ops)-2] = ops[len(ops)-2], ops[len(ops)-1]
		}, "is out of order: lvsctl runs"},
		{"another timeout", func(f *File) { f.Plan.Ops[0].ToTimeouts.TCP = 2 * time.Hour },
			"operation 1 (set the connection timeouts to tcp 2h0m0s, tcp_fin 0s, udp 0s) is not in the plan"},
		{"a changed service key", func(f *File) { f.Plan.Ops[len(f.Plan.Ops)-1].Service = udp("10.0.0.2:54") },
			"operation 3 (delete service udp 10.0.0.2:54) is not in the plan"},
		{"a desired table the operations do not match", func(f *File) { f.Desired.Services[0].Dests[0].Opts.Weight = 5 },
			"it lacks the operation to change real server 192.168.10.100:80 of tcp 10.0.0.2:80"},
		{"no drain", func(f *File) { f.DrainTimeout = 0 }, "is not in the plan lvsctl computes"},
		{"a forged waiting real server", func(f *File) {
			f.Plan.Waiting = append(f.Plan.Waiting, Waiting{Service: web, Dest: conns(dest("192.168.10.100:80", 0), 1, 1)})
		}, "real server 192.168.10.100:80 of tcp 10.0.0.2:80 is listed as draining, which lvsctl does not compute"},
		// Without its connections in the plan, the real server is idle:
		// lvsctl deletes it instead of waiting.
		{"a waiting real server left out", func(f *File) { f.Plan.Waiting = f.Plan.Waiting[1:] },
			"it lacks the operation to delete real server 192.168.10.102:80 from tcp 10.0.0.2:80"},
		{"a waiting real server without connections", func(f *File) { f.Plan.Waiting[0].Dest.Live = lvs.DestLive{} },
			"it lacks the operation to delete real server 192.168.10.102:80 from tcp 10.0.0.2:80"},
		{"a forged dropped real server", func(f *File) {
			f.Plan.Dropped = append(f.Plan.Dropped, Dropped{Service: dns, Dest: dest("192.168.10.9:53", 1)})
		}, "real server 192.168.10.9:53 of udp 10.0.0.2:53 is listed as deleted with its service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := sampleFile(t)
			if len(f.Plan.Ops) != 3 || len(f.Plan.Waiting) != 2 || len(f.Plan.Dropped) != 1 {
				t.Fatalf("the sample plan changed: %s", opsString(f.Plan.Ops))
			}
			tc.tamper(f)
			got, err := saveAndRead(t, f)
			if err != nil {
				t.Fatalf("ReadFile refuses what only Check can tell: %v", err)
			}
			err = got.Check(live)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check: err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// ReadFile refuses a plan with values the kernel would refuse or garble,
// and names that would garble a terminal, before anything else runs.
func TestReadFileValidates(t *testing.T) {
	// The operation that adds real1 to web in createFile's plan.
	const real1 = 4
	if f, _ := createFile(t); f.Plan.Ops[real1].Action != AddDest || f.Plan.Ops[real1].ToDest.Addr.String() != "192.168.10.100:80" {
		t.Fatalf("the create plan changed:%s", opsString(f.Plan.Ops))
	}
	for _, tc := range []struct {
		name   string
		tamper func(f *File)
		want   string
	}{
		{"forwarding method 7 in an operation", func(f *File) { f.Plan.Ops[real1].ToDest.Opts.Forward = 7 },
			"operation 5 (add real server 192.168.10.100:80 to tcp 10.0.0.2:80) is not valid: unknown forwarding method 7"},
		{"forwarding method 7 in the desired table", func(f *File) { f.Desired.Services[0].Dests[0].Opts.Forward = 7 },
			"the plan's desired table is not valid: service tcp 10.0.0.2:80: real server 192.168.10.100:80: unknown forwarding method 7"},
		{"a weight above the range", func(f *File) { f.Plan.Ops[real1].ToDest.Opts.Weight = 1 << 32 },
			"weight must be between 0 and 65535, not 4294967296"},
		{"an unknown scheduler", func(f *File) { f.Plan.Ops[0].To.Scheduler = "evil" },
			`operation 1 (add service tcp 10.0.0.2:80) is not valid: unknown scheduler "evil"`},
		{"a threshold above INT_MAX", func(f *File) { f.Plan.Ops[real1].ToDest.Opts.UpperThreshold = 1 << 31 },
			"upper threshold 2147483648 is above the kernel's limit"},
		{"a timeout above the kernel's", func(f *File) {
			f.Plan.Ops = slices.Insert(f.Plan.Ops, 0, Op{Action: SetTimeouts, ToTimeouts: lvs.Timeouts{TCP: (lvs.MaxConnTimeout + 1) * time.Second}})
		}, "operation 1 (set the connection timeouts to tcp 596h31m24s, tcp_fin 0s, udp 0s) is not valid: timeout tcp of 2147484s is longer than the kernel accepts"},
		{"a desired timeout above the kernel's", func(f *File) { f.Desired.Timeouts.UDP = (lvs.MaxConnTimeout + 1) * time.Second },
			"the plan's desired table is not valid: timeout udp of 2147484s"},
		{"a duplicate service", func(f *File) { f.Desired.Services = append(f.Desired.Services, f.Desired.Services[0]) },
			"is declared twice"},
		{"a control character in a name", func(f *File) { f.Desired.Services[0].Name = "web\x1b[2J" },
			`the name "web\x1b[2J" contains a control character`},
		{"a control character in an operation's name", func(f *File) { f.Plan.Ops[0].ServiceName = "\a" },
			"operation 1 (add service tcp 10.0.0.2:80) is not valid: a name contains a control character"},
		{"an edit that moves a real server", func(f *File) {
			op := f.Plan.Ops[real1]
			f.Plan.Ops[real1] = Op{Action: EditDest, Service: op.Service, FromDest: dest("192.168.10.9:80", 1), ToDest: op.ToDest}
		}, "it changes real server 192.168.10.9:80 into 192.168.10.100:80"},
		{"a drain that changes more than the weight", func(f *File) {
			f.Plan.Ops = append(f.Plan.Ops, Op{Action: DrainDest, Service: tcp("10.0.0.2:80"),
				FromDest: dest("192.168.10.100:80", 1), ToDest: fwd(dest("192.168.10.100:80", 0), lvs.Route)})
		}, "a drain may only set the weight of a real server to 0"},
		{"a fingerprint that is not one", func(f *File) { f.Fingerprint = "sha256:nope" }, "fingerprint"},
		{"a negative drain timeout", func(f *File) { f.DrainTimeout = -time.Second }, "drain timeout -1s is negative"},
		{"a control character in the version", func(f *File) { f.Version = "1\r" }, "contains a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := createFile(t)
			tc.tamper(f)
			_, err := saveAndRead(t, f)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refusing it: make a new plan") {
				t.Fatalf("ReadFile: err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	f, live := createFile(t)
	got, err := saveAndRead(t, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Check(live); err != nil {
		t.Fatalf("the untampered plan: %v", err)
	}
}

// The decoder refuses what the format does not have.
func TestDecodeFileStrict(t *testing.T) {
	f, _ := createFile(t)
	path := filepath.Join(t.TempDir(), "web.plan")
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeFile(data, "web.plan"); err != nil {
		t.Fatalf("the plan as written: %v", err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"trailing data":     {append(slices.Clone(data), "{}"...), "data after the plan"},
		"trailing garbage":  {append(slices.Clone(data), "x"...), "data after the plan"},
		"unknown field":     {[]byte(strings.Replace(string(data), `"netns"`, `"evil": 1, "netns"`, 1)), `unknown field "evil"`},
		"unknown op field":  {[]byte(strings.Replace(string(data), `"action"`, `"flush": true, "action"`, 1)), `unknown field "flush"`},
		"unknown action":    {[]byte(strings.Replace(string(data), `"add_service"`, `"flush"`, 1)), `unknown plan action "flush"`},
		"desired is null":   {[]byte(strings.Replace(string(data), `"desired": {`, `"desired": null, "x": {`, 1)), "damaged plan file"},
		"a number too big":  {[]byte(strings.Replace(string(data), `"forward": 0`, `"forward": 256`, 1)), "damaged plan file"},
		"a negative number": {[]byte(strings.Replace(string(data), `"port": 80`, `"port": -1`, 1)), "damaged plan file"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeFile(tc.data, "web.plan"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// ReadFile reads only a regular file that root or the effective user owns
// and that nobody else may read or write, and never follows a link.
func TestReadFileRefusesUnsafeFiles(t *testing.T) {
	f, _ := createFile(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "web.plan")
	if err := WriteFile(good, f); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(good); err != nil {
		t.Fatalf("a plan as WriteFile writes it: %v", err)
	}
	for _, mode := range []os.FileMode{0o644, 0o666, 0o640, 0o620, 0o604, 0o602, 0o700 | 0o070} {
		t.Run(mode.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "web.plan")
			if err := WriteFile(p, f); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(p)
			if err == nil || !strings.Contains(err.Error(), "must not be readable or writable by group or others") {
				t.Errorf("ReadFile of a plan with mode %v: err = %v", mode, err)
			}
		})
	}
	if err := os.Chmod(good, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(good); err != nil {
		t.Errorf("a read-only plan: %v", err)
	}

	link := filepath.Join(dir, "link.plan")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(link); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("ReadFile through a symbolic link: err = %v", err)
	}
	fifo := filepath.Join(dir, "fifo.plan")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, dir, "/dev/zero"} {
		if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Errorf("ReadFile(%s): err = %v", p, err)
		}
	}

	// Ownership: the check itself, and a real file when the test may chown.
	fi, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	uid := int(fi.Sys().(*syscall.Stat_t).Uid)
	if err := checkFileInfo(good, fi, uid); err != nil {
		t.Errorf("a plan the user owns: %v", err)
	}
	if uid != 0 {
		if err := checkFileInfo(good, fi, uid+1); err == nil || !strings.Contains(err.Error(), "not by root or you") {
			t.Errorf("a plan another user owns: err = %v", err)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	if err := os.Chown(good, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(good)
	if err == nil || !strings.Contains(err.Error(), "is owned by uid 65534, not by root or you (uid 0)") {
		t.Errorf("ReadFile of a plan nobody owns, as root: err = %v", err)
	}
}

// FuzzDecodeFile feeds the plan file decoder arbitrary bytes; the seeds
// are in testdata/fuzz/FuzzDecodeFile (a plan as written, tampered ones,
// near misses). Whatever it accepts is a valid plan in canonical form that
// survives another save and load, and checking it never panics.
func FuzzDecodeFile(f *testing.F) {
	cf, _ := createFile(f)
	seed, err := json.Marshal(toWireFile(cf))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"kind":"lvsctl-plan","format_version":1}`))
	// A plan made against a dump, which records what the dump lacked.
	cf.Plan.Unknown = lvs.UnknownTimeouts | lvs.UnknownThresholds
	if seed, err = json.Marshal(toWireFile(cf)); err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := decodeFile(data, "fuzz.plan")
		if err != nil {
			if pf != nil {
				t.Fatal("a plan and an error")
			}
			return
		}
		if err := pf.Validate(); err != nil {
			t.Fatalf("an accepted plan does not validate: %v", err)
		}
		if ps := pf.Desired.Validate(); len(ps) > 0 {
			t.Fatalf("the accepted desired table has problems once normalized: %v", ps)
		}
		again, err := json.Marshal(toWireFile(pf))
		if err != nil {
			t.Fatalf("an accepted plan cannot be saved: %v", err)
		}
		pf2, err := decodeFile(again, "fuzz.plan")
		if err != nil {
			t.Fatalf("a saved accepted plan is refused: %v\n%s", err, again)
		}
		if !slices.Equal(pf2.Plan.Ops, pf.Plan.Ops) || !slices.Equal(pf2.Plan.Waiting, pf.Plan.Waiting) ||
			!slices.Equal(pf2.Plan.Dropped, pf.Plan.Dropped) || !servicesEqual(pf2.Desired.Services, pf.Desired.Services) ||
			pf2.Desired.Timeouts != pf.Desired.Timeouts || pf2.Fingerprint != pf.Fingerprint || pf2.DrainTimeout != pf.DrainTimeout ||
			pf2.Plan.Unknown != pf.Plan.Unknown {
			t.Fatalf("an accepted plan changed in a save and load")
		}
		// Check against tables it was not planned against: no panic, and
		// a plan with operations never matches the desired table itself.
		if err := pf.Check(pf.Desired); err == nil && len(pf.Plan.Ops) > 0 {
			if p := Diff(pf.Desired, pf.Desired, Options{Drain: pf.DrainTimeout > 0}); len(p.Ops) == 0 {
				t.Fatalf("Check accepts %d operations where none are needed", len(pf.Plan.Ops))
			}
		}
		_ = pf.Check(&lvs.Table{})
	})
}

// A saved plan names the settings apply writes as root: only those lvsctl
// manages, with values in their ranges, each op from and to one setting,
// and the ops exactly those the desired settings need against the live
// values.
func TestValidateRefusesHostileSysctls(t *testing.T) {
	live := &lvs.Table{Sysctls: []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "0"}}}
	desired := &lvs.Table{Sysctls: []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"}}}
	good := func() *File {
		return &File{Fingerprint: Fingerprint(live, lvs.Ignore{}), SysctlsRead: true, Desired: desired.Clone(), Plan: Diff(live, desired, Options{})}
	}
	f, err := saveAndRead(t, good())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Plan.Ops) != 1 || f.Plan.Ops[0].Action != SetSysctl || !f.SysctlsRead {
		t.Fatalf("the plan read back is %+v", f)
	}
	if err := f.Check(live); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, tc := range []struct {
		name   string
		tamper func(f *File)
		want   string
	}{
		{"a file outside the catalog", func(f *File) {
			f.Plan.Ops[0].ToSysctl.Name = "kernel.core_pattern"
			f.Plan.Ops[0].FromSysctl.Name = "kernel.core_pattern"
		}, `"kernel.core_pattern" is not a kernel setting lvsctl manages`},
		{"a path", func(f *File) { f.Plan.Ops[0].ToSysctl.Name = "net/ipv4/../../kernel/core_pattern" }, "is not a kernel setting lvsctl manages"},
		{"out of range", func(f *File) { f.Plan.Ops[0].ToSysctl.Value = "2" }, "value 2 is out of range 0..1"},
		{"not a number", func(f *File) { f.Plan.Ops[0].ToSysctl.Value = "1\n0" }, "is not a decimal integer"},
		{"another setting", func(f *File) { f.Plan.Ops[0].FromSysctl.Name = "net.ipv4.vs.conntrack" }, "it changes sysctl net.ipv4.vs.conntrack into net.ipv4.ip_forward"},
		{"a control character", func(f *File) { f.Plan.Ops[0].FromSysctl.Value = "0\x1b[2J" }, "control character"},
		{"a bad desired setting", func(f *File) { f.Desired.Sysctls[0].Value = "9" }, "the plan's desired table is not valid: sysctl net.ipv4.ip_forward: value 9 is out of range 0..1"},
		{"a desired setting twice", func(f *File) { f.Desired.Sysctls = append(f.Desired.Sysctls, f.Desired.Sysctls[0]) }, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := good()
			tc.tamper(f)
			_, err := saveAndRead(t, f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	// Valid values, but not what the desired settings need: Check refuses.
	f = good()
	f.Plan.Ops[0].ToSysctl.Value = "0"
	f.Desired.Sysctls[0].Value = "1"
	if err := f.Check(live); err == nil || !strings.Contains(err.Error(), "set sysctl net.ipv4.ip_forward to 0") {
		t.Errorf("Check of an op the desired table does not need: %v", err)
	}
}
