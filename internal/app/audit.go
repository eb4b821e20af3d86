package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store"
)

// CheckpointFileName is the default checkpoint file in the data folder.
const CheckpointFileName = "audit-checkpoints.jsonl"

// CheckpointFile is the file the configured sink writes checkpoints to, or ""
// when they go to stdout or syslog, or there is no data folder to hold them.
func CheckpointFile(cfg *config.Config) string {
	switch s := cfg.AuditCheckpoints; {
	case (s == "" || s == "file") && cfg.DataDir != "":
		return filepath.Join(cfg.DataDir, CheckpointFileName)
	case strings.HasPrefix(s, "file:"):
		return strings.TrimPrefix(s, "file:")
	}
	return ""
}

// ErrAuditBroken is returned by VerifyAudit when the chain does not verify,
// so that the command exits non-zero.
var ErrAuditBroken = fmt.Errorf("the audit log does not verify")

// VerifyAudit recomputes the audit chain and checks it against the
// checkpoints in cpFile (the configured checkpoint file when empty), writes
// a report to out, and returns ErrAuditBroken when it finds a break. It
// creates nothing: no database, no key, no checkpoint file.
func VerifyAudit(ctx context.Context, cfg *config.Config, cpFile string, asJSON bool,
	out io.Writer) error {
	named := cpFile != ""
	if !named {
		cpFile = CheckpointFile(cfg)
	}
	if cpFile == "" {
		return fmt.Errorf("checkpoints go to %s: save them to a file and pass --checkpoints FILE",
			cfg.AuditCheckpoints)
	}
	cps, err := audit.ReadCheckpointFile(cpFile)
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	if named && cps.Missing {
		return fmt.Errorf("read checkpoints: %s does not exist", cpFile)
	}
	db, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir,
		DatabaseURL: cfg.DatabaseURL, Existing: true})
	if err != nil {
		return err
	}
	defer db.Close()
	secret, err := auditSecret(ctx, cfg, db, false)
	if err != nil {
		return err
	}
	log, err := audit.New(db, audit.DeriveKeys(secret), time.Now)
	if err != nil {
		return err
	}
	rep, err := log.Verify(ctx, cps)
	if err != nil {
		return err
	}
	if asJSON {
		if err := PrintJSON(out, rep); err != nil {
			return err
		}
	} else {
		printReport(out, rep, cpFile)
	}
	if !rep.OK {
		return ErrAuditBroken
	}
	return nil
}

func printReport(out io.Writer, rep audit.Report, cpFile string) {
	if p := rep.Problem; p != nil {
		at := fmt.Sprintf("at entry %d ", p.Seq)
		if p.Seq == 0 {
			at = ""
		}
		fmt.Fprintf(out, "BROKEN %s(%s): %s.\n", at, p.Kind, p.Detail)
		if rep.Entries > 0 && p.Seq > rep.First {
			fmt.Fprintf(out, "Entries %d to %d verified before the break.\n", rep.First,
				rep.First+rep.Entries-1)
		}
		return
	}
	fmt.Fprintf(out, "OK: %s verify, from entry %d to %d.\n",
		count(rep.Entries, "entry", "entries"), rep.First, rep.Last)
	if rep.Pruned > 0 {
		fmt.Fprintf(out, "Entries up to %d were pruned by retention; the chain is verified "+
			"from the signed prune checkpoint of entry %d.\n", rep.Pruned, rep.Pruned)
	}
	if rep.Checkpoints == 0 {
		fmt.Fprintf(out, "No checkpoint signed by this key in %s yet.\n", cpFile)
	} else {
		fmt.Fprintf(out, "%s in %s; the newest seals entry %d.\n",
			count(int64(rep.Checkpoints), "signed checkpoint", "signed checkpoints"), cpFile,
			rep.Sealed)
	}
	if rep.Unsealed > 0 {
		fmt.Fprintf(out, "%s after the newest checkpoint: they chain, but a cut after it "+
			"would not show until the next checkpoint.\n",
			count(rep.Unsealed, "entry comes", "entries come"))
	}
	if rep.Torn {
		fmt.Fprintln(out, "A checkpoint line is torn, as by a crash while it was written; "+
			"it was ignored.")
	}
	if rep.ForeignKeys > 0 {
		fmt.Fprintf(out, "%s signed by another key, and not trusted.\n",
			count(int64(rep.ForeignKeys), "checkpoint is", "checkpoints are"))
	}
}

// count says n things, in the singular or the plural.
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// guards are the triggers that keep the audit log append-only, by engine
// (internal/store/migrations/0003_audit.*.sql).
var guards = map[store.Engine][]string{
	store.SQLite: {"audit_head_forward", "audit_head_no_delete", "audit_head_no_insert",
		"audit_log_in_turn", "audit_log_no_delete", "audit_log_no_update"},
	store.Postgres: {"audit_head_forward", "audit_head_no_truncate", "audit_log_append_only",
		"audit_log_in_turn", "audit_log_no_truncate"},
}

// missingGuards lists the append-only triggers that are not in place: someone
// with the database's ownership dropped or disabled them.
func missingGuards(ctx context.Context, db *store.DB) ([]string, error) {
	present, err := store.Strings(ctx, db, guardQueries[db.Engine()])
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, g := range guards[db.Engine()] {
		if !slices.Contains(present, g) {
			missing = append(missing, g)
		}
	}
	return missing, nil
}
