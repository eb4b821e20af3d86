package support

import (
	"context"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/llm"
)

// Verdict is what the AI would decide for text as the first message of a new
// conversation in the workspace: the router's decision after the guardrails,
// as Receive would store it. Nothing is stored and nobody is told, so
// measuring the AI's quality leaves no conversation behind.
func (s *Service) Verdict(ctx context.Context, wsID, text string) (brain.Decision, error) {
	text, err := CheckText(text)
	if err != nil {
		return brain.Decision{}, err
	}
	router, err := s.routers.Router(ctx, wsID)
	if err != nil {
		return brain.Decision{}, err
	}
	policy := guard.Policy{}
	if s.Policy != nil {
		policy = s.Policy(ctx, wsID)
	}
	c := Conversation{WorkspaceID: wsID, Status: StatusOpen, Priority: "medium"}
	var h history
	d := Screen(router.Route(text, h.signals()), text)
	// A golden run judges the workspace's own knowledge and rules: the
	// optional LLM is not asked, so runs cost nothing and repeat exactly.
	o := s.respond(c, d, text, h, router, s.now().UTC(), policy, llm.Result{})
	return o.decision, nil
}
