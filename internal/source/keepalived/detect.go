package keepalived

import (
	"bytes"
	"strings"
)

// topKeywords are the keywords keepalived takes at the top level; none
// but virtual_server is lvsctl's HCL, whose virtual_server has a quoted
// label.
var topKeywords = map[string]bool{
	"global_defs": true, "virtual_server": true, "virtual_server_group": true, "vrrp_instance": true,
	"vrrp_sync_group": true, "vrrp_script": true, "vrrp_track_process": true, "vrrp_track_file": true,
	"track_file": true, "track_group": true, "static_ipaddress": true, "static_routes": true, "static_rules": true,
	"garp_group": true, "bfd_instance": true, "SSL": true, "net_namespace": true, "net_namespace_ipvs": true,
	"namespace_with_ipsets": true, "instance": true, "use_pid_dir": true, "linkbeat_use_polling": true,
	"child_wait_time": true,
}

// Detect reports whether src reads as a keepalived.conf: its first line
// that is not blank or a comment ("#" or "!") starts with a keyword of
// keepalived's top level (or an include, a conditional @ID line, a $
// definition), and is not HCL (a virtual_server with a quoted label). It
// reads only as far as that line.
func Detect(src []byte) bool {
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if len(line) > MaxLineLength {
			return false
		}
		s := strings.TrimLeft(string(line), " \t\r")
		if s == "" || s[0] == '#' || s[0] == '!' {
			continue
		}
		if s[0] == '@' || s[0] == '$' || strings.HasPrefix(s, "~SEQ") || strings.HasPrefix(s, "~LST") {
			return true
		}
		if _, ok := includePattern(strings.TrimRight(s, " \t\r")); ok {
			return true
		}
		f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '{' })
		if len(f) == 0 || !topKeywords[f[0]] {
			return false
		}
		if f[0] == "virtual_server" {
			return len(f) > 1 && !strings.HasPrefix(f[1], `"`) && !strings.HasPrefix(f[1], "=")
		}
		return true
	}
	return false
}

// Looks reports whether src has lines only keepalived writes: a keyword
// of keepalived's (lb_algo, real_server ADDRESS, vrrp_instance...) at the
// start of a line anywhere in its first megabyte. It is for telling a
// keepalived.conf that [Detect] does not recognise (one that starts with
// something else) from a broken HCL file, to say what it is.
func Looks(src []byte) bool {
	src = src[:min(len(src), 1<<20)]
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		f := strings.Fields(string(line))
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "lb_algo", "lvs_sched", "lb_kind", "lvs_method", "delay_loop", "vrrp_instance", "virtual_server_group", "global_defs",
			"virtual_router_id", "unicast_peer", "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK":
			return true
		case "real_server", "virtual_server":
			if !strings.HasPrefix(f[1], `"`) {
				return true
			}
		}
	}
	return false
}
