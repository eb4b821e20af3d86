package app

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/thunaivi/thunaivi/internal/config"
)

// transportSummary says, for the trust page and documents, how traffic
// reaches the product as this server is configured.
func transportSummary(cfg *config.Config) string {
	const beyond = " Mail, webhooks and calls to an LLM provider leave over TLS with " +
		"verified certificates."
	switch {
	case cfg.HTTPS():
		source := "certificate files the operator provides"
		switch {
		case cfg.ACMEDomain != "":
			source = "a certificate an ACME service issues for " + cfg.ACMEDomain
		case cfg.SelfSigned:
			source = "a self-signed certificate (a trial setup)"
		}
		return "HTTPS served by the product itself with " + source + ": TLS 1.2 and 1.3 " +
			"only, forward-secret AEAD cipher suites, and HSTS for a year." + beyond
	case overHTTPS(cfg.PublicURL) && len(cfg.TrustedProxies) > 0:
		return "HTTPS at the public address, terminated by the operator's reverse proxy, " +
			"which alone may reach the product in plain HTTP." + beyond
	}
	return "Plain HTTP on this machine's loopback address only, a trial setup: the " +
		"product refuses to serve plain HTTP beyond this machine." + beyond
}

// mailRelay is the host of the SMTP relay the product's mail goes through,
// named as a sub-processor; empty when mail is only written to the outbox.
func mailRelay(raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return ""
	}
	return u.Hostname()
}

// publishServiceTerms records the operator's terms file as the current
// version of the hosted service's terms, for admins to accept.
func (a *App) publishServiceTerms(ctx context.Context, path string) error {
	if path == "" {
		return nil
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: THUNAIVI_SERVICE_TERMS_FILE: %w", err)
	}
	t, err := a.Compliance.PublishTerms(ctx, string(body))
	if err != nil {
		return fmt.Errorf("config: THUNAIVI_SERVICE_TERMS_FILE %s: %w", path, err)
	}
	a.Log.Info("Service terms published", "version", t.Version, "sha256", t.SHA256[:12])
	return nil
}
