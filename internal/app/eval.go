package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// Eval runs every case through the same path a website-chat message takes in
// `serve` (a new conversation, Receive, the workspace's router) on a throwaway
// SQLite store, and scores the outcomes. It returns the outcome of each case
// too, in the order of the cases.
func Eval(ctx context.Context, kbPath, casesPath string,
	progress io.Writer) (brain.Report, []brain.Outcome, error) {
	entries, err := ReadKBFile(kbPath)
	if err != nil {
		return brain.Report{}, nil, fmt.Errorf("knowledge base: %w", err)
	}
	f, err := os.Open(casesPath)
	if err != nil {
		return brain.Report{}, nil, err
	}
	cases, err := brain.ReadCases(f)
	f.Close()
	if err != nil {
		return brain.Report{}, nil, fmt.Errorf("cases: %w", err)
	}

	dir, err := os.MkdirTemp("", "thunaivi-eval-")
	if err != nil {
		return brain.Report{}, nil, err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := Open(ctx, &config.Config{DataDir: dir}, quiet)
	if err != nil {
		return brain.Report{}, nil, err
	}
	defer a.Close()
	res, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: "Evaluation", AdminEmail: "eval@example.com", AdminPassword: randomPassword()})
	if err != nil {
		return brain.Report{}, nil, err
	}
	ws, inbox := res.Workspace.ID, res.Inbox.ID
	fmt.Fprintf(progress, "importing %d entries\n", len(entries))
	if _, err := a.KB.Import(ctx, ws, "eval", entries, nil); err != nil {
		return brain.Report{}, nil, err
	}

	fmt.Fprintf(progress, "routing %d cases\n", len(cases))
	report := progressPrinter(progress, "cases")
	outcomes := make([]brain.Outcome, len(cases))
	for i, c := range cases {
		v, err := a.Support.Start(ctx, ws, inbox, support.ContactDetails{})
		if err != nil {
			return brain.Report{}, nil, err
		}
		conv, err := a.Support.VisitorConversation(ctx, ws, inbox, v.ConversationID, v.Token)
		if err != nil {
			return brain.Report{}, nil, err
		}
		rec, err := a.Support.Receive(ctx, conv, c.Text)
		if err != nil {
			return brain.Report{}, nil, fmt.Errorf("case %d: %w", i+1, err)
		}
		outcomes[i] = brain.Outcome{Action: rec.Decision.Action, EntryID: rec.Decision.EntryID}
		report(i+1, len(cases))
	}
	return brain.Score(cases, outcomes), outcomes, nil
}
