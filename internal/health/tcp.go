package health

import (
	"context"
	"net/netip"

	"github.com/lvsctl/lvsctl/internal/model"
)

func init() { register(probeTCP, nil) }

// probeTCP connects to addr: a connection accepted passes.
func probeTCP(ctx context.Context, _ model.TCPProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
