package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry is a Prometheus registry with lvsctl_build_info and the Go
// runtime's and the process's own metrics, for check's and pulse's
// --metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(buildInfoGauge(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// buildInfoGauge is lvsctl_build_info, 1 with the build in its labels: the
// convention for a build's identity (join it to any series with
// "* on(instance) group_left(version) lvsctl_build_info"). The labels are
// what lvsctl version prints.
func buildInfoGauge() prometheus.Collector {
	bi, _ := debug.ReadBuildInfo()
	return buildInfoGaugeOf(readBuildInfo(bi))
}

func buildInfoGaugeOf(b buildInfo) prometheus.Collector {
	commit := b.commit
	if commit != "" && b.modified {
		commit += "-dirty"
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lvsctl_build_info",
		Help: "Always 1; the labels say which lvsctl runs: version, commit (with -dirty for a build from a modified tree) and goversion.",
		ConstLabels: prometheus.Labels{
			"version":   b.version,
			"commit":    commit,
			"goversion": b.goVer,
		},
	})
	g.Set(1)
	return g
}

// serveRegistry serves reg on addr at /metrics until ctx ends or stop is
// called. The address is bound before it returns, so that a port in use is
// an error at start, not a log line later.
func serveRegistry(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "address", addr, "error", err)
		}
	}()
	log.Info("serving metrics", "address", "http://"+ln.Addr().String()+"/metrics")
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return func() { close(done) }, nil
}
