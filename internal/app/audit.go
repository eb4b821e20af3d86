package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
)

// CheckpointFileName is the default checkpoint file in the data folder.
const CheckpointFileName = "audit-checkpoints.jsonl"

// CheckpointFile is the file the configured sink writes checkpoints to, or ""
// when they go to stdout or syslog.
func CheckpointFile(cfg *config.Config) string {
	switch s := cfg.AuditCheckpoints; {
	case s == "" || s == "file":
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
// a report to out, and returns ErrAuditBroken when it finds a break.
func VerifyAudit(ctx context.Context, cfg *config.Config, cpFile string, asJSON bool,
	out io.Writer) error {
	if cpFile == "" {
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
	a, err := Open(ctx, cfg, NewLogger(cfg))
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.Audit.Verify(ctx, cps)
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
	if rep.Problem != nil {
		p := rep.Problem
		fmt.Fprintf(out, "BROKEN at entry %d (%s): %s.\n", p.Seq, p.Kind, p.Detail)
		if p.Seq > rep.First {
			fmt.Fprintf(out, "Entries %d to %d verified before the break.\n", rep.First,
				p.Seq-1)
		}
		return
	}
	fmt.Fprintf(out, "OK: entries %d to %d verify (%d entries).\n", rep.First, rep.Last,
		rep.Entries)
	if rep.Pruned > 0 {
		fmt.Fprintf(out, "Entries up to %d were pruned by retention; the chain is verified "+
			"from the signed checkpoint of entry %d.\n", rep.Pruned, rep.Pruned)
	}
	fmt.Fprintf(out, "%d signed checkpoints in %s; the newest seals entry %d.\n",
		rep.Checkpoints, cpFile, rep.Sealed)
	if rep.Unsealed > 0 {
		fmt.Fprintf(out, "The last %d entries are after the newest checkpoint: they chain, "+
			"but a cut after it would not show until the next checkpoint.\n", rep.Unsealed)
	}
	if rep.Torn {
		fmt.Fprintln(out, "The last checkpoint line is torn, as by a crash while it was "+
			"written; it was ignored, and the next start removes it.")
	}
	if rep.ForeignKeys > 0 {
		fmt.Fprintf(out, "%d checkpoints are not signed by this key and were not trusted.\n",
			rep.ForeignKeys)
	}
	if rep.Unreadable > 0 {
		fmt.Fprintf(out, "%d checkpoint lines could not be read.\n", rep.Unreadable)
	}
}
