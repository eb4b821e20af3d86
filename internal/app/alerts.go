package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/mail"
)

// alertTimeout bounds the mail of one alert; alerts are sent apart from the
// request that raised them, which does not wait.
const alertTimeout = time.Minute

// alertAdmins mails a security alert to every admin of a workspace.
func (a *App) alertAdmins(ctx context.Context, wsID, subject, text string) {
	members, err := a.Workspaces.Members(ctx, wsID)
	if err != nil {
		a.Log.Error("Listing admins for an alert failed", "workspace_id", wsID, "error", err)
		return
	}
	for _, m := range members {
		if m.Role == access.Admin && !m.Disabled {
			a.sendAlert(ctx, m.Email, subject, text)
		}
	}
}

// sendAlert mails one alert in the background.
func (a *App) sendAlert(ctx context.Context, to, subject, text string) {
	if a.mail == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), alertTimeout)
	go func() {
		defer cancel()
		if err := a.mail.Send(ctx, mail.Message{To: to, Subject: subject,
			Text: text}); err != nil {
			a.Log.Error("Mailing a security alert failed", "error", err)
		}
	}()
}

// ruleRevoked alerts a user whose sessions a suspicious-activity rule ended,
// and the admins of their workspaces.
func (a *App) ruleRevoked(ctx context.Context, userID string, workspaces []string,
	reason string) {
	u, err := a.Identity.User(ctx, userID)
	if err != nil {
		a.Log.Error("Loading a user for an alert failed", "user_id", userID, "error", err)
		return
	}
	a.sendAlert(ctx, u.Email, "Your Thunaivi sessions were ended",
		"For your safety all your sessions were ended: "+reason+".\n\n"+
			"If this was not you, change your password when you sign in again, and tell "+
			"your admin.\n")
	for _, ws := range workspaces {
		a.alertAdmins(ctx, ws, "Security alert: a member's sessions were ended",
			fmt.Sprintf("A rule ended every session of %s: %s.\n\nSee Security in the "+
				"admin console for the details.\n", u.Email, reason))
	}
	a.detectRevocation(ctx, userID, workspaces, reason)
}

// keyLeaked alerts a workspace's admins that one of its API keys was found
// leaked and revoked.
func (a *App) keyLeaked(ctx context.Context, k apikey.Key, why string) {
	a.alertAdmins(ctx, k.WorkspaceID, "Security alert: an API key was revoked",
		fmt.Sprintf("The API key %q (…%s) was found %s and revoked at once. Whatever used "+
			"it needs a new key: create one under API keys in the admin console, and check "+
			"the audit log for its use.\n", k.Name, k.Last4,
			strings.TrimPrefix(why, "leaked: ")))
	a.detectLeak(ctx, k, why)
}

// remindDataRequest tells a workspace's admins of a data request near or past
// its due date.
func (a *App) remindDataRequest(r datarequest.Reminder) {
	subject := "A data request is due soon"
	text := fmt.Sprintf("The data request %s is due on %s and is not finished. "+
		"Approve or reject it on the Data requests page.\n", r.RequestID,
		r.DueAt.Format("2006-01-02"))
	if r.Overdue {
		subject = "A data request is overdue"
		text = fmt.Sprintf("The data request %s was due on %s and is not finished. "+
			"The law gives customers an answer within a month: approve or reject it now "+
			"on the Data requests page.\n", r.RequestID, r.DueAt.Format("2006-01-02"))
	}
	a.alertAdmins(context.Background(), r.WorkspaceID, subject, text)
}
