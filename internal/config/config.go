// Package config reads Thunaivi's settings from flags and THUNAIVI_*
// environment variables, with a *_FILE variant for every secret, validates them
// at start and prints them with secrets redacted.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults, named so that help texts and docs quote the same values.
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultDataDir     = "./thunaivi-data"
	DefaultIPLimit     = 300
	DefaultWidgetLimit = 3000
	DefaultLogLevel    = "info"
	DefaultLogFormat   = "text"
	// DefaultAuditRetentionDays is how long audit entries are kept;
	// MinAuditRetentionDays is the floor no setting goes below.
	DefaultAuditRetentionDays = 400
	MinAuditRetentionDays     = 365
	// DefaultCheckpoints writes signed audit checkpoints to a file in the data
	// folder.
	DefaultCheckpoints = "file"
	// DefaultIdleAdmin and DefaultIdleMember are the idle timeouts of admins'
	// and others' sessions.
	DefaultIdleAdmin     = 15 * time.Minute
	DefaultIdleMember    = 30 * time.Minute
	envPrefix            = "THUNAIVI_"
	secretFileSuffix     = "_FILE"
	redacted             = "[redacted]"
	rateLimitsOffSetting = "off"
)

// DefaultAttachmentMaxMB is the largest file customers and agents may attach,
// in MiB; MaxAttachmentMaxMB the most it may be set to, since a file is held
// in memory and in the database whole.
const (
	DefaultAttachmentMaxMB = 10
	MaxAttachmentMaxMB     = 100
)

// Config holds the settings shared by the commands.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	// PublicURL is the address customers' browsers and agents use to reach
	// the product; it defaults to http://Addr.
	PublicURL string
	// RateLimits is false when THUNAIVI_RATE_LIMITS=off.
	RateLimits bool
	// IPLimit and WidgetLimit are requests per minute per client IP and per
	// widget token on the public widget endpoints.
	IPLimit     int
	WidgetLimit int
	LogLevel    string
	// LogFormat is text or json.
	LogFormat string
	// BreachAPI, when set, is a Pwned Passwords range service new passwords
	// are checked against (only a 5-digit hash prefix is sent).
	BreachAPI string
	// AuditKey is the secret the audit chain is keyed and its checkpoints
	// signed with (THUNAIVI_AUDIT_KEY or THUNAIVI_AUDIT_KEY_FILE). When empty,
	// a key file in the data folder is used, made on first start.
	AuditKey string
	// AuditCheckpoints names where signed checkpoints go: "file",
	// "file:PATH", "stdout" or "syslog".
	AuditCheckpoints string
	// AuditRetentionDays is how long audit entries are kept, at least 365.
	AuditRetentionDays int
	// MetricsAddr, when set, is a loopback address serving /metrics to
	// anyone who can reach it; without it /metrics is for admins only.
	MetricsAddr string
	// IdleAdmin and IdleMember are how long an admin's and anyone else's
	// session may go unused before it ends.
	IdleAdmin, IdleMember time.Duration
	// The suspicious-activity rules that end all of a user's sessions: a
	// session used from another network and browser, this many failed
	// second-factor codes in ten minutes (0 is off), a probing address.
	RevokeOnStolenSession   bool
	RevokeAfterCodeFailures int
	RevokeOnProbe           bool
	// SQLiteSync is "full" (every commit synced: acknowledged messages
	// survive a power loss) or "normal" (synced at checkpoints: they survive
	// a crash of the process, not a power loss of the machine, for about
	// twice the commits a second).
	SQLiteSync           string
	RevokeOnFailureBurst bool
	// BlockProbers answers an address that keeps probing with 404s a while.
	BlockProbers bool
	// AttachmentMaxMB is the largest file customers and agents may attach,
	// in MiB (THUNAIVI_ATTACHMENT_MAX_MB).
	AttachmentMaxMB int
	// MailURL is the SMTP server the product's mail goes through
	// (THUNAIVI_SMTP_URL or THUNAIVI_SMTP_URL_FILE): smtps://user:pass@host:465,
	// or smtp://user:pass@host:587 with STARTTLS. When empty, mail is written
	// to the outbox folder in the data folder, for a trial.
	MailURL string
	// MailFrom is the sender of the product's mail.
	MailFrom string
	// WebhookAllow are address ranges webhooks may be sent to although they
	// are private or loopback (THUNAIVI_WEBHOOK_ALLOW, comma-separated CIDR
	// ranges); none by default.
	WebhookAllow []netip.Prefix
	// LLMAllow are address ranges workspaces' LLM providers may be reached at
	// although they are private or loopback, such as a model served on the
	// operator's own network (THUNAIVI_LLM_ALLOW, comma-separated CIDR
	// ranges); none by default.
	LLMAllow []netip.Prefix
	// MasterKeyFile is the master keyring that seals secrets kept in the
	// database (THUNAIVI_MASTER_KEY_FILE); master.keys in the data folder
	// when empty.
	MasterKeyFile string
	// TLSCertFile and TLSKeyFile are PEM files holding the certificate
	// chain and its private key (THUNAIVI_TLS_CERT_FILE,
	// THUNAIVI_TLS_KEY_FILE), read again on SIGHUP and when they change.
	TLSCertFile, TLSKeyFile string
	// ACMEDomain has a certificate issued for it by an ACME service
	// (THUNAIVI_ACME_DOMAIN), kept in the data folder; ACMEEmail is the
	// contact the service warns of expiry, ACMEDirectory the service's
	// directory URL, Let's Encrypt's when empty.
	ACMEDomain, ACMEEmail, ACMEDirectory string
	// SelfSigned serves HTTPS with a certificate the product makes and
	// keeps in the data folder, for a trial (THUNAIVI_TLS_SELF_SIGNED).
	SelfSigned bool
	// RedirectAddr is a plain-HTTP listener that redirects every request to
	// HTTPS (THUNAIVI_REDIRECT_ADDR); port 80 of the listen host by default
	// when serving HTTPS on port 443, and "off" for none.
	RedirectAddr string
	// TrustedProxies are the reverse proxies, as addresses or CIDR ranges,
	// whose X-Forwarded-For, -Proto and -Host headers are believed
	// (THUNAIVI_TRUSTED_PROXIES). With one, serve may listen beyond this
	// machine in plain HTTP, for the proxy to speak HTTPS to browsers.
	TrustedProxies []netip.Prefix
	// SecurityTxtWorkspace names the workspace whose security contact the
	// host publishes at /.well-known/security.txt
	// (THUNAIVI_SECURITY_TXT_WORKSPACE); when empty, the server's only
	// workspace if it has one, and none on a server of several.
	SecurityTxtWorkspace string
	// ServiceTermsFile is the hosted service's terms, in Markdown, which
	// every workspace's admins are asked to accept
	// (THUNAIVI_SERVICE_TERMS_FILE); none when empty.
	ServiceTermsFile string

	limitsSetting *string
	// envErr is a malformed list setting in the environment, reported by
	// Finish.
	envErr error
}

// ranges reads a comma-separated list of IP addresses and CIDR ranges; an
// address is a range of one.
func ranges(setting, v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if a, err := netip.ParseAddr(r); err == nil {
			r = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()).String()
		}
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return nil, fmt.Errorf("config: %s: %q is not an IP address or CIDR range",
				setting, r)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// rangesFlag binds a list of ranges to a flag and its environment variable.
func (c *Config) rangesFlag(fs *flag.FlagSet, name, envName, usage string,
	dst *[]netip.Prefix) {
	setting := envPrefix + envName
	fs.Func(name, usage+" (env "+setting+")", func(v string) error {
		p, err := ranges(setting, v)
		*dst = p
		return err
	})
	if v := env(envName, ""); v != "" {
		p, err := ranges(setting, v)
		*dst = p
		c.envErr = errors.Join(c.envErr, err)
	}
}

// Storage binds the flags that say where data lives, for every command that
// opens the store.
func (c *Config) Storage(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", env("DATA", DefaultDataDir),
		"data folder for the embedded SQLite database (env THUNAIVI_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", "",
		"PostgreSQL URL; SQLite is used when empty "+
			"(env THUNAIVI_DATABASE_URL or THUNAIVI_DATABASE_URL_FILE)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", DefaultLogLevel),
		"debug, info, warn or error (env THUNAIVI_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", DefaultLogFormat),
		"text or json (env THUNAIVI_LOG_FORMAT)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", env("MASTER_KEY_FILE", ""),
		"the master keyring sealing secrets kept in the database; master.keys in the data "+
			"folder when empty (env THUNAIVI_MASTER_KEY_FILE)")
	fs.StringVar(&c.BreachAPI, "breached-password-api", env("BREACHED_PASSWORD_API", ""),
		"a Pwned Passwords range service to check new passwords against, such as "+
			"https://api.pwnedpasswords.com (env THUNAIVI_BREACHED_PASSWORD_API)")
	fs.StringVar(&c.AuditCheckpoints, "audit-checkpoints",
		env("AUDIT_CHECKPOINTS", DefaultCheckpoints),
		"where signed audit checkpoints go: file, file:PATH, stdout, syslog or "+
			"syslog:NETWORK:ADDRESS (env THUNAIVI_AUDIT_CHECKPOINTS)")
	fs.IntVar(&c.AuditRetentionDays, "audit-retention-days",
		envInt("AUDIT_RETENTION_DAYS", DefaultAuditRetentionDays),
		"days audit entries are kept, at least 365 (env THUNAIVI_AUDIT_RETENTION_DAYS)")
}

// Server binds the flags of a command that listens.
func (c *Config) Server(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("ADDR", DefaultAddr),
		"address to listen on (env THUNAIVI_ADDR)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", ""),
		"URL customers and agents reach the product at (env THUNAIVI_PUBLIC_URL)")
	c.rangesFlag(fs, "webhook-allow", "WEBHOOK_ALLOW", "private or loopback CIDR ranges "+
		"webhooks may still be sent to, comma-separated; none unless set", &c.WebhookAllow)
	c.rangesFlag(fs, "trusted-proxies", "TRUSTED_PROXIES", "reverse proxies, as IP "+
		"addresses or CIDR ranges, comma-separated, whose X-Forwarded-For, -Proto and -Host "+
		"headers are believed; from anyone else those headers are ignored", &c.TrustedProxies)
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", env("TLS_CERT_FILE", ""),
		"PEM certificate chain to serve HTTPS with, read again on SIGHUP and when it "+
			"changes (env THUNAIVI_TLS_CERT_FILE)")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", env("TLS_KEY_FILE", ""),
		"PEM private key of --tls-cert-file (env THUNAIVI_TLS_KEY_FILE)")
	fs.StringVar(&c.ACMEDomain, "acme-domain", env("ACME_DOMAIN", ""),
		"serve HTTPS with a certificate an ACME service issues for this domain, accepting "+
			"its terms; kept in the data folder (env THUNAIVI_ACME_DOMAIN)")
	fs.StringVar(&c.ACMEEmail, "acme-email", env("ACME_EMAIL", ""),
		"contact address the ACME service warns of certificate trouble (env THUNAIVI_ACME_EMAIL)")
	fs.StringVar(&c.ACMEDirectory, "acme-directory", env("ACME_DIRECTORY", ""),
		"ACME directory URL; Let's Encrypt's when empty (env THUNAIVI_ACME_DIRECTORY)")
	fs.BoolVar(&c.SelfSigned, "tls-self-signed", envBool("TLS_SELF_SIGNED", false),
		"serve HTTPS with a self-signed certificate kept in the data folder, for a trial; "+
			"its fingerprint is printed at start (env THUNAIVI_TLS_SELF_SIGNED)")
	fs.StringVar(&c.RedirectAddr, "redirect-addr", env("REDIRECT_ADDR", ""),
		"plain-HTTP address that redirects to HTTPS; port 80 when serving on 443, off for "+
			"none (env THUNAIVI_REDIRECT_ADDR)")
	c.rangesFlag(fs, "llm-allow", "LLM_ALLOW", "private or loopback CIDR ranges "+
		"workspaces' LLM providers may still be reached at, comma-separated; none unless set",
		&c.LLMAllow)
	fs.StringVar(&c.MailFrom, "mail-from", env("MAIL_FROM", ""),
		"sender of the product's mail, such as \"Thunaivi <support@example.com>\"; "+
			"no-reply at the public URL's host when empty (env THUNAIVI_MAIL_FROM)")
	fs.StringVar(&c.SecurityTxtWorkspace, "security-txt-workspace",
		env("SECURITY_TXT_WORKSPACE", ""), "id of the workspace whose security contact "+
			"/.well-known/security.txt publishes; the only workspace when empty "+
			"(env THUNAIVI_SECURITY_TXT_WORKSPACE)")
	fs.StringVar(&c.ServiceTermsFile, "service-terms-file", env("SERVICE_TERMS_FILE", ""),
		"Markdown file of the hosted service's terms, which workspaces' admins accept; a "+
			"changed file is a new version (env THUNAIVI_SERVICE_TERMS_FILE)")
	limits := env("RATE_LIMITS", "on")
	fs.Func("rate-limits", "on or off (env THUNAIVI_RATE_LIMITS)", func(s string) error {
		limits = s
		return nil
	})
	c.RateLimits = true
	fs.IntVar(&c.IPLimit, "ip-limit", envInt("IP_LIMIT", DefaultIPLimit),
		"widget requests per minute per client IP (env THUNAIVI_IP_LIMIT)")
	fs.IntVar(&c.WidgetLimit, "widget-limit", envInt("WIDGET_LIMIT", DefaultWidgetLimit),
		"widget requests per minute per widget token (env THUNAIVI_WIDGET_LIMIT)")
	fs.DurationVar(&c.IdleAdmin, "idle-timeout-admin", envDuration("IDLE_TIMEOUT_ADMIN",
		DefaultIdleAdmin), "an admin's session ends after this long unused "+
		"(env THUNAIVI_IDLE_TIMEOUT_ADMIN)")
	fs.DurationVar(&c.IdleMember, "idle-timeout", envDuration("IDLE_TIMEOUT", DefaultIdleMember),
		"a manager's or agent's session ends after this long unused (env THUNAIVI_IDLE_TIMEOUT)")
	fs.BoolVar(&c.RevokeOnStolenSession, "revoke-on-stolen-session",
		envBool("REVOKE_ON_STOLEN_SESSION", true), "end a user's sessions when one is used "+
			"from another network and browser (env THUNAIVI_REVOKE_ON_STOLEN_SESSION)")
	fs.IntVar(&c.RevokeAfterCodeFailures, "revoke-after-code-failures",
		envInt("REVOKE_AFTER_CODE_FAILURES", 5), "end a user's sessions after this many "+
			"failed second-factor codes in 10 minutes; 0 is off "+
			"(env THUNAIVI_REVOKE_AFTER_CODE_FAILURES)")
	fs.StringVar(&c.SQLiteSync, "sqlite-sync", env("SQLITE_SYNC", "full"), "full syncs every "+
		"SQLite commit, so acknowledged messages survive a power loss; normal syncs at "+
		"checkpoints, for about twice the commits a second, and survives a crash of the "+
		"process only (env THUNAIVI_SQLITE_SYNC)")
	fs.BoolVar(&c.RevokeOnProbe, "revoke-on-probe", envBool("REVOKE_ON_PROBE", true),
		"end the sessions used from an address that probes for attack paths "+
			"(env THUNAIVI_REVOKE_ON_PROBE)")
	fs.BoolVar(&c.RevokeOnFailureBurst, "revoke-on-failure-burst",
		envBool("REVOKE_ON_FAILURE_BURST", true), "end a user's sessions, and refuse the "+
			"sign-in, when it succeeds right after failures from several addresses "+
			"(env THUNAIVI_REVOKE_ON_FAILURE_BURST)")
	fs.BoolVar(&c.BlockProbers, "block-probers", envBool("BLOCK_PROBERS", true),
		"answer every request from an address that sent 20 probes in 10 minutes with "+
			"404 for 15 minutes (env THUNAIVI_BLOCK_PROBERS)")
	fs.IntVar(&c.AttachmentMaxMB, "attachment-max-mb",
		envInt("ATTACHMENT_MAX_MB", DefaultAttachmentMaxMB), "the largest file customers "+
			"and agents may attach, in MiB, at most 100 (env THUNAIVI_ATTACHMENT_MAX_MB)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("METRICS_ADDR", ""),
		"loopback address for a separate /metrics listener (env THUNAIVI_METRICS_ADDR)")
	c.limitsSetting = &limits
}

// Finish applies the secret files and derived defaults and validates. Call it
// after the flags are parsed.
func (c *Config) Finish() error {
	if c.DatabaseURL == "" {
		v, err := secretEnv("DATABASE_URL")
		if err != nil {
			return err
		}
		c.DatabaseURL = v
	}
	if err := checkDatabaseTLS(c.DatabaseURL); err != nil {
		return err
	}
	if c.MailURL == "" {
		v, err := secretEnv("SMTP_URL")
		if err != nil {
			return err
		}
		c.MailURL = v
	}
	if c.AuditKey == "" {
		v, err := secretEnv("AUDIT_KEY")
		if err != nil {
			return err
		}
		c.AuditKey = v
	}
	if c.AuditKey != "" && len(c.AuditKey) < 32 {
		return errors.New("config: the audit key (THUNAIVI_AUDIT_KEY, or the file " +
			"THUNAIVI_AUDIT_KEY_FILE names) must be at least 32 characters")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log level %q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json", "":
	default:
		return fmt.Errorf("config: log format %q is not text or json", c.LogFormat)
	}
	if c.AuditRetentionDays != 0 && c.AuditRetentionDays < MinAuditRetentionDays {
		return fmt.Errorf("config: audit entries are kept at least %d days, not %d",
			MinAuditRetentionDays, c.AuditRetentionDays)
	}
	if c.BreachAPI != "" {
		u, err := url.Parse(c.BreachAPI)
		if err != nil || u.Scheme != "https" && u.Hostname() != "127.0.0.1" &&
			u.Hostname() != "localhost" {
			return errors.New("config: the breached-password service is reached over https")
		}
	}
	if err := checkLoopback(c.MetricsAddr); err != nil {
		return err
	}
	if c.envErr != nil {
		return c.envErr
	}
	if c.SQLiteSync != "" && c.SQLiteSync != "full" && c.SQLiteSync != "normal" {
		return fmt.Errorf("config: THUNAIVI_SQLITE_SYNC is %q; it is full or normal",
			c.SQLiteSync)
	}
	if c.limitsSetting == nil {
		return nil
	}
	switch strings.ToLower(*c.limitsSetting) {
	case "on", "":
		c.RateLimits = true
	case rateLimitsOffSetting:
		c.RateLimits = false
	default:
		return fmt.Errorf("config: rate limits setting %q is not on or off", *c.limitsSetting)
	}
	if c.IdleAdmin < time.Minute || c.IdleMember < time.Minute {
		return errors.New("config: idle timeouts are at least a minute")
	}
	if c.IPLimit < 1 || c.WidgetLimit < 1 {
		return errors.New("config: rate limits must be at least 1 request per minute")
	}
	if c.AttachmentMaxMB < 1 || c.AttachmentMaxMB > MaxAttachmentMaxMB {
		return fmt.Errorf("config: THUNAIVI_ATTACHMENT_MAX_MB is %d; it is 1 to %d",
			c.AttachmentMaxMB, MaxAttachmentMaxMB)
	}
	c.defaultPublicURL()
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.defaultRedirect()
	return c.checkListening()
}

// Sender is the From address of the product's mail: MailFrom, or no-reply
// at the public URL's host.
func (c *Config) Sender() string {
	if c.MailFrom != "" {
		return c.MailFrom
	}
	host := "localhost"
	if u, err := url.Parse(c.PublicURL); err == nil && u.Hostname() != "" &&
		net.ParseIP(u.Hostname()) == nil {
		host = u.Hostname()
	}
	return "Thunaivi <no-reply@" + host + ">"
}

// Redacted lists the settings for logs and diagnostics, with the database
// password removed.
func (c *Config) Redacted() map[string]string {
	out := map[string]string{
		"addr":                   c.Addr,
		"data":                   c.DataDir,
		"public_url":             c.PublicURL,
		"rate_limits":            strconv.FormatBool(c.RateLimits),
		"ip_limit":               strconv.Itoa(c.IPLimit),
		"widget_limit":           strconv.Itoa(c.WidgetLimit),
		"attachment_max_mb":      strconv.Itoa(c.AttachmentMaxMB),
		"log_level":              c.LogLevel,
		"log_format":             c.LogFormat,
		"breached_password_api":  c.BreachAPI,
		"master_key_file":        c.MasterKeyFile,
		"webhook_allow":          fmt.Sprint(c.WebhookAllow),
		"llm_allow":              fmt.Sprint(c.LLMAllow),
		"database_url":           RedactURL(c.DatabaseURL),
		"smtp_url":               RedactURL(c.MailURL),
		"mail_from":              c.MailFrom,
		"tls_cert_file":          c.TLSCertFile,
		"tls_key_file":           c.TLSKeyFile,
		"acme_domain":            c.ACMEDomain,
		"acme_email":             c.ACMEEmail,
		"acme_directory":         c.ACMEDirectory,
		"tls_self_signed":        strconv.FormatBool(c.SelfSigned),
		"redirect_addr":          c.RedirectAddr,
		"trusted_proxies":        fmt.Sprint(c.TrustedProxies),
		"security_txt_workspace": c.SecurityTxtWorkspace,
		"service_terms_file":     c.ServiceTermsFile,

		"audit_checkpoints":    c.AuditCheckpoints,
		"audit_retention_days": strconv.Itoa(c.AuditRetentionDays),
		"metrics_addr":         c.MetricsAddr,
		"idle_timeout_admin":   c.IdleAdmin.String(),
		"idle_timeout":         c.IdleMember.String(),
		// Not "..._session": the log hides whatever a key names a session.
		"revoke_on_network_and_browser_change": strconv.FormatBool(c.RevokeOnStolenSession),
		"revoke_after_code_failures":           strconv.Itoa(c.RevokeAfterCodeFailures),
		"revoke_on_probe":                      strconv.FormatBool(c.RevokeOnProbe),
		"sqlite_sync":                          c.SQLiteSync,
		"revoke_on_failure_burst":              strconv.FormatBool(c.RevokeOnFailureBurst),
		"block_probers":                        strconv.FormatBool(c.BlockProbers),
	}
	if c.AuditKey != "" {
		out["audit_key"] = redacted
	}
	return out
}

// checkLoopback refuses a metrics address other than a loopback one: the
// listener answers without signing in.
func checkLoopback(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("config: metrics address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("config: the metrics listener answers without signing in, "+
			"so it binds only to loopback (127.0.0.1 or ::1), not %q", host)
	}
	return nil
}

// RedactURL hides the password of a URL; text that is not a URL is hidden whole.
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	// password, sslpassword (the client key's passphrase), and any other
	// parameter that names a password or a secret.
	q, changed := u.Query(), false
	for name := range q {
		n := strings.ToLower(name)
		if strings.Contains(n, "password") || strings.Contains(n, "secret") {
			q.Set(name, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(envPrefix + name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	v, err := strconv.ParseBool(env(name, strconv.FormatBool(def)))
	if err != nil {
		return def
	}
	return v
}

func envDuration(name string, def time.Duration) time.Duration {
	d, err := time.ParseDuration(env(name, def.String()))
	if err != nil {
		return -1
	}
	return d
}

func envInt(name string, def int) int {
	v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil {
		return -1
	}
	return v
}

// secretEnv reads THUNAIVI_NAME, or the file THUNAIVI_NAME_FILE names.
func secretEnv(name string) (string, error) {
	if v := os.Getenv(envPrefix + name); v != "" {
		return v, nil
	}
	path := os.Getenv(envPrefix + name + secretFileSuffix)
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("config: read %s%s%s: %w", envPrefix, name, secretFileSuffix, err)
	}
	return strings.TrimSpace(string(b)), nil
}
