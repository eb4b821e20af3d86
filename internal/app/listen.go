package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/https"
)

// listeners are serve's: the product's own, over HTTPS or plain HTTP, and
// the plain-HTTP one that only redirects to HTTPS.
type listeners struct {
	srv   *http.Server
	ln    net.Listener
	certs *https.Certificates
	// redirect and redirectLn are nil without a redirecting listener.
	redirect   *http.Server
	redirectLn net.Listener
	hangup     chan os.Signal
	log        *slog.Logger
	// addr is where the product listens, and over says how.
	addr, over string
}

// listen prepares the certificate, when serving HTTPS, and binds the
// listeners. A self-signed certificate's fingerprint is printed to out.
func (a *App) listen(cfg *config.Config, srv *http.Server, log *slog.Logger,
	out io.Writer) (*listeners, error) {
	l := &listeners{srv: srv, log: log}
	if cfg.HTTPS() {
		certs, err := https.New(https.Source{CertFile: cfg.TLSCertFile,
			KeyFile: cfg.TLSKeyFile, ACMEDomain: cfg.ACMEDomain, ACMEEmail: cfg.ACMEEmail,
			ACMEDirectory: cfg.ACMEDirectory, SelfSigned: cfg.SelfSigned,
			Hosts: certHosts(cfg), DataDir: cfg.DataDir, Now: a.Now, Log: log})
		if err != nil {
			return nil, err
		}
		l.certs, l.over = certs, " over HTTPS"
		srv.TLSConfig = certs.TLSConfig()
		if certs.Fingerprint != "" {
			fmt.Fprintf(out, "Serving HTTPS with a self-signed certificate, for a trial. "+
				"Its SHA-256 fingerprint, to compare with your browser's warning:\n  %s\n",
				certs.Fingerprint)
		}
		if certs.Reloads() {
			l.hangup = make(chan os.Signal, 1)
			signal.Notify(l.hangup, syscall.SIGHUP)
		}
	}
	var err error
	if l.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		l.close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	l.addr = l.ln.Addr().String()
	if !cfg.Redirects() {
		return l, nil
	}
	h, err := l.certs.Redirect(cfg.PublicURL)
	if err != nil {
		l.close()
		return nil, err
	}
	if l.redirectLn, err = net.Listen("tcp", cfg.RedirectAddr); err != nil {
		l.close()
		return nil, fmt.Errorf("listen on %s (THUNAIVI_REDIRECT_ADDR): %w",
			cfg.RedirectAddr, err)
	}
	l.redirect = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	fmt.Fprintf(out, "Plain HTTP on %s redirects to HTTPS\n", l.redirectLn.Addr())
	return l, nil
}

// certHosts are the names and addresses a self-signed certificate is made
// for: the public URL's host, the listen address's when it names one, and
// this machine's.
func certHosts(cfg *config.Config) []string {
	var hosts []string
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	if h, _, err := net.SplitHostPort(cfg.Addr); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			hosts = append(hosts, h)
		}
	}
	hosts = append(hosts, "localhost", "127.0.0.1", "::1")
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// serve starts serving; a listener that stops reports to errc. Certificate
// files are read again on SIGHUP until ctx ends.
func (l *listeners) serve(ctx context.Context, errc chan<- error) {
	go func() {
		if l.certs != nil {
			errc <- l.srv.ServeTLS(l.ln, "", "")
			return
		}
		errc <- l.srv.Serve(l.ln)
	}()
	if l.redirect != nil {
		go func() { errc <- l.redirect.Serve(l.redirectLn) }()
	}
	if l.hangup != nil {
		go l.reloadOnHangup(ctx)
	}
}

func (l *listeners) reloadOnHangup(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.hangup:
		}
		if err := l.certs.Reload(); err != nil {
			l.log.Error("The certificate files were not read again; the previous "+
				"certificate is still served", "error", err)
			continue
		}
		l.log.Info("Read the certificate files again")
	}
}

// shutdown stops accepting and lets open requests finish until ctx ends.
func (l *listeners) shutdown(ctx context.Context) error {
	l.srv.SetKeepAlivesEnabled(false)
	var errs []error
	if l.redirect != nil {
		errs = append(errs, l.redirect.Shutdown(ctx))
	}
	errs = append(errs, l.srv.Shutdown(ctx))
	err := errors.Join(errs...)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// close releases what listen took; after serve has started, shutdown closes
// the listeners themselves.
func (l *listeners) close() {
	if l.hangup != nil {
		signal.Stop(l.hangup)
	}
	for _, ln := range []net.Listener{l.ln, l.redirectLn} {
		if ln != nil {
			ln.Close()
		}
	}
}
