package app

import (
	"log/slog"
	"os"
	"strings"

	"github.com/thunaivi/thunaivi/internal/config"
)

// NewLogger returns the product's logger: text on stderr at the configured
// level, with secrets redacted whatever key they are logged under.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
		Level:       l,
		ReplaceAttr: redactAttr,
	}))
}

// secretKeys are attribute-name fragments whose values are never logged.
var secretKeys = []string{"password", "token", "secret", "authorization", "cookie", "api_key"}

func redactAttr(_ []string, a slog.Attr) slog.Attr {
	key := strings.ToLower(a.Key)
	for _, s := range secretKeys {
		if strings.Contains(key, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	if key == "database_url" {
		return slog.String(a.Key, config.RedactURL(a.Value.String()))
	}
	return a
}
