package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// ServeMetrics serves h at /metrics, and nothing else, on addr until ctx
// ends. The listener answers without signing in, so it refuses an address
// that is not loopback: 127.0.0.0/8, ::1, or localhost when every address it
// resolves to is one of those.
func ServeMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	bind, err := loopback(ctx, addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return fmt.Errorf("app: metrics listener on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10}
	log.Info("Serving metrics", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("app: metrics listener: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("app: metrics listener: %w", err)
	}
	return nil
}

// loopback returns addr with its host as a loopback IP, or an error when the
// host is not loopback. localhost is resolved here, and bound by the address
// it resolved to, so that what is checked is what is bound.
func loopback(ctx context.Context, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("app: metrics address %q: %w", addr, err)
	}
	refuse := fmt.Errorf("app: the metrics listener answers without signing in, so it "+
		"binds only to a loopback address (127.0.0.1, ::1 or localhost), not %q", host)
	if strings.EqualFold(host, "localhost") {
		ip, err := resolveLoopback(ctx, host)
		if err != nil {
			return "", fmt.Errorf("%w: %w", refuse, err)
		}
		return net.JoinHostPort(ip.String(), port), nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", refuse
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// resolveLoopback resolves host and returns its first IPv4 address, or its
// first address when it has no IPv4 one; it fails when any is not loopback.
func resolveLoopback(ctx context.Context, host string) (net.IP, error) {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	var pick net.IP
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return nil, fmt.Errorf("%s resolves to %s", host, a.IP)
		}
		if pick == nil || (pick.To4() == nil && a.IP.To4() != nil) {
			pick = a.IP
		}
	}
	if pick == nil {
		return nil, fmt.Errorf("%s resolves to no address", host)
	}
	return pick, nil
}
