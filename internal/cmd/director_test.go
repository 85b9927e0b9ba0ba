package cmd

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// What the commands of a SIGKILLed pulse left running is killed by the
// next run, found by its tag; other processes are left alone.
func TestKillLeftovers(t *testing.T) {
	start := func(env string) *exec.Cmd {
		c := exec.Command("sleep", "1000")
		c.Env = append(os.Environ(), env)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	left := start("LVSCTL_DAEMON_COMMAND=netns-1-2")
	other := start("LVSCTL_DAEMON_COMMAND=netns-1-3") // another namespace's daemon
	killLeftovers("LVSCTL_DAEMON_COMMAND=netns-1-2", slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- left.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the leftover is still running")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", other.Process.Pid))
	if i := strings.LastIndexByte(string(data), ')'); err != nil || i < 0 || i+2 >= len(data) || data[i+2] == 'Z' {
		t.Fatalf("another namespace's command was killed: %q", data)
	}
}
