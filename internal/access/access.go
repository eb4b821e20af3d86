// Package access holds Thunaivi's roles and the permission each route needs.
// It is the one policy check every route passes through, and it imports no
// domain package.
package access

// Role is a member's role in a workspace.
type Role string

const (
	Admin   Role = "admin"
	Manager Role = "manager"
	Agent   Role = "agent"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r == Admin || r == Manager || r == Agent }

// Permission names an action a route performs.
type Permission string

// Permissions. Public is for routes anyone may call (sign-in, the widget's
// own token-checked endpoints); every other route names what it needs.
const (
	Public             Permission = "public"
	ConversationsRead  Permission = "conversations:read"
	ConversationsWrite Permission = "conversations:write"
	ConversationsAll   Permission = "conversations:all_inboxes"
	KBRead             Permission = "kb:read"
	KBWrite            Permission = "kb:write"
	// KBPropose is proposing a knowledge-base change for review.
	KBPropose Permission = "kb:propose"
	// KBReview is approving or rejecting someone else's proposed change. No
	// API key has it: a person reviews what customers will read.
	KBReview      Permission = "kb:review"
	BrainSettings Permission = "brain:settings"
	TeamsManage   Permission = "teams:manage"
	MembersRead   Permission = "members:read"
	MembersManage Permission = "members:manage"
	InboxesManage Permission = "inboxes:manage"
	// AuditRead is reading, exporting and verifying the audit log and the
	// security views built on it: failed sign-ins, anomalies, metrics.
	AuditRead Permission = "audit:read"
	// SecurityManage is changing the workspace's security settings.
	SecurityManage Permission = "security:manage"
	// OwnAccount is looking after one's own account: sessions, second factor.
	OwnAccount Permission = "account:self"
	// MessagesWrite is writing replies and notes in a conversation.
	MessagesWrite Permission = "messages:write"
	// APIKeysManage is creating, rolling and revoking the workspace's API keys.
	APIKeysManage Permission = "apikeys:manage"
	// WebhooksManage is adding and removing the endpoints the workspace's
	// events are posted to.
	WebhooksManage Permission = "webhooks:manage"
	// DataRequests is reading, approving and rejecting customers' requests
	// for their data or its deletion.
	DataRequests Permission = "data:requests"
	// DataManage is setting how long the workspace keeps customer data,
	// placing and lifting legal holds, and purging.
	DataManage Permission = "data:manage"
	// LLMManage is choosing the workspace's LLM provider and giving it the
	// key: customers' messages go to it.
	LLMManage Permission = "llm:manage"
	// TrustManage is setting the workspace's escalation contacts, editing
	// its compliance documents and accepting the hosted service's terms:
	// what the workspace publishes about its security.
	TrustManage Permission = "trust:manage"
	// InboundOpen and InboundMessage are opening a conversation and adding
	// a customer's message from an integrator's own channel. No role holds
	// them, so that no member writes as a customer: only an API key with the
	// matching scope does.
	InboundOpen    Permission = "inbound:open"
	InboundMessage Permission = "inbound:message"
	// QualityContribute is telling the AI's quality from the conversations a
	// member works: flagging an AI reply as wrong, recording a customer's
	// message with its right outcome as a golden case.
	QualityContribute Permission = "quality:contribute"
	// QualityManage is looking after measured quality: golden sets, runs and
	// their thresholds, flags, the KPIs.
	QualityManage Permission = "quality:manage"
	// IncidentsManage is opening and working security incidents (revoking
	// sessions, rotating credentials, isolating, restoring a baseline),
	// saving and restoring security baselines, and signing off the monthly
	// security checklist.
	IncidentsManage Permission = "incidents:manage"
)

// matrix is deny by default: a permission missing from a role's set is refused.
// docs/PERMISSIONS.md describes the same table for people.
var matrix = map[Role]map[Permission]bool{
	Agent: set(ConversationsRead, ConversationsWrite, MessagesWrite, KBRead, KBPropose,
		MembersRead, OwnAccount, QualityContribute),
	Manager: set(ConversationsRead, ConversationsWrite, MessagesWrite, ConversationsAll, KBRead,
		KBWrite, KBPropose, KBReview, BrainSettings, TeamsManage, MembersRead, OwnAccount,
		QualityContribute, QualityManage, DataRequests),
	Admin: set(ConversationsRead, ConversationsWrite, MessagesWrite, ConversationsAll, KBRead,
		KBWrite, KBPropose, KBReview, BrainSettings, TeamsManage, MembersRead, MembersManage,
		InboxesManage, AuditRead, OwnAccount, SecurityManage, APIKeysManage, WebhooksManage,
		DataManage, QualityContribute, QualityManage, DataRequests, LLMManage, TrustManage,
		IncidentsManage),
}

func set(ps ...Permission) map[Permission]bool {
	m := make(map[Permission]bool, len(ps))
	for _, p := range ps {
		m[p] = true
	}
	return m
}

// Allowed reports whether a role holds a permission.
func Allowed(r Role, p Permission) bool { return matrix[r][p] }
