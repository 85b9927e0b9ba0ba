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
// of keepalived's (lb_algo 1, real_server ADDRESS, vrrp_instance V...)
// followed by a value that is not HCL's "=" or a quoted label, at the
// start of a line in its first megabyte. It is for telling a piece of
// keepalived.conf that [Detect] does not recognise (an included file, one
// that starts with something else) from a broken HCL file, so as to say
// what it is.
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
		if len(f) < 2 || strings.HasPrefix(f[1], "=") || strings.HasPrefix(f[1], `"`) {
			continue
		}
		if keepalivedWords[f[0]] {
			return true
		}
	}
	return false
}

// keepalivedWords are keywords keepalived has and lvsctl's HCL has not
// (or has only as "name = value" or with a quoted label).
var keepalivedWords = func() map[string]bool {
	m := map[string]bool{}
	for k := range topKeywords {
		m[k] = true
	}
	for k := range globalNotes {
		m[k] = true
	}
	for k := range vrrpNotes {
		m[k] = true
	}
	for k := range checkerNotes {
		m[k] = true
	}
	for _, k := range converted {
		m[k] = true
	}
	for _, k := range []string{
		"real_server", "sorry_server", "lb_algo", "lvs_sched", "lb_kind", "lvs_method", "delay_loop", "connect_timeout",
		"connect_port", "connect_ip", "persistence_timeout", "persistence_granularity", "inhibit_on_failure",
		"uthreshold", "lthreshold", "delay_before_retry", "nb_get_retry", "misc_path", "misc_timeout", "status_code",
		"digest", "virtualhost", "helo_name", "unicast_peer", "unicast_src_ip", "virtual_ipaddress", "advert_int",
		"virtual_router_id", "state", "lvs_timeouts", "lvs_sync_daemon", "fwmark",
	} {
		m[k] = true
	}
	return m
}()
