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
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// SetupResult is what `thunaivi setup` prints.
type SetupResult struct {
	WorkspaceID string `json:"workspace_id"`
	AdminID     string `json:"admin_id"`
	InboxID     string `json:"inbox_id"`
	WidgetToken string `json:"widget_token"`
	ConsoleURL  string `json:"console_url"`
	// AdminURL is the admin sign-in under the workspace's secret admin
	// path, shown this once.
	AdminURL string `json:"admin_url"`
	DemoURL  string `json:"demo_url"`
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
	base := publicBase(cfg)
	return SetupResult{WorkspaceID: res.Workspace.ID, AdminID: res.Admin.ID,
		InboxID: res.Inbox.ID, WidgetToken: res.Inbox.WidgetToken,
		ConsoleURL: base + "/login", AdminURL: base + "/" + res.AdminPath + "/login",
		DemoURL: base + "/widget/demo?token=" + res.Inbox.WidgetToken,
	}, nil
}

// publicBase is where the printed links point: the public URL, or the
// default listen address.
func publicBase(cfg *config.Config) string {
	if cfg.PublicURL == "" {
		return "http://" + config.DefaultAddr
	}
	return strings.TrimRight(cfg.PublicURL, "/")
}

// SetAdminPath gives a workspace a new secret admin path, as the operator
// does when its admins lost it, and returns the admin sign-in's address.
// The path is read from pathFile when given, and generated otherwise;
// workspace may be empty when the store holds one workspace.
func SetAdminPath(ctx context.Context, cfg *config.Config, wsID, pathFile string) (string,
	error) {
	var chosen string
	if pathFile != "" {
		b, err := os.ReadFile(pathFile)
		if err != nil {
			return "", fmt.Errorf("read the admin path file: %w", err)
		}
		chosen = strings.TrimSpace(string(b))
	}
	a, err := Open(ctx, cfg, NewLogger(cfg))
	if err != nil {
		return "", err
	}
	defer a.Close()
	if wsID == "" {
		ids, err := a.Workspaces.IDs(ctx)
		if err != nil {
			return "", err
		}
		if len(ids) != 1 {
			return "", fmt.Errorf("%s holds %d workspaces: name one with --workspace ID",
				Describe(cfg), len(ids))
		}
		wsID = ids[0]
	}
	ctx = origin.WithActor(ctx, origin.Actor{Type: origin.System, Email: "operator"})
	path, err := a.Workspaces.SetAdminPath(ctx, wsID, chosen)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("no workspace has the id %q", wsID)
	}
	if err != nil {
		return "", err
	}
	return publicBase(cfg) + "/" + path + "/login", nil
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
