package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// SetupResult is what `thunaivi setup` prints.
type SetupResult struct {
	WorkspaceID string `json:"workspace_id"`
	AdminID     string `json:"admin_id"`
	InboxID     string `json:"inbox_id"`
	WidgetToken string `json:"widget_token"`
	ConsoleURL  string `json:"console_url"`
	DemoURL     string `json:"demo_url"`
}

// Setup creates the first workspace, its admin and a website-chat inbox.
func Setup(
	ctx context.Context,
	cfg *config.Config,
	name, email, passwordFile string,
) (SetupResult, error) {
	if passwordFile == "" {
		return SetupResult{}, errors.New("--admin-password-file is required: " +
			"passwords are never taken on the command line")
	}
	pw, err := os.ReadFile(passwordFile)
	if err != nil {
		return SetupResult{}, fmt.Errorf("read the password file: %w", err)
	}
	a, err := Open(ctx, cfg, NewLogger(cfg))
	if err != nil {
		return SetupResult{}, err
	}
	defer a.Close()
	res, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: name, AdminEmail: email,
		AdminPassword: strings.TrimRight(string(pw), "\r\n")})
	if errors.Is(err, workspace.ErrSetupDone) {
		return SetupResult{}, fmt.Errorf("%s already has a workspace: sign in to the "+
			"console, or give another --data folder", Describe(cfg))
	}
	if err != nil {
		return SetupResult{}, err
	}
	base := cfg.PublicURL
	if base == "" {
		base = "http://" + config.DefaultAddr
	}
	return SetupResult{WorkspaceID: res.Workspace.ID, AdminID: res.Admin.ID,
		InboxID: res.Inbox.ID, WidgetToken: res.Inbox.WidgetToken,
		ConsoleURL: base + "/login", DemoURL: base + "/widget/demo?token=" + res.Inbox.WidgetToken,
	}, nil
}

// ReadKBFile reads a knowledge-base file, JSON Lines or CSV by its extension.
func ReadKBFile(path string) ([]brain.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	format := "jsonl"
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		format = "csv"
	}
	return brain.ReadEntries(f, format)
}

// ImportKB imports a knowledge-base file into a workspace, reporting progress
// on progress.
func ImportKB(ctx context.Context, cfg *config.Config, wsID, path string,
	progress io.Writer) (kb.ImportResult, error) {
	entries, err := ReadKBFile(path)
	if err != nil {
		return kb.ImportResult{}, err
	}
	a, err := Open(ctx, cfg, NewLogger(cfg))
	if err != nil {
		return kb.ImportResult{}, err
	}
	defer a.Close()
	if _, err := a.Workspaces.Get(ctx, wsID); err != nil {
		return kb.ImportResult{}, fmt.Errorf("workspace %q: %w", wsID, err)
	}
	fmt.Fprintf(progress, "importing %d entries from %s\n", len(entries), path)
	return a.KB.Import(ctx, wsID, "cli:kb-import", entries, progressPrinter(progress, "entries"))
}

// progressPrinter reports done/total about every tenth of the way.
func progressPrinter(w io.Writer, what string) func(done, total int) {
	return func(done, total int) {
		step := max(total/10, 1)
		if done%step == 0 || done == total {
			fmt.Fprintf(w, "  %d/%d %s\n", done, total, what)
		}
	}
}

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// randomPassword is for throwaway accounts nobody signs in to.
func randomPassword() string { return identity.RandomToken(24) }
