package plan

import (
	"encoding/json"
	"io"
)

// JSONFormatVersion is the format_version of [RenderJSON]'s document. It
// changes only when a field changes meaning or goes away; new fields may
// appear within a version.
const JSONFormatVersion = "1"

// jsonPlan is the document RenderJSON writes:
//
//	{
//	  "format_version": "1",
//	  "changes": [
//	    {
//	      "action":  "create" | "update" | "delete" | "drain",
//	      "type":    "virtual_server" | "real_server" | "timeouts" | "sysctl",
//	      "name":    configuration name, or null; a sysctl's name
//	                 ("net.ipv4.ip_forward"),
//	      "reason":  why a sysctl the configuration does not name is set
//	                 ("IPv4 NAT"); absent otherwise,
//	      "service": "tcp 10.0.0.2:80" | "fwmark 100" (null for timeouts
//	                 and sysctls),
//	      "service_name": the virtual server's configuration name, or null,
//	      "address": "192.168.10.100:80" (real servers), "10.0.0.2:80"
//	                 (address services), null otherwise,
//	      "before":  attributes before, null for a create,
//	      "after":   attributes after, null for a delete,
//	      "with_service": true for a real server deleted with its service
//	    }
//	  ],
//	  "waiting": [ {"service", "service_name", "name", "address",
//	                "active_conns", "inactive_conns"} ],
//	  "summary": {"add": N, "change": N, "destroy": N},
//	  "unknown": ["timeouts", "upper_threshold", "lower_threshold", "tunnel"]
//	}
//
// before and after use the configuration's attribute names, nested blocks
// as objects: {"address": "10.0.0.2:80", "protocol": "tcp", "scheduler":
// "wlc", "persistence": {"timeout": "360s", "netmask": "255.255.255.255"}}.
// A sysctl has one, {"value": 1}, missing from before when the kernel has
// no such setting.
// Changes are in execution order. A drain is an update of weight to 0 of a
// real server that goes away. unknown, present only when the live table
// planned against lacked settings (an ipvsadm dump has no timeouts and no
// thresholds), names them: they were left out of the comparison, and an
// update's before side shows them as null.
type jsonPlan struct {
	FormatVersion string        `json:"format_version"`
	Changes       []jsonChange  `json:"changes"`
	Waiting       []jsonWaiting `json:"waiting"`
	Summary       jsonSummary   `json:"summary"`
	Unknown       []string      `json:"unknown,omitempty"`
}

type jsonChange struct {
	Action      string         `json:"action"`
	Type        string         `json:"type"`
	Name        *string        `json:"name"`
	Reason      string         `json:"reason,omitempty"`
	Service     *string        `json:"service"`
	ServiceName *string        `json:"service_name"`
	Address     *string        `json:"address"`
	Before      map[string]any `json:"before"`
	After       map[string]any `json:"after"`
	WithService bool           `json:"with_service,omitempty"`
}

type jsonWaiting struct {
	Service       string  `json:"service"`
	ServiceName   *string `json:"service_name"`
	Name          *string `json:"name"`
	Address       string  `json:"address"`
	ActiveConns   uint32  `json:"active_conns"`
	InactiveConns uint32  `json:"inactive_conns"`
}

type jsonSummary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// RenderJSON writes p as one JSON document for machines; see jsonPlan in
// the source for its fields. Unlike [Render] it does not merge a port change
// into a replacement: a consumer sees the create and the delete.
func RenderJSON(w io.Writer, p Plan) error {
	doc := jsonPlan{FormatVersion: JSONFormatVersion, Changes: []jsonChange{}, Waiting: []jsonWaiting{}}
	for _, c := range changes(p) {
		jc := jsonChange{Action: c.action, Type: c.typ, Name: optional(c.name), Reason: c.reason, WithService: c.dropped}
		if c.typ != "timeouts" && c.typ != "sysctl" {
			jc.Service, jc.ServiceName = optional(c.service.String()), optional(c.svcName)
		}
		switch {
		case c.typ == "real_server":
			jc.Address = optional(c.destAddr.String())
		case c.typ == "virtual_server" && !c.service.IsFWMark():
			jc.Address = optional(c.service.AddrPort().String())
		}
		if c.before != nil {
			jc.Before = attrsJSON(c.before)
		}
		if c.after != nil {
			jc.After = attrsJSON(c.after)
		}
		doc.Changes = append(doc.Changes, jc)
	}
	for _, wt := range p.Waiting {
		doc.Waiting = append(doc.Waiting, jsonWaiting{
			Service: wt.Service.String(), ServiceName: optional(wt.ServiceName), Name: optional(wt.Dest.Name),
			Address: wt.Dest.Addr.String(), ActiveConns: wt.Dest.Live.ActiveConns, InactiveConns: wt.Dest.Live.InactConns,
		})
	}
	doc.Summary.Add, doc.Summary.Change, doc.Summary.Destroy = p.Summary()
	doc.Unknown = p.Unknown.Names()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
