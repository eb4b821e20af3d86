package app

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/logging"
)

// warningsFile is the file in the data folder that keeps the recent
// warnings and errors, for `thunaivi diag`.
const warningsFile = "warnings.log"

// NewLogger returns the product's logger: records at the configured level
// and format on stderr, and warnings and errors also in the data folder's
// warnings file, all with secrets redacted. The logger lives as long as the
// process, so its warnings file is never closed.
func NewLogger(cfg *config.Config) *slog.Logger {
	return newLogger(cfg, os.Stderr)
}

func newLogger(cfg *config.Config, out io.Writer) *slog.Logger {
	o := logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat, Out: out}
	if cfg.DataDir != "" {
		o.WarnFile = filepath.Join(cfg.DataDir, warningsFile)
	}
	log, _, err := logging.New(o)
	if err != nil {
		// config.Finish refuses a level or format that New would refuse.
		panic(err)
	}
	return log
}
