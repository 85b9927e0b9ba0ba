package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/cmd"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/realserver"
	"github.com/lvsctl/lvsctl/kernel"
)

// fourHost is the LVS HOWTO's layout as network namespaces: client
// 10.0.0.10; director with 10.0.0.1, the VIP 10.0.0.2 and 192.168.10.254;
// real1 192.168.10.100 and real2 192.168.10.101, each serving a page that
// names it, with the director as default gateway. The director's bridges
// are the "switches".
type fourHost struct {
	client, director string
	reals            []string // real1, real2: their namespace names
	stateDir         string
}

var (
	seq     atomic.Int64
	realIPs = []string{"192.168.10.100", "192.168.10.101"}
)

const vip = "10.0.0.2"

// newFourHost builds the layout. routed is LVS-NAT's: client and real
// servers on two segments with the director routing between them. Flat
// (for DR and TUN) puts everyone on one segment, and the real servers
// reach the client on it directly, so that their replies bypass the
// director as they do in those methods.
func newFourHost(t *testing.T, routed bool) *fourHost {
	t.Helper()
	n := seq.Add(1)
	h := &fourHost{
		client:   fmt.Sprintf("client-%d", n),
		director: fmt.Sprintf("director-%d", n),
		reals:    []string{fmt.Sprintf("real1-%d", n), fmt.Sprintf("real2-%d", n)},
		stateDir: t.TempDir(),
	}
	for _, ns := range append([]string{h.client, h.director}, h.reals...) {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	d := h.director
	clientBr, realBr := "br0", "br0"
	run(t, "ip", "-n", d, "link", "add", "br0", "type", "bridge")
	run(t, "ip", "-n", d, "link", "set", "br0", "up")
	if routed {
		realBr = "br1"
		run(t, "ip", "-n", d, "link", "add", "br1", "type", "bridge")
		run(t, "ip", "-n", d, "link", "set", "br1", "up")
	}
	run(t, "ip", "-n", d, "addr", "add", "10.0.0.1/24", "dev", clientBr)
	run(t, "ip", "-n", d, "addr", "add", vip+"/24", "dev", clientBr)
	run(t, "ip", "-n", d, "addr", "add", "192.168.10.254/24", "dev", realBr)
	writeSysctl(t, d, "net/ipv4/ip_forward", "1")

	plug := func(ns, port, br, addr string) {
		run(t, "ip", "-n", d, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
		run(t, "ip", "-n", d, "link", "set", port, "master", br, "up")
		run(t, "ip", "-n", ns, "addr", "add", addr, "dev", "eth0")
		run(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	}
	plug(h.client, "vclient", clientBr, "10.0.0.10/24")
	for i, ns := range h.reals {
		plug(ns, fmt.Sprintf("vreal%d", i+1), realBr, realIPs[i]+"/24")
		run(t, "ip", "-n", ns, "route", "add", "default", "via", "192.168.10.254")
		if !routed {
			// Replies go straight to the client over the shared segment.
			run(t, "ip", "-n", ns, "route", "add", "10.0.0.0/24", "dev", "eth0")
		}
		serve(t, ns, fmt.Sprintf("real%d", i+1))
	}
	return h
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func nsPath(ns string) string { return "/run/netns/" + ns }

func writeSysctl(t *testing.T, ns, name, value string) {
	t.Helper()
	err := netns.Do(nsPath(ns), func() error { return realserver.Linux{}.SetSysctl(name, value) })
	if err != nil {
		t.Fatalf("sysctl %s=%s in %s: %v", name, value, ns, err)
	}
}

func readSysctl(t *testing.T, ns, name string) string {
	t.Helper()
	var v string
	err := netns.Do(nsPath(ns), func() (err error) { v, err = realserver.Linux{}.Sysctl(name); return err })
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// bigBody is the size of the answer to GET /big: large enough that the
// director's counters tell whether it passed through the director.
const bigBody = 1 << 20

// serve runs an HTTP server on port 80 of every address of namespace ns
// that answers every request with name, and GET /big with name followed by
// bigBody bytes in all.
func serve(t *testing.T, ns, name string) {
	t.Helper()
	var ln net.Listener
	err := netns.Do(nsPath(ns), func() (err error) {
		ln, err = net.Listen("tcp", ":80")
		return err
	})
	if err != nil {
		t.Fatalf("listening in %s: %v", ns, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			body := append([]byte(name+"\n"), bytes.Repeat([]byte{'.'}, bigBody-len(name)-1)...)
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Write(body)
			return
		}
		fmt.Fprintf(w, "%s\n", name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// txBytes is how many bytes the interface dev of namespace ns has sent.
// A bridge's own counter counts what the namespace's IP stack sent
// through it, not the frames it forwards between its ports.
func txBytes(t *testing.T, ns, dev string) uint64 {
	t.Helper()
	var links []struct {
		Stats struct {
			TX struct {
				Bytes uint64 `json:"bytes"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	out := run(t, "ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -n %s -s -j link show dev %s: %v\n%s", ns, dev, err, out)
	}
	return links[0].Stats.TX.Bytes
}

// fetchBig gets /big through the VIP from the client, checks that all of
// it arrived, and returns which real server sent it.
func (h *fourHost) fetchBig(t *testing.T) string {
	t.Helper()
	c := h.dial(t)
	defer func() {
		c.(*net.TCPConn).SetLinger(0) // see fetch
		c.Close()
	}()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET /big HTTP/1.0\r\nHost: "+vip+"\r\n\r\n"); err != nil {
		t.Fatalf("sending a request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || len(b) != bigBody {
		t.Fatalf("GET /big through the VIP: %d bytes, %v; want %d", len(b), err, bigBody)
	}
	return string(b[:bytes.IndexByte(b, '\n')])
}

// checkReplyPath fetches /big (1 MiB) through the VIP and checks, by the
// director's own transmit counter on its client-side interface, whether
// the answer went through the director: for NAT it must (the director
// rewrites the replies), for DR and TUN it must not (the real servers
// answer the client directly, which is the point of those methods).
// Requests and the client's ACKs do pass the director in every method,
// a small fraction of the answer.
func checkReplyPath(t *testing.T, h *fourHost, viaDirector bool) {
	before := txBytes(t, h.director, "br0")
	by := h.fetchBig(t)
	sent := txBytes(t, h.director, "br0") - before
	t.Logf("%s sent %d bytes through the VIP; the director's br0 sent %d meanwhile", by, bigBody, sent)
	switch {
	case viaDirector && sent < bigBody:
		t.Errorf("the director sent %d bytes towards the client while the client received %d through the VIP: the replies did not go through the director", sent, bigBody)
	case !viaDirector && sent > bigBody/8:
		t.Errorf("the director sent %d bytes towards the client while the client received %d through the VIP: the replies did not bypass the director", sent, bigBody)
	}
}

// dial opens a TCP connection from the client namespace to the VIP.
func (h *fourHost) dial(t *testing.T) net.Conn {
	t.Helper()
	var c net.Conn
	err := netns.Do(nsPath(h.client), func() (err error) {
		c, err = net.DialTimeout("tcp", vip+":80", 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatalf("connecting to http://%s/ from the client: %v", vip, err)
	}
	return c
}

// get sends one HTTP/1.1 request on c (kept alive) and returns the body.
func get(t *testing.T, c net.Conn, br *bufio.Reader) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+vip+"\r\n\r\n"); err != nil {
		t.Fatalf("sending a request: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// fetch makes n requests, each on a new connection, and returns which real
// server answered each.
func (h *fourHost) fetch(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	for range n {
		c := h.dial(t)
		got = append(got, get(t, c, bufio.NewReader(c)))
		// A reset, not a FIN: IPVS forgets a reset connection after 10
		// seconds but keeps a closed one in TIME_WAIT for two minutes,
		// which would hold up a later drain.
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	return got
}

// lvsctl runs the real command line in-process (the production kernel over
// netlink) and returns its output and exit status.
func (h *fourHost) lvsctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := cmd.Main(context.Background(), append([]string{"lvsctl"}, args...), cmd.Env{
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &out,
		OpenKernel: func(ns string) (apply.Kernel, error) {
			k, err := kernel.Open(ns)
			if err != nil {
				return nil, err
			}
			return k, nil
		},
		StateDir: h.stateDir,
		Getenv:   func(string) string { return "" },
	})
	return out.String(), code
}

// mustLvsctl is lvsctl that fails the test unless the status is 0.
func (h *fourHost) mustLvsctl(t *testing.T, args ...string) string {
	t.Helper()
	out, code := h.lvsctl(t, args...)
	if code != 0 {
		t.Fatalf("lvsctl %s: exit status %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// apply writes cfg to a file and applies it to the director.
func (h *fourHost) apply(t *testing.T, cfg string, extra ...string) string {
	t.Helper()
	f := writeConfig(t, cfg)
	return h.mustLvsctl(t, append([]string{"apply", "--auto-approve", "--netns", h.director, "-f", f}, extra...)...)
}

func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(cfg); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

// ipvsadmSave is the director's table as ipvsadm itself prints it: the
// witness that does not go through lvsctl's code.
func (h *fourHost) ipvsadmSave(t *testing.T) string {
	t.Helper()
	return run(t, "ip", "netns", "exec", h.director, "ipvsadm", "-S", "-n")
}

// edit changes a configuration; it fails the test when the text it
// changes is no longer there, so that the tests follow the examples.
type edit func(t *testing.T, cfg string) string

// replace edits the last occurrence of old.
func replace(old, new string) edit {
	return func(t *testing.T, cfg string) string {
		t.Helper()
		i := strings.LastIndex(cfg, old)
		if i < 0 {
			t.Fatalf("the example no longer contains %q: update the test", old)
		}
		return cfg[:i] + new + cfg[i+len(old):]
	}
}

// replaceRE edits every match of the regular expression re.
func replaceRE(re, repl string) edit {
	rx := regexp.MustCompile(re)
	return func(t *testing.T, cfg string) string {
		t.Helper()
		if !rx.MatchString(cfg) {
			t.Fatalf("the example no longer matches %s: update the test", re)
		}
		return rx.ReplaceAllString(cfg, repl)
	}
}

// The edits that turn a four-host example into the variants the tests use.
var (
	toRR          = replaceRE(`(scheduler\s*=\s*)"wlc"`, `${1}"rr"`)
	noPersistence = replace("  persistence {\n    timeout = \"360s\"\n  }\n", "")
	real2Weight0  = replace("weight  = 1", "weight  = 0") // the last one is real2's
)

// without removes the real server block named name.
func without(name string) edit {
	return func(t *testing.T, cfg string) string {
		t.Helper()
		start := strings.Index(cfg, "  real_server \""+name+"\" {")
		if start < 0 {
			t.Fatalf("the example has no real server %q: update the test", name)
		}
		end := strings.Index(cfg[start:], "\n  }\n")
		return cfg[:start] + cfg[start+end+len("\n  }\n"):]
	}
}

// example reads examples/NAME with edits applied.
func example(t *testing.T, name string, edits ...edit) string {
	t.Helper()
	b, err := os.ReadFile("../examples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, e := range edits {
		s = e(t, s)
	}
	return s
}

var macRE = regexp.MustCompile(`link/ether ([0-9a-f:]{17})`)

func mac(t *testing.T, ns, dev string) string {
	t.Helper()
	m := macRE.FindStringSubmatch(run(t, "ip", "-n", ns, "-o", "link", "show", dev))
	if m == nil {
		t.Fatalf("no MAC address for %s in %s", dev, ns)
	}
	return m[1]
}
