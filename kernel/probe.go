package kernel

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
)

// IPVS_CMD_GET_INFO and its attributes (linux/ip_vs.h).
const (
	cmdGetInfo          = 15
	infoAttrVersion     = 1
	infoAttrConnTabSize = 2
	infoAttrMax         = 2
)

// Info is what [Probe] found out about a kernel's IPVS.
type Info struct {
	// Version is IPVS's own version ("1.2.1"); "" when it could not be
	// read (it needs CAP_NET_ADMIN).
	Version string
	// ConnTabSize is the number of buckets of the connection hash table
	// (the ip_vs module's conn_tab_bits), 0 when unknown.
	ConnTabSize uint32
}

// Probe tells whether the kernel has IPVS, from the network namespace
// netns (spelled as [NetnsPath] reads it), without changing anything: it
// lists the generic netlink families, which unlike looking IPVS up by
// name never loads the ip_vs module, and then asks IPVS for its version.
// A kernel without IPVS is [ErrNoIPVS]; reading the version needs
// CAP_NET_ADMIN, and without it Info has no version and err is nil.
func Probe(netns string) (Info, error) {
	path, err := NetnsPath(netns)
	if err != nil {
		return Info{}, err
	}
	id, err := probeFamily(path)
	if err != nil {
		return Info{}, err
	}
	c, err := dial(path)
	if err != nil {
		return Info{}, err
	}
	defer c.close()
	if c.family != id {
		return Info{}, fmt.Errorf("the IPVS netlink family changed its id while it was probed (ip_vs was reloaded?)")
	}
	var info Info
	var m msgBuf
	m.begin(cmdGetInfo)
	err = c.request(c.message(netlink.Acknowledge, 0, m.b), func(body []byte) error {
		i, err := decodeInfoMsg(body)
		info = i
		return err
	})
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return Info{}, nil
	}
	if err != nil {
		return Info{}, &readError{"read the IPVS version", err}
	}
	return info, nil
}

// decodeInfoMsg decodes the answer to IPVS_CMD_GET_INFO.
func decodeInfoMsg(body []byte) (Info, error) {
	p, err := genlPayload(body)
	if err != nil {
		return Info{}, err
	}
	var a [infoAttrMax + 1][]byte
	if err := parseAttrs(p, a[:]); err != nil {
		return Info{}, err
	}
	var info Info
	if len(a[infoAttrVersion]) >= 4 {
		v := getU32(a[infoAttrVersion])
		info.Version = fmt.Sprintf("%d.%d.%d", v>>16&0xff, v>>8&0xff, v&0xff)
	}
	info.ConnTabSize = getU32(a[infoAttrConnTabSize])
	return info, nil
}
