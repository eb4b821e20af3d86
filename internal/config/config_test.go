package config_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/config"
)

func parse(t *testing.T, args ...string) (*config.Config, error) {
	t.Helper()
	var c config.Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.Storage(fs)
	c.Server(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &c, c.Finish()
}

func TestDefaults(t *testing.T) {
	c, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != config.DefaultAddr || c.DataDir != config.DefaultDataDir || !c.RateLimits ||
		c.PublicURL != "http://"+config.DefaultAddr {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestEnvironment(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "db-url")
	const dbURL = "postgres://app:s3cret@db.internal/thunaivi?sslmode=verify-full"
	os.WriteFile(secret, []byte(dbURL+"\n"), 0o600)
	t.Setenv("THUNAIVI_ADDR", "127.0.0.1:9999")
	t.Setenv("THUNAIVI_RATE_LIMITS", "off")
	t.Setenv("THUNAIVI_DATABASE_URL_FILE", secret)
	c, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.RateLimits {
		t.Fatalf("environment not applied: %+v", c)
	}
	if c.DatabaseURL != dbURL {
		t.Fatalf("database URL from file: %q", c.DatabaseURL)
	}
	for k, v := range c.Redacted() {
		if strings.Contains(v, "s3cret") {
			t.Errorf("redacted setting %s shows the password: %s", k, v)
		}
	}
}

func TestInvalidSettings(t *testing.T) {
	cases := map[string][]string{
		"rate limits":  {"-rate-limits", "sometimes"},
		"address":      {"-addr", "nohostport"},
		"database url": {"-database-url", "mysql://x"},
		"ip limit":     {"-ip-limit", "0"},
		"log level":    {"-log-level", "loud"},
		"log format":   {"-log-format", "xml"},
		"retention":    {"-audit-retention-days", "30"},
		"idle timeout": {"-idle-timeout", "10s"},
		// These would send data in the clear or answer without signing in.
		"breach check over http": {"-breached-password-api", "http://pwned.example"},
		"metrics off loopback":   {"-metrics-addr", "0.0.0.0:9464"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := parse(t, args...); err == nil {
				t.Fatalf("%v accepted", args)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"postgres://u:pw@h/db":        "postgres://u:xxxxx@h/db",
		"postgres://h/db?password=pw": "postgres://h/db?password=xxxxx",
		"postgres://h/db?sslmode=verify-full&sslpassword=keypass": "postgres://h/db?" +
			"sslmode=verify-full&sslpassword=xxxxx",
		"postgres://u@h/db":             "postgres://u@h/db",
		"":                              "",
		"::not a url with password=pw%": "[redacted]",
	}
	for in, want := range cases {
		if got := config.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
