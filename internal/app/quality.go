package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/quality"
)

// qualityAlert mails a workspace's managers and admins that a golden-set run
// fell below the workspace's thresholds.
func (a *App) qualityAlert(ctx context.Context, wsID string, r quality.Run) {
	members, err := a.Workspaces.Members(ctx, wsID)
	if err != nil {
		a.Log.Error("Listing managers for a quality alert failed", "workspace_id", wsID,
			"error", err)
		return
	}
	a.Log.Warn("A golden-set run fell below the workspace's thresholds",
		"workspace_id", wsID, "run", r.ID, "below", r.Below)
	text := fmt.Sprintf("The %s run of the golden set on %s scored below the "+
		"workspace's thresholds on %s.\n\nrestricted recall: %.3f\nanswer precision: "+
		"%.3f\ndeflection: %.3f\ncases: %d\n\nSee Quality in the console for the "+
		"trend, and the knowledge base's recent changes.\n", r.Trigger,
		r.StartedAt.Format("2006-01-02 15:04 UTC"), strings.Join(r.Below, " and "),
		r.RestrictedRecall, r.AnswerPrecision, r.Deflection, r.Cases)
	for _, m := range members {
		if (m.Role == access.Admin || m.Role == access.Manager) && !m.Disabled {
			a.sendAlert(ctx, m.Email, "Quality alert: the AI's answers fell below "+
				"your thresholds", text)
		}
	}
}
