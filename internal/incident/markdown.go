package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/markdown"
)

// Postmortem writes an incident's postmortem as Markdown: its clocks, the
// steps, the timeline, root cause, impact, preventive controls and
// follow-up tasks. The export is audited.
func (s *Service) Postmortem(ctx context.Context, wsID, id string) (string, error) {
	in, err := s.Get(ctx, wsID, id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	title := in.Title
	if in.Drill {
		title += " (drill)"
	}
	fmt.Fprintf(&b, "# Incident %s: %s\n\n", in.ID, mdLine(title))
	fmt.Fprintf(&b, "- Severity: SEV%d\n", in.Severity)
	if in.Detector != "" {
		fmt.Fprintf(&b, "- Detected by: %s\n", in.Detector)
	}
	fmt.Fprintf(&b, "- Detected at: %s\n", stamp(in.DetectedAt))
	fmt.Fprintf(&b, "- Response due by: %s\n", stamp(in.ResponseDue))
	if in.NotifyBy != nil {
		fmt.Fprintf(&b, "- Personal data involved: notify the supervisory authority by %s "+
			"(GDPR article 33, 72 hours from detection)\n", stamp(*in.NotifyBy))
	}
	if in.ClosedAt != nil {
		fmt.Fprintf(&b, "- Closed at: %s\n", stamp(*in.ClosedAt))
	}
	fmt.Fprintf(&b, "- Steps done: %s\n\n", strings.Join(in.StepsDone, ", "))
	for _, sec := range []struct{ head, text string }{{"Root cause", in.RootCause},
		{"Impact", in.Impact}, {"Preventive controls", in.Preventive}} {
		text := sec.text
		if text == "" {
			text = "_not written yet_"
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", sec.head, mdBlock(text))
	}
	b.WriteString("## Follow-up tasks\n\n")
	for _, f := range in.FollowUps {
		fmt.Fprintf(&b, "- [ ] %s\n", mdLine(f))
	}
	if len(in.FollowUps) == 0 {
		b.WriteString("_none_\n")
	}
	b.WriteString("\n## Timeline\n\n| # | at (UTC) | step | by | what |\n" +
		"| --- | --- | --- | --- | --- |\n")
	for _, e := range in.Timeline {
		what := e.Text
		if len(e.Refs) > 0 {
			what += " (" + strings.Join(e.Refs, ", ") + ")"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", e.Seq, stamp(e.At), e.Step,
			mdCell(e.Actor), mdCell(what))
	}
	err = s.audit.Write(ctx, audit.Event{Workspace: wsID, Action: audit.IncidentExported,
		TargetType: "incident", TargetID: id})
	return b.String(), err
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// mdLine, mdCell and mdBlock write what people typed as plain text.
var (
	mdLine  = markdown.Line
	mdCell  = markdown.Line
	mdBlock = markdown.Block
)
