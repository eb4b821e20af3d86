package app

import (
	"context"
	"time"

	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

// conversationData is what a webhook says of a conversation.
type conversationData struct {
	ID         string    `json:"id"`
	InboxID    string    `json:"inbox_id"`
	Status     string    `json:"status"`
	Priority   string    `json:"priority"`
	AssigneeID string    `json:"assignee_id,omitempty"`
	TeamID     string    `json:"team_id,omitempty"`
	Labels     []string  `json:"labels"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func dataOf(c support.Conversation) conversationData {
	return conversationData{ID: c.ID, InboxID: c.InboxID, Status: c.Status,
		Priority: c.Priority, AssigneeID: c.AssigneeID, TeamID: c.TeamID, Labels: c.Labels,
		UpdatedAt: c.LastMessageAt}
}

// notify turns a stored change into the workspace's webhook events: a new
// conversation, each message added that left the product or came in (not
// drafts waiting for review, nor notes), an assignment, a resolution, an
// escalation.
func (a *App) notify(ctx context.Context, before, after support.Conversation,
	added []support.Message) {
	if a.Webhooks == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	emit := func(ev webhook.Event, data any) {
		if err := a.Webhooks.Emit(ctx, after.WorkspaceID, ev, data); err != nil {
			a.Log.Error("Queueing a webhook failed", "event", string(ev), "error", err,
				"workspace_id", after.WorkspaceID)
		}
	}
	conv := dataOf(after)
	if before.ID == "" {
		emit(webhook.ConversationCreated, map[string]any{"conversation": conv})
	}
	for _, m := range added {
		if m.State == support.StateDraft || m.Kind == support.KindNote {
			continue
		}
		emit(webhook.MessageCreated, map[string]any{"conversation": conv, "message": m})
	}
	if after.AssigneeID != "" && after.AssigneeID != before.AssigneeID {
		emit(webhook.ConversationAssigned, map[string]any{"conversation": conv})
	}
	if after.Status != before.Status {
		switch after.Status {
		case support.StatusResolved:
			emit(webhook.ConversationResolved, map[string]any{"conversation": conv})
		case support.StatusEscalated:
			emit(webhook.ConversationEscalated, map[string]any{"conversation": conv})
		}
	}
}
