package keepalived

import (
	"maps"
	"slices"

	closest "github.com/lvsctl/lvsctl/internal/suggest"
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
// w (see suggest.Closest; of equally close words, the first in sorted
// order), or "".
func suggest(w string, words []string) string {
	best := closest.Closest(w, slices.Sorted(slices.Values(words)))
	if best == "" {
		return ""
	}
	return `; did you mean "` + best + `"?`
}

// orManual is a suggestion, or the pointer to the manual when there is
// none.
func orManual(s string) string {
	if s == "" {
		return "; check its spelling (keepalived.conf(5))"
	}
	return s
}
