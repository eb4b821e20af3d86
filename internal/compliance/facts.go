package compliance

import (
	"github.com/thunaivi/thunaivi/internal/access"
)

// Facts are the workspace's live settings its documents and trust page
// quote. The HTTP layer gathers them from the domains that own them.
type Facts struct {
	Workspace string
	// TrustURL is the workspace's public trust page; DocumentsURL the
	// address its documents hang from (TrustURL + "/documents").
	TrustURL     string
	DocumentsURL string
	// SecurityTxtURL is the workspace's own security.txt.
	SecurityTxtURL string
	Contacts       Contacts
	// Transport says how traffic reaches the product, as configured.
	Transport string
	// Retention are the workspace's periods; AuditDays the server's.
	Retention []Period
	AuditDays int
	// Subprocessors receive customers' personal data on the workspace's
	// behalf: the LLM provider when enabled, the mail relay when configured.
	Subprocessors []Subprocessor
	Roles         []RoleAccess
	Keys          KeyFacts
}

// Severities, Meaning and Steps let the templates reach the package's tables.
func (Facts) Severities() []Severity       { return Severities }
func (Facts) Meaning() map[Severity]string { return Meaning }
func (Facts) Steps() []string              { return Playbook }

// Period is how long one class of data is kept.
type Period struct {
	Class string
	Label string
	Days  int
}

// Subprocessor is a service that receives personal data.
type Subprocessor struct {
	Name    string
	Purpose string
}

// KeyFacts are how API keys are made, kept and rotated.
type KeyFacts struct {
	Format          string
	Pattern         string
	DefaultLifetime int // days
	MaxLifetime     int // days
	RotationDue     int // days
	MaxOverlap      int // days
}

// RoleAccess is what one role may see and do with conversations.
type RoleAccess struct {
	Role  string
	Sees  string
	Other []string
}

// Roles describes each role's access from the live permission table in
// internal/access, so that the trust page cannot drift from the checks.
func Roles() []RoleAccess {
	var out []RoleAccess
	for _, r := range []access.Role{access.Agent, access.Manager, access.Admin} {
		ra := RoleAccess{Role: string(r), Sees: "no conversations"}
		switch {
		case access.Allowed(r, access.ConversationsAll):
			ra.Sees = "the conversations of every inbox"
		case access.Allowed(r, access.ConversationsRead):
			ra.Sees = "only the conversations of the inboxes they belong to"
		}
		for _, p := range []struct {
			perm access.Permission
			does string
		}{
			{access.DataRequests, "approves customers' requests to export or delete their data"},
			{access.AuditRead, "reviews and exports the audit log"},
			{access.DataManage, "sets retention periods and legal holds"},
			{access.MembersManage, "invites and removes members and changes roles"},
			{access.APIKeysManage, "creates, rolls and revokes API keys"},
		} {
			if access.Allowed(r, p.perm) {
				ra.Other = append(ra.Other, p.does)
			}
		}
		out = append(out, ra)
	}
	return out
}

// Playbook is the incident playbook's six steps, briefly, as the trust page
// and the security document tell them.
var Playbook = []string{
	"Detect: the events that raised the incident are attached to it, " +
		"and its response-time clock starts.",
	"Contain: the affected users' sessions are revoked, the credentials in scope " +
		"(API keys, webhook secrets, the admin path) are rotated, and the channels are " +
		"flagged for reconnection.",
	"Isolate: the affected users, keys, channels or address ranges are disabled, " +
		"AI auto-replies paused and exports frozen.",
	"Validate integrity: the audit chain, members and roles, admins' second factors, " +
		"keys, integrations and the product's own files are checked.",
	"Restore a secure baseline: the saved security settings are re-applied after " +
		"reviewing the difference.",
	"Document: root cause, impact, preventive controls and follow-up tasks are " +
		"written up; when personal data was involved, affected customers and " +
		"authorities are told within 72 hours of detection (GDPR article 33).",
}
