package keepalived

import (
	"maps"
	"slices"
)

// The keywords of each block, for suggesting one in place of a misspelt
// keyword. The readers' switches decide what each means; these lists only
// name them.
var (
	timingWords = []string{"delay_loop", "connect_timeout", "delay_before_retry", "warmup", "retry", "nb_get_retry", "virtualhost", "alpha", "inhibit_on_failure"}
	vsWords     = append([]string{"real_server", "lb_algo", "lvs_sched", "ops", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback",
		"mh-port", "mh-fallback", "hashed", "lb_kind", "lvs_method", "persistence_timeout", "persistence_granularity",
		"persistence_engine", "protocol", "ip_family", "weight", "sorry_server", "sorry_server_inhibit", "sorry_server_lvs_method",
		"quorum", "hysteresis", "omega", "nat_mask", "quorum_up", "quorum_down", "ha_suspend", "smtp_alert", "snmp_name"}, timingWords...)
	rsWords = append([]string{"weight", "lvs_method", "uthreshold", "lthreshold", "notify_up", "notify_down", "smtp_alert", "snmp_name",
		"TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "DNS_CHECK", "SMTP_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK"}, timingWords...)
	checkerWords = append([]string{"connect_port", "connect_ip", "bindto", "bind_port", "bind_if", "fwmark", "log_all_failures",
		"url", "http_protocol", "enable_sni", "sni_name", "fast_recovery", "tls_compliant", "misc_path", "misc_timeout",
		"misc_dynamic", "user", "helo_name", "host", "type", "name"}, timingWords...)
	urlWords  = []string{"path", "digest", "status_code", "virtualhost", "regex", "regex_no_match", "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack", "tls_compliant"}
	vrrpWords = append(slices.Collect(maps.Keys(vrrpNotes)), "state", "interface", "interfaces", "linkbeat_interfaces", "unicast_src_ip",
		"mcast_src_ip", "unicast_peer", "priority", "advert_int", "nopreempt", "preempt", "notify_master", "notify_backup",
		"virtual_ipaddress", "authentication", "lvs_sync_daemon_interface")
	globalWords = append(slices.Collect(maps.Keys(globalNotes)), "lvs_timeouts", "lvs_sync_daemon")
	topWords    = slices.Collect(maps.Keys(topKeywords))
)

// suggest returns `; did you mean "W"?` for the word of words closest to
// w, when it is at most two edits away, or "".
func suggest(w string, words []string) string {
	best, dist := "", 3
	for _, c := range slices.Sorted(slices.Values(words)) {
		if d := distance(w, c, dist); d < dist {
			best, dist = c, d
		}
	}
	if best == "" || len(w) > 64 {
		return ""
	}
	return `; did you mean "` + best + `"?`
}

// distance is the edit distance of a and b (insertions, deletions,
// substitutions and swaps of two neighbours), or limit when it is at
// least limit.
func distance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 || abs(len(a)-len(b)) >= limit {
		return limit
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// orManual is a suggestion, or the pointer to the manual when there is
// none.
func orManual(s string) string {
	if s == "" {
		return "; check its spelling (keepalived.conf(5))"
	}
	return s
}
