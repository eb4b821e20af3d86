package support

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/store"
)

// HandoffReply is what the customer reads when a person takes over.
const HandoffReply = "Thank you. I'm passing your conversation to a member of our team, " +
	"who will reply here as soon as possible."

// CheckText validates a message body: valid UTF-8 without NUL characters,
// not blank, at most MaxMessageBytes. It returns the body with surrounding
// space removed.
func CheckText(text string) (string, error) {
	if len(text) > MaxMessageBytes {
		return "", fmt.Errorf("support: %w: a message has at most %d bytes", ErrTooLong,
			MaxMessageBytes)
	}
	if !plainText(text) {
		return "", invalid("a message must be valid UTF-8 text without NUL characters")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", invalid("a message cannot be empty")
	}
	return text, nil
}

// Receipt is what became of an incoming customer message.
type Receipt struct {
	Message  Message  `json:"message"`
	Decision Decision `json:"decision"`
	// Reply is the AI's answer, the draft, or the handoff message; nil when
	// a person already has the conversation.
	Reply *Message `json:"reply,omitempty"`
	// Note is the handoff summary for agents, on a handoff.
	Note *Message `json:"note,omitempty"`
	// Duplicate is set when the message's channel or client sent it before,
	// under the same external id: it was not stored again, and the receipt
	// holds the message and decision of the first time, without the reply.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Receive stores a customer's message, routes it, and carries out the
// decision in the same transaction: an AI answer, a draft waiting for an
// agent, or a handoff that escalates the conversation with a summary note.
// Live connections hear of it once it is committed. c must be loaded for this
// message (by VisitorConversation), not kept from an earlier one.
func (s *Service) Receive(ctx context.Context, c Conversation, text string) (Receipt, error) {
	return s.ReceiveOnce(ctx, c, text, "")
}

// ReceiveOnce is Receive for a message its channel or client named with
// externalID (none when empty). A message the conversation already holds
// under that id, as when a retry follows an answer lost to a timeout or a
// crash, is not stored or routed again: its first receipt comes back, marked
// Duplicate. The id is stored with the message in the same transaction, so
// that an acknowledged message and its id are never apart.
func (s *Service) ReceiveOnce(ctx context.Context, c Conversation, text,
	externalID string) (Receipt, error) {
	return s.receive(ctx, c, text, externalID, nil)
}

// ReceiveFile stores a customer's message with one file, which the message's
// text captions; the file's name is the text when the caption is empty. The
// router cannot read a file, so the AI does not answer it: the conversation
// goes to a person, as any handoff does, for the reason "attachment".
func (s *Service) ReceiveFile(ctx context.Context, c Conversation, caption string,
	u Upload) (Receipt, error) {
	f, err := CheckUpload(u, s.MaxAttachment())
	if err != nil {
		return Receipt{}, err
	}
	if strings.TrimSpace(caption) == "" {
		caption = f.Name
	}
	return s.receive(ctx, c, caption, "", &f)
}

// receive is ReceiveOnce, with a file when f is not nil.
func (s *Service) receive(ctx context.Context, c Conversation, text, externalID string,
	f *File) (Receipt, error) {
	text, err := CheckText(text)
	if err != nil {
		return Receipt{}, err
	}
	if err := checkExternalID(externalID); err != nil {
		return Receipt{}, err
	}
	if externalID != "" {
		if r, err := s.received(ctx, c, externalID); !errors.Is(err, store.ErrNotFound) {
			return r, err
		}
	}
	history, err := s.recent(ctx, c)
	if err != nil {
		return Receipt{}, err
	}
	router, err := s.routers.Router(ctx, c.WorkspaceID)
	if err != nil {
		return Receipt{}, err
	}
	var d brain.Decision
	switch {
	case f != nil:
		d = withFile(*f)
	default:
		d = Screen(router.Route(text, history.signals()), text)
		if s.Paused != nil && s.Paused(ctx, c.WorkspaceID) {
			d = paused(d)
		}
	}

	now := s.now().UTC()
	r := Receipt{
		Message: Message{ID: store.NewID("ms"), ConversationID: c.ID, Kind: KindIncoming,
			AuthorType: AuthorCustomer, Body: text, State: StateSent, CreatedAt: now},
	}
	if f != nil {
		f.ID, f.MessageID, f.CreatedAt = store.NewID("at"), r.Message.ID, now
		r.Message.attached, r.Message.Attachments = 1, []Attachment{f.Attachment}
	}
	policy := guard.Policy{}
	if s.Policy != nil {
		policy = s.Policy(ctx, c.WorkspaceID)
	}
	rw := s.rewrite(ctx, c, d, text, router, policy)
	o := s.respond(c, d, text, history, router, now, policy, rw)
	d, r.Reply, r.Note = o.decision, o.reply, o.note
	r.Decision = Decision{Decision: d, ID: store.NewID("dc"), MessageID: r.Message.ID,
		CreatedAt: now}
	status, priority := o.status, o.priority

	msgs := []*Message{&r.Message}
	for _, m := range []*Message{r.Reply, r.Note} {
		if m != nil {
			msgs = append(msgs, m)
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var last int64
		subject := subjectOf(text)
		if d.Reply != "" {
			subject = "" // "hi" says nothing about what the conversation is about
		}
		err := tx.QueryRowContext(ctx, s.q.ReserveSeq, len(msgs), now.UnixMilli(), status,
			priority, subject, c.WorkspaceID, c.ID).Scan(&last)
		if err != nil {
			return fmt.Errorf("support: reserve sequence: %w", err)
		}
		for i, m := range msgs {
			m.Seq = last - int64(len(msgs)-1-i)
			external := ""
			if m == &r.Message {
				external = externalID
			}
			if err := s.insertMessage(ctx, tx, c.WorkspaceID, *m, external); err != nil {
				return err
			}
		}
		if f != nil {
			if err := s.insertFile(ctx, tx, c, *f, AuthorCustomer, ""); err != nil {
				return err
			}
		}
		return s.insertDecision(ctx, tx, c, r.Decision)
	})
	if externalID != "" && store.IsUniqueViolation(err) {
		// The same message, sent again while the first was being stored.
		return s.received(ctx, c, externalID)
	}
	if err != nil {
		return Receipt{}, err
	}
	if s.Observe != nil {
		s.Observe(d)
	}

	before := c
	c.Status, c.Priority, c.LastMessageAt = status, priority, now
	events := []Event{{Type: EventMessage, ConversationID: c.ID, Message: &r.Message}}
	for _, m := range msgs[1:] {
		events = append(events, Event{Type: EventMessage, ConversationID: c.ID, Message: m})
	}
	routed := &Routed{MessageID: r.Message.ID, Outcome: string(d.Action)}
	if d.Action == brain.ActionAnswer {
		routed.EntryID = d.EntryID
	}
	events = append(events, Event{Type: EventRouted, ConversationID: c.ID, Routed: routed},
		Event{Type: EventConversation, ConversationID: c.ID, Conversation: &c})
	s.publish(c, events...)
	added := make([]Message, len(msgs))
	for i, m := range msgs {
		added[i] = *m
	}
	s.changed(ctx, before, c, added...)
	return r, nil
}

// paused turns a decision into a handoff while the workspace's AI
// auto-replies are paused: a person answers every message.
func paused(d brain.Decision) brain.Decision {
	return brain.Decision{Action: brain.ActionHandoff, Category: d.Category,
		Candidates: d.Candidates, Confidence: d.Confidence,
		Rules: append(d.Rules, brain.RuleHit{Name: "ai_paused", Kind: brain.KindGuardrail,
			Why: "AI auto-replies are paused for an incident."}),
		Reason: "AI auto-replies are paused for an incident; a person takes every message."}
}

// outcome is what the service does about one routed message.
type outcome struct {
	decision         brain.Decision
	reply, note      *Message
	status, priority string
}

// respond turns the router's decision into the messages to send and the
// conversation's new status and priority.
func (s *Service) respond(c Conversation, d brain.Decision, text string, h history,
	router *brain.Router, now time.Time, policy guard.Policy, rw llm.Result) outcome {
	o := outcome{decision: d, status: c.Status, priority: c.Priority}
	newMessage := func(kind, author, body string) *Message {
		return &Message{ID: store.NewID("ms"), ConversationID: c.ID, Kind: kind,
			AuthorType: author, Body: body, State: StateSent, CreatedAt: now}
	}
	switch {
	case c.Status == StatusEscalated:
		// A person has the conversation: the AI stays quiet, and the
		// decision records why.
		o.decision = brain.Decision{Action: brain.ActionHandoff, Candidates: d.Candidates,
			Category: d.Category, Confidence: d.Confidence, Rules: d.Rules,
			Reason: "A person already handles this conversation; the AI does not reply."}
	case d.Reply != "" && c.Status == StatusPending:
		// Small talk while a draft waits for an agent: a courtesy now would
		// read as if the question had been answered.
		o.decision.Reason = "A draft waits for an agent; the AI does not reply to small talk."
	case d.Action == brain.ActionAnswer && d.EntryID != "" &&
		!s.passes(&o, d, text, router, policy, rw):
		// The reply broke a guardrail: a person takes the conversation, and
		// the note says which rule stopped what.
		o.status, o.priority = StatusEscalated, raise(c.Priority, handoffPriority(d.Category))
		o.reply = newMessage(KindOutgoing, AuthorSystem, HandoffReply)
		o.note = newMessage(KindNote, AuthorSystem, handoffSummary(text, o.decision, h,
			router)+"\nThe AI's reply was stopped: "+o.decision.Reason+"\n")
	case d.Action == brain.ActionAnswer || d.Action == brain.ActionDraft:
		body := d.Reply
		if d.EntryID != "" {
			entry, _ := router.Entry(d.EntryID)
			body = entry.Answer
		}
		switch {
		case rw.Text != "":
			body = rw.Text
			o.decision.Reason += " The answer was rewritten by the LLM."
		case rw.Fallback != "":
			o.decision.Reason += " LLM unavailable: " + rw.Fallback +
				"; the embedded answer was sent."
		}
		o.reply = newMessage(KindOutgoing, AuthorAI, body)
		o.reply.KBEntryID = d.EntryID
		switch {
		case d.Action == brain.ActionDraft:
			o.reply.State, o.status = StateDraft, StatusPending
		case d.EntryID != "":
			o.status = StatusOpen
		}
		// A courtesy reply to small talk leaves the status alone: "thanks"
		// neither reopens a resolved conversation nor ends a pending draft.
	default:
		o.status, o.priority = StatusEscalated, raise(c.Priority, handoffPriority(d.Category))
		reply := HandoffReply
		if cat, ok := router.Category(d.Category); ok && cat.Reply != "" {
			reply = cat.Reply // the workspace's own words for this kind of request
		}
		o.reply = newMessage(KindOutgoing, AuthorSystem, reply)
		o.note = newMessage(KindNote, AuthorSystem, handoffSummary(text, d, h, router))
	}
	return o
}

// passes checks the answer the AI is about to send, the entry's or the
// LLM's rewrite of it, against the guardrails, and when it breaks one turns
// the decision into a handoff that names the rule. A rewrite that breaks a
// rule is not replaced by the entry's answer: a model that misbehaved with
// this message is a reason for a person to look.
func (s *Service) passes(o *outcome, d brain.Decision, text string, router *brain.Router,
	policy guard.Policy, rw llm.Result) bool {
	entry, _ := router.Entry(d.EntryID)
	v, by := guard.Check(entry.Answer, sources(entry), text, policy), ""
	if v.OK && rw.Text != "" {
		v = guard.CheckRewrite(rw.Text, sources(entry), text, llm.Instructions, policy)
		if rw.KeyEchoed {
			v = guard.Verdict{Rule: guard.RuleSecret,
				Reason: "the reply holds the LLM provider's API key"}
		}
		by = " (in the LLM's rewrite)"
	}
	if v.OK {
		return true
	}
	o.decision = brain.Decision{Action: brain.ActionHandoff, Category: d.Category,
		EntryID: d.EntryID, Confidence: d.Confidence, Candidates: d.Candidates,
		Reason: "guardrail " + v.Rule + ": " + v.Reason + by,
		Rules: append(d.Rules, brain.RuleHit{Name: v.Rule, Kind: brain.KindGuardrail,
			Matched: d.EntryID, Why: "The answer was stopped: " + v.Reason + "."})}
	return false
}

// sources are the texts an answer from entry may stand on.
func sources(entry brain.Entry) []string {
	return append([]string{entry.Title, entry.Answer}, entry.Questions...)
}

// rewrite asks the workspace's LLM, when it has one on, to put the answer
// of the entry the router chose in the workspace's tone; the zero Result
// otherwise. Only answers from an entry are rewritten: a draft waits for an
// agent, who writes as they see fit, and courtesy replies and handoff
// messages are fixed texts. An entry whose own answer breaks a guardrail
// goes to a person whatever a model makes of it, so the model is not asked.
// It runs before the transaction that stores the message, since the
// provider may take up to its timeout.
func (s *Service) rewrite(ctx context.Context, c Conversation, d brain.Decision, text string,
	router *brain.Router, policy guard.Policy) llm.Result {
	if s.LLM == nil || c.Status == StatusEscalated || d.Action != brain.ActionAnswer ||
		d.EntryID == "" || !s.LLM.Enabled(ctx, c.WorkspaceID) {
		return llm.Result{}
	}
	entry, _ := router.Entry(d.EntryID)
	if !guard.Check(entry.Answer, sources(entry), text, policy).OK {
		return llm.Result{}
	}
	return s.LLM.Rewrite(ctx, c.WorkspaceID, llm.Source{Title: entry.Title,
		Answer: entry.Answer, Customer: text, MaxChars: policy.MaxChars})
}

// Screen applies to the router's decision d on text what the router does not
// see: a message that tries to instruct the AI goes to a person, whatever
// the router decided. Every path that routes a message screens it, so that
// the console's try box, golden runs and live chats agree.
func Screen(d brain.Decision, text string) brain.Decision {
	if phrase, ok := guard.Injection(text); ok {
		return injected(d, phrase)
	}
	return d
}

// injected turns a decision on a message that tries to instruct the AI
// into a handoff: whatever the router found, the AI does not answer it.
func injected(d brain.Decision, phrase string) brain.Decision {
	return brain.Decision{Action: brain.ActionHandoff, Category: guard.CategoryInjection,
		MatchedPhrase: phrase, Confidence: d.Confidence, Candidates: d.Candidates,
		Reason: fmt.Sprintf("The message tries to give the AI instructions (%q); a person "+
			"takes it.", phrase)}
}

func subjectOf(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return truncate(line, 120)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// checkExternalID validates the id a channel or client gave a message.
func checkExternalID(id string) error {
	if len(id) > MaxExternalIDLen || !plainText(id) || strings.TrimSpace(id) != id {
		return invalid("a message's external_id has at most %d bytes of text, without "+
			"surrounding space", MaxExternalIDLen)
	}
	return nil
}

// received returns the receipt of the message the conversation holds under
// externalID, marked Duplicate; store.ErrNotFound when there is none.
func (s *Service) received(ctx context.Context, c Conversation, externalID string) (Receipt,
	error) {
	r := Receipt{Duplicate: true}
	var at, decidedAt int64
	var action string
	err := s.db.QueryRowContext(ctx, s.q.MessageByExternal, c.WorkspaceID, c.ID,
		externalID).Scan(&r.Message.ID, &r.Message.ConversationID, &r.Message.Seq,
		&r.Message.Kind, &r.Message.AuthorType, &r.Message.AuthorID, &r.Message.Body,
		&r.Message.State, &r.Message.KBEntryID, &at, &r.Decision.ID, &action, &decidedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, store.ErrNotFound
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("support: message by external id: %w", err)
	}
	r.Message.CreatedAt = timeMilli(at)
	r.Decision.Action, r.Decision.MessageID = brain.Action(action), r.Message.ID
	r.Decision.CreatedAt = timeMilli(decidedAt)
	return r, nil
}

func (s *Service) insertMessage(
	ctx context.Context,
	tx store.Querier,
	wsID string,
	m Message,
	externalID string,
) error {
	var author, entry, external any
	if m.AuthorID != "" {
		author = m.AuthorID
	}
	if m.KBEntryID != "" {
		entry = m.KBEntryID
	}
	if externalID != "" {
		external = externalID
	}
	_, err := tx.ExecContext(ctx, s.q.InsertMessage, m.ID, wsID, m.ConversationID, m.Seq, m.Kind,
		m.AuthorType, author, m.Body, m.State, entry, m.CreatedAt.UnixMilli(), external,
		m.attached)
	if err != nil {
		return fmt.Errorf("support: insert message: %w", err)
	}
	return nil
}

func (s *Service) insertDecision(
	ctx context.Context,
	tx store.Querier,
	c Conversation,
	d Decision,
) error {
	cands, err := json.Marshal(routing{Candidates: d.Candidates, Rules: d.Rules})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q.InsertDecision, d.ID, c.WorkspaceID, c.ID, d.MessageID,
		string(d.Action), d.Category, d.MatchedPhrase, d.EntryID, d.Confidence, string(cands),
		d.Reason, d.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("support: insert decision: %w", err)
	}
	return nil
}

// routing is what the decisions table's candidates column holds: the ranked
// entries and the rules that fired. Decisions stored before rules were kept
// hold the candidates alone, as a JSON array.
type routing struct {
	Candidates []brain.Candidate `json:"candidates"`
	Rules      []brain.RuleHit   `json:"rules"`
}

func readRouting(stored string) ([]brain.Candidate, []brain.RuleHit) {
	var r routing
	if strings.HasPrefix(stored, "[") {
		json.Unmarshal([]byte(stored), &r.Candidates)
	} else {
		json.Unmarshal([]byte(stored), &r)
	}
	if r.Rules == nil {
		r.Rules = []brain.RuleHit{}
	}
	return r.Candidates, r.Rules
}

// history is the recent, customer-visible part of a conversation, newest last.
type history struct {
	customer  []string
	aiReplies []string
	// turns are the customer's messages and the AI's answers in the order
	// they were sent, for the signals that read order.
	turns []brain.Turn
}

func (h history) signals() brain.Signals {
	return brain.Signals{AIReplies: len(h.aiReplies), PreviousCustomerMessages: h.customer,
		History: h.turns}
}

func (s *Service) recent(ctx context.Context, c Conversation) (history, error) {
	var h history
	if c.lastSeq == 0 {
		return h, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q.RecentMessages, c.WorkspaceID, c.ID)
	if err != nil {
		return h, fmt.Errorf("support: recent messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, author, body, entry string
		if err := rows.Scan(&kind, &author, &body, &entry); err != nil {
			return h, err
		}
		switch {
		case kind == KindIncoming:
			h.customer = append([]string{body}, h.customer...)
			h.turns = append([]brain.Turn{{Speaker: brain.SpeakerCustomer, Text: body}},
				h.turns...)
		case kind == KindOutgoing && author == AuthorAI && entry != "":
			// Answers from the knowledge base; courtesy replies say nothing.
			h.aiReplies = append([]string{body}, h.aiReplies...)
			h.turns = append([]brain.Turn{{Speaker: brain.SpeakerAI, Text: body}},
				h.turns...)
		}
	}
	return h, rows.Err()
}

// Decisions returns the router's decisions on a conversation, oldest first.
func (s *Service) Decisions(ctx context.Context, v Viewer, id string) ([]Decision, error) {
	if _, err := s.Get(ctx, v, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q.ListDecisions, v.WorkspaceID, id)
	if err != nil {
		return nil, fmt.Errorf("support: decisions: %w", err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		var cands string
		var at int64
		if err := rows.Scan(&d.ID, &d.MessageID, &d.Action, &d.Category, &d.MatchedPhrase,
			&d.EntryID, &d.Confidence, &cands, &d.Reason, &at); err != nil {
			return nil, err
		}
		d.Candidates, d.Rules = readRouting(cands)
		d.CreatedAt = timeMilli(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
