// Command thunaivi runs the Thunaivi customer-support platform and its tools.
// It only dispatches: each subcommand parses its flags and calls internal/app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/replay"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

type command struct {
	summary string
	usage   string
	run     func(ctx context.Context, args []string) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"serve": {"run the server", "serve [--addr ADDR] [--data DIR] [--database-url URL]",
			runServe},
		"migrate": {
			"apply pending database migrations",
			"migrate [--data DIR] [--database-url URL]",
			runMigrate,
		},
		"setup": {"create the first workspace, its admin and a website-chat inbox",
			"setup --workspace NAME --admin-email EMAIL --admin-password-file FILE", runSetup},
		"admin-path": {"replace a workspace's secret admin path, as when its admins lost it, " +
			"and print the admin sign-in's address",
			"admin-path [--workspace ID] [--from-file FILE] [--data DIR] [--database-url URL]",
			runAdminPath},
		"secrets": {"secrets rotate-master: seal every secret kept in the database under a " +
			"new master key, while servers run, and retire the old one",
			"secrets rotate-master [--data DIR] [--database-url URL] [--master-key-file FILE]",
			runSecrets},
		"kb": {"manage the knowledge base: kb import --workspace ID FILE (JSON Lines or CSV)",
			"kb import --workspace ID FILE", runKB},
		"eval": {"measure routing quality on a knowledge base and cases, on a throwaway store",
			"eval --kb FILE --cases FILE [--json]", runEval},
		"replay": {"play cases as website-chat customers against a running server",
			"replay --url URL --widget-token TOKEN --cases FILE [--limit N] " +
				"[--concurrency C] [--retry] [--json]",
			runReplay},
		"audit": {"check the audit log: audit verify recomputes its hash chain and checks " +
			"it against the signed checkpoints",
			"audit verify [--data DIR] [--database-url URL] [--checkpoints FILE] [--json]",
			runAudit},
		"backup": {"write a consistent, encrypted snapshot of the store while servers run",
			"backup [--out FILE] [--data DIR] [--database-url URL] [--json]", runBackup},
		"restore": {"restore a backup: --verify checks it in a scratch store and records " +
			"the result; without it, restores into an empty data folder or database",
			"restore [--verify] [--data DIR] [--database-url URL] [--json] FILE", runRestore},
		"diag": {"write a diagnostics bundle, secrets removed, to send to support",
			"diag [--data DIR] [--database-url URL] [--out FILE]", runDiag},
		"help": {"show help for a command", "help [command]", nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := dispatch(ctx, os.Args[1:])
	switch {
	case err == nil:
	case errors.Is(err, app.ErrAuditBroken), errors.Is(err, app.ErrBackupBroken):
		// A finding, not a mistake in the command: scripts tell them apart.
		fmt.Fprintln(os.Stderr, "thunaivi:", err)
		os.Exit(1)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "thunaivi:", err)
		os.Exit(2)
	}
}

func dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		usage(os.Stdout)
		return nil
	}
	name, rest := args[0], args[1:]
	if name == "help" || name == "-h" || name == "--help" {
		return help(rest)
	}
	cmd, ok := commands[name]
	if !ok {
		usage(os.Stderr)
		return fmt.Errorf("unknown command %q", name)
	}
	return cmd.run(ctx, rest)
}

func usage(w io.Writer) {
	fmt.Fprintln(
		w,
		"Thunaivi: self-hosted customer support with an AI that knows when to hand over.",
	)
	fmt.Fprintln(w, "\nUsage: thunaivi COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'thunaivi help COMMAND' for a command's flags. Every flag can also be")
	fmt.Fprintln(w, "set with a THUNAIVI_* environment variable, named in the flag's help.")
	fmt.Fprintln(w, "Secrets come only from the environment, each also from a file:")
	fmt.Fprintln(w, "THUNAIVI_DATABASE_URL(_FILE) and THUNAIVI_AUDIT_KEY(_FILE), at least 32")
	fmt.Fprintln(w, "characters, which keys the audit log (default: audit.key in the data folder).")
}

func help(args []string) error {
	if len(args) == 0 {
		usage(os.Stdout)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(os.Stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	if cmd.run == nil {
		usage(os.Stdout)
		return nil
	}
	helpOut = os.Stdout
	err := cmd.run(context.Background(), []string{"-h"})
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// helpOut is where a command's help goes: stdout when asked for with
// `thunaivi help COMMAND`, stderr when a command's flags were wrong.
var helpOut io.Writer = os.Stderr

// flags returns a flag set that prints the command's usage line on -h.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(helpOut)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: thunaivi %s\n\n%s.\n\nFlags:\n", commands[name].usage,
			strings.ToUpper(commands[name].summary[:1])+commands[name].summary[1:])
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, cfg *config.Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return cfg.Finish()
}

// parseWithFiles is parse for a command that also takes files: the flags
// may come before the files, after them or between, as people type them
// ("restore --verify FILE --data DIR"). It returns the files.
func parseWithFiles(fs *flag.FlagSet, cfg *config.Config, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return files, cfg.Finish()
}

func runServe(ctx context.Context, args []string) error {
	var cfg config.Config
	fs := flags("serve")
	cfg.Storage(fs)
	cfg.Server(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	return app.Serve(ctx, &cfg, os.Stdout)
}

func runMigrate(ctx context.Context, args []string) error {
	var cfg config.Config
	fs := flags("migrate")
	cfg.Storage(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	a, err := app.Open(ctx, &cfg, app.NewLogger(&cfg))
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s is at schema version %d\n", app.Describe(&cfg), v)
	return nil
}

func runSetup(ctx context.Context, args []string) error {
	var cfg config.Config
	fs := flags("setup")
	cfg.Storage(fs)
	fs.StringVar(&cfg.PublicURL, "public-url", os.Getenv("THUNAIVI_PUBLIC_URL"),
		"URL the server will be reached at, for the printed links (env THUNAIVI_PUBLIC_URL)")
	name := fs.String("workspace", "", "name of the first workspace")
	email := fs.String("admin-email", "", "email of the first admin")
	pwFile := fs.String("admin-password-file", "",
		"file holding the admin's password (at least 15 characters, not a common one)")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	res, err := app.Setup(ctx, &cfg, *name, *email, *pwFile)
	if err != nil {
		return err
	}
	return app.PrintJSON(os.Stdout, res)
}

func runAdminPath(ctx context.Context, args []string) error {
	var cfg config.Config
	fs := flags("admin-path")
	cfg.Storage(fs)
	fs.StringVar(&cfg.PublicURL, "public-url", os.Getenv("THUNAIVI_PUBLIC_URL"),
		"URL the server is reached at, for the printed address (env THUNAIVI_PUBLIC_URL)")
	wsID := fs.String("workspace", "", "the workspace's id; needed when there are several")
	from := fs.String("from-file", "", fmt.Sprintf("file holding a path of your choosing: "+
		"%d to %d random lower-case letters and digits; generated when not given",
		workspace.MinAdminPathLen, workspace.MaxAdminPathLen))
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	url, err := app.SetAdminPath(ctx, &cfg, *wsID, *from)
	if err != nil {
		return err
	}
	fmt.Println("The admin sign-in is now at (shown this once; the old path no longer works):")
	fmt.Println("  " + url)
	return nil
}

func runSecrets(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rotate-master" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			args = []string{"rotate-master", "-h"}
		} else {
			return errors.New("usage: thunaivi secrets rotate-master")
		}
	}
	var cfg config.Config
	fs := flags("secrets rotate-master")
	cfg.Storage(fs)
	if err := parse(fs, &cfg, args[1:]); err != nil {
		return err
	}
	return app.RotateMaster(ctx, &cfg, os.Stdout)
}

func runAudit(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			args = []string{"verify", "-h"}
		} else {
			return errors.New("usage: thunaivi audit verify [--checkpoints FILE] [--json]")
		}
	}
	var cfg config.Config
	fs := flags("audit")
	cfg.Storage(fs)
	cpFile := fs.String("checkpoints", "", "file of signed checkpoints, such as those "+
		"collected from stdout or syslog (default: the configured checkpoint file)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, &cfg, args[1:]); err != nil {
		return err
	}
	return app.VerifyAudit(ctx, &cfg, *cpFile, *asJSON, os.Stdout)
}

func runBackup(ctx context.Context, args []string) error {
	var cfg config.Config
	fs := flags("backup")
	cfg.Storage(fs)
	out := fs.String("out", "", "backup file to write, which must not exist "+
		"(default thunaivi-backup-YYYYMMDD-HHMMSS.thvbak, UTC)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	res, err := app.Backup(ctx, &cfg, *out)
	if err != nil {
		return err
	}
	if *asJSON {
		return app.PrintJSON(os.Stdout, res)
	}
	fmt.Printf("Wrote %s: %d bytes, sha256 %s, in %.1fs.\n", res.File, res.Bytes, res.SHA256,
		res.Seconds)
	fmt.Printf("%s backup at schema version %d: %d rows, audit log up to entry %d.\n",
		res.Engine, res.SchemaVersion, res.Rows, res.AuditHead)
	for _, t := range res.Tables {
		if t.Rows > 0 {
			fmt.Printf("  %-28s %d\n", t.Name, t.Rows)
		}
	}
	fmt.Printf("Sealed under master key %s: keep %s (as it is now) and the audit key "+
		"with your backups, apart from them.\n", res.MasterKey, app.MasterKeyFile(&cfg))
	return nil
}

func runRestore(ctx context.Context, args []string) error {
	var cfg config.Config
	fs := flags("restore")
	cfg.Storage(fs)
	verify := fs.Bool("verify", false, "restore into a scratch store, check it, record the "+
		"result, and remove the scratch store")
	asJSON := fs.Bool("json", false, "print the result as JSON (with --verify)")
	files, err := parseWithFiles(fs, &cfg, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return errors.New("usage: thunaivi restore [--data DIR | --database-url URL] " +
			"[--verify] [--json] FILE (one backup file; thunaivi restore -h lists the flags)")
	}
	if *verify {
		return app.RestoreVerify(ctx, &cfg, files[0], *asJSON, os.Stdout)
	}
	return app.Restore(ctx, &cfg, files[0], os.Stdout)
}

func runDiag(ctx context.Context, args []string) error {
	var cfg config.Config
	fs := flags("diag")
	cfg.Storage(fs)
	cfg.Server(fs) // the server's settings, as serve would read them
	out := fs.String("out", "", "bundle file (default thunaivi-diag-YYYYMMDD-HHMMSS.tar.gz, UTC)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Settings that do not validate are what a diagnosis is for: the bundle
	// records why rather than stopping.
	path, err := app.Diag(ctx, &cfg, app.DiagOptions{Path: *out, ConfigError: cfg.Finish(),
		Now: time.Now()})
	if err != nil {
		return err
	}
	fmt.Println(path)
	return nil
}

func runKB(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			args = []string{"import", "-h"}
		} else {
			return errors.New("usage: thunaivi kb import --workspace ID FILE")
		}
	}
	var cfg config.Config
	fs := flags("kb")
	cfg.Storage(fs)
	ws := fs.String("workspace", os.Getenv("THUNAIVI_WORKSPACE"),
		"workspace to import into (env THUNAIVI_WORKSPACE)")
	files, err := parseWithFiles(fs, &cfg, args[1:])
	if err != nil {
		return err
	}
	if *ws == "" || len(files) != 1 {
		return errors.New("usage: thunaivi kb import --workspace ID FILE")
	}
	res, err := app.ImportKB(ctx, &cfg, *ws, files[0], os.Stderr)
	if err != nil {
		return err
	}
	return app.PrintJSON(os.Stdout, res)
}

func runEval(ctx context.Context, args []string) error {
	fs := flags("eval")
	kbFile := fs.String("kb", "", "knowledge-base file (JSON Lines or CSV)")
	casesFile := fs.String("cases", "", "cases file (JSON Lines)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kbFile == "" || *casesFile == "" {
		return errors.New("usage: thunaivi eval --kb FILE --cases FILE [--json]")
	}
	start := time.Now()
	rep, _, err := app.Eval(ctx, *kbFile, *casesFile, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", time.Since(start).Round(time.Millisecond))
	if *asJSON {
		return app.PrintJSON(os.Stdout, rep)
	}
	printReport(rep)
	return nil
}

func printReport(r brain.Report) {
	fmt.Printf("cases                  %d\n", r.Cases)
	fmt.Printf("restricted_recall      %.4f\n", r.RestrictedRecall)
	fmt.Printf("answer_precision       %.4f\n", r.AnswerPrecision)
	fmt.Printf("deflection             %.4f\n", r.Deflection)
	fmt.Printf("oos_false_answer_rate  %.4f\n", r.OOSFalseAnswerRate)
	fmt.Println("by_category            cases  answered  drafted  handed_off")
	names := make([]string, 0, len(r.ByCategory))
	for n := range r.ByCategory {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := r.ByCategory[n]
		fmt.Printf("  %-20s %6d  %8d  %7d  %10d\n", n, c.Cases, c.Answered, c.Drafted, c.HandedOff)
	}
}

func runReplay(ctx context.Context, args []string) error {
	fs := flags("replay")
	url := fs.String("url", os.Getenv("THUNAIVI_URL"), "server URL (env THUNAIVI_URL)")
	token := fs.String("widget-token", os.Getenv("THUNAIVI_WIDGET_TOKEN"),
		"the inbox's widget token (env THUNAIVI_WIDGET_TOKEN)")
	casesFile := fs.String("cases", "", "cases file (JSON Lines)")
	limit := fs.Int("limit", 0, "replay only the first N cases (0: all)")
	conc := fs.Int("concurrency", 8, "customers chatting at once")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	retry := fs.Bool("retry", false, "send a request again, with the same message id, "+
		"while the server is unreachable or failing, as across a restart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || *token == "" || *casesFile == "" {
		return errors.New("usage: thunaivi replay --url URL --widget-token TOKEN --cases FILE")
	}
	f, err := os.Open(*casesFile)
	if err != nil {
		return err
	}
	cases, err := brain.ReadCases(f)
	f.Close()
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(cases) {
		cases = cases[:*limit]
	}
	fmt.Fprintf(os.Stderr, "replaying %d cases at concurrency %d\n", len(cases), *conc)
	step := max(len(cases)/10, 1)
	res, err := replay.Run(ctx, cases, replay.Options{URL: *url, WidgetToken: *token,
		Concurrency: *conc, Retry: *retry, Progress: func(done, total int) {
			if done%step == 0 || done == total {
				fmt.Fprintf(os.Stderr, "  %d/%d cases\n", done, total)
			}
		}})
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		fmt.Fprintf(os.Stderr, "%d cases failed\n", res.Failed)
	}
	if *asJSON {
		return app.PrintJSON(os.Stdout, res)
	}
	printReport(res.Report)
	fmt.Printf("messages_per_second    %.1f\n", res.MessagesPerSecond)
	fmt.Printf("latency_ms             p50 %.2f  p95 %.2f  p99 %.2f\n",
		res.LatencyMS.P50, res.LatencyMS.P95, res.LatencyMS.P99)
	return nil
}
