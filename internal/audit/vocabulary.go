package audit

// Action names what happened. Every action the product records is listed
// here with its meaning; Record refuses any other, so the vocabulary in
// docs/AUDIT.md, generated from this table, is complete.
type Action string

// The vocabulary. Names are object.verb, past tense, lower case.
const (
	LoginSucceeded Action = "authn.login.success"
	LoginFailed    Action = "authn.login.fail"
	LoggedOut      Action = "authn.logout"
	RecoveryUsed   Action = "authn.recovery_code_used"
	SteppedUp      Action = "authn.step_up"

	UserLocked      Action = "user.locked"
	UserUnlocked    Action = "user.unlocked"
	SecondFactorOn  Action = "user.2fa_enabled"
	SecondFactorOff Action = "user.2fa_disabled"
	EmailCodeSent   Action = "user.email_verification_sent"
	EmailChanged    Action = "user.email_changed"
	PasswordChanged Action = "user.password_changed"
	EmailVerified   Action = "user.email_verified"
	Denied          Action = "authz.denied"
	SessionRevoked  Action = "session.revoked"

	WorkspaceCreated   Action = "workspace.created"
	RoleChanged        Action = "user.role_changed"
	MemberInvited      Action = "member.invited"
	InvitationRevoked  Action = "member.invitation_revoked"
	MemberJoined       Action = "member.joined"
	MemberRemoved      Action = "member.removed"
	MemberDisabled     Action = "member.disabled"
	MemberEnabled      Action = "member.enabled"
	InboxAccessChanged Action = "member.inbox_access_changed"
	TeamCreated        Action = "team.created"
	TeamMemberAdded    Action = "team.member_added"

	ChannelConnected    Action = "channel.connected"
	ChannelDisconnected Action = "channel.disconnected"

	APIKeyCreated Action = "apikey.created"
	APIKeyRolled  Action = "apikey.rolled"
	APIKeyUpdated Action = "apikey.updated"
	APIKeyRevoked Action = "apikey.revoked"
	APIKeyLeaked  Action = "apikey.leak_reported"
	APIKeyUsed    Action = "apikey.used"

	WebhookCreated       Action = "webhook.created"
	WebhookDeleted       Action = "webhook.deleted"
	WebhookSecretRotated Action = "webhook.secret_rotated"

	SettingChanged       Action = "setting.changed"
	AdminPathRotated     Action = "setting.admin_path_rotated"
	KBPublished          Action = "kb.published"
	KBImported           Action = "kb.imported"
	KBProposed           Action = "kb.proposed"
	KBProposalRejected   Action = "kb.proposal_rejected"
	RetentionChanged     Action = "retention.changed"
	DataRequestFiled     Action = "data_request.filed"
	DataRequestVerified  Action = "data_request.verified"
	DataRequestRejected  Action = "data_request.rejected"
	DataRequestCompleted Action = "data_request.completed"
	DataRequestExported  Action = "data_request.exported"
	DataRequestOverdue   Action = "data_request.overdue"
	LegalHoldPlaced      Action = "legal_hold.placed"
	LegalHoldLifted      Action = "legal_hold.lifted"
	KBReviewChanged      Action = "kb.review_changed"

	GoldenCaseAdded    Action = "quality.golden_case_added"
	GoldenCasesImport  Action = "quality.golden_cases_imported"
	GoldenCaseDeleted  Action = "quality.golden_case_deleted"
	QualityRunRecorded Action = "quality.run_recorded"
	QualityAlerted     Action = "quality.alert_raised"
	AIReplyFlagged     Action = "quality.ai_reply_flagged"
	ChannelConfigured  Action = "channel.configured"
	LLMChanged         Action = "ai.llm_changed"

	ContactsChanged    Action = "trust.contacts_changed"
	DocumentSaved      Action = "compliance.document_saved"
	TermsAccepted      Action = "compliance.terms_accepted"
	IncidentOpened     Action = "incident.opened"
	IncidentUpdated    Action = "incident.updated"
	IncidentDetected   Action = "incident.event_attached"
	IncidentStepDone   Action = "incident.step_completed"
	IncidentExported   Action = "incident.postmortem_exported"
	LockdownChanged    Action = "security.lockdown_changed"
	BaselineSaved      Action = "baseline.saved"
	BaselineRestored   Action = "baseline.restored"
	ChecklistGenerated Action = "checklist.generated"
	ChecklistSigned    Action = "checklist.item_signed"
	ChecklistOverdue   Action = "checklist.item_overdue"

	ExportCreated Action = "export.created"
	DataDeleted   Action = "data.deleted"
	AuditVerified Action = "audit.verified"
	ProbeBlocked  Action = "probe.blocked"

	BackupCreated  Action = "backup.created"
	BackupVerified Action = "backup.verified"
	BackupRestored Action = "backup.restored"
)

// Vocabulary describes every action, for people: the console's filter and
// docs/AUDIT.md.
var Vocabulary = []struct {
	Action  Action
	Meaning string
}{
	{LoginSucceeded, "a member signed in; the target is the user"},
	{LoginFailed, "a sign-in was refused: wrong password, unknown account; " +
		"the actor's email is masked when no account has it"},
	{LoggedOut, "a member signed out, ending the session"},
	{RecoveryUsed, "a member signed in with a recovery code instead of an " +
		"authenticator code; the diff says how many are left"},
	{SteppedUp, "a member gave their password and code again, as a sensitive " +
		"action asks when the last time is over ten minutes ago"},
	{UserLocked, "an account was locked after 100 failed sign-ins in a row; only an " +
		"admin unlocks it"},
	{UserUnlocked, "an admin unlocked a locked account"},
	{SecondFactorOn, "a member turned on two-factor authentication (TOTP)"},
	{SecondFactorOff, "a member turned off two-factor authentication, after giving " +
		"their password and a code again"},
	{EmailCodeSent, "a verification link was mailed to a member's address"},
	{EmailChanged, "a member changed their email address, after giving their password " +
		"and code again; the new address is unverified until they open the link"},
	{PasswordChanged, "a member changed their password, after giving their password and " +
		"code again; their other sessions ended"},
	{EmailVerified, "a member opened the link mailed to their address, proving it is theirs"},
	{Denied, "a signed-in member asked for something their role does not allow"},
	{SessionRevoked, "sessions were ended by someone else or by a rule, " +
		"such as removal from the workspace"},
	{WorkspaceCreated, "a workspace and its first admin were created"},
	{RoleChanged, "a member's role changed; the diff holds the old and new role"},
	{MemberInvited, "an invitation was sent, with the role and inboxes it grants"},
	{InvitationRevoked, "a pending invitation was revoked"},
	{MemberJoined, "an invitation was accepted and its holder joined"},
	{MemberRemoved, "a member was removed from the workspace"},
	{MemberDisabled, "an admin disabled a member: their sessions ended and they cannot " +
		"sign in until enabled"},
	{MemberEnabled, "an admin enabled a disabled member again"},
	{InboxAccessChanged, "a member was given or lost access to an inbox"},
	{TeamCreated, "a team was created"},
	{TeamMemberAdded, "a member joined a team"},
	{ChannelConnected, "an inbox (a channel customers write to) was connected"},
	{ChannelDisconnected, "an inbox was disconnected; its widget token stops working"},
	{APIKeyCreated, "an admin created an API key; the diff holds its name, scopes and " +
		"expiry, never the key"},
	{APIKeyRolled, "an admin rolled an API key: a new key replaces it, and the old one " +
		"works until the overlap ends"},
	{APIKeyUpdated, "an admin changed an API key's name, scopes, allowed addresses or " +
		"rate; the diff holds old and new"},
	{APIKeyRevoked, "an API key was revoked, with the reason: by an admin, or found leaked"},
	{APIKeyLeaked, "a live API key was found leaked (reported, pasted in a conversation, " +
		"sent in a URL) and revoked at once"},
	{APIKeyUsed, "an API key was used: its first use, its first use from a new " +
		"address, and a count per hour"},
	{WebhookCreated, "an admin added a webhook endpoint, with its URL and events"},
	{WebhookDeleted, "an admin removed a webhook endpoint"},
	{WebhookSecretRotated, "a webhook endpoint's signing secret was replaced; the old one " +
		"signs too until its overlap ends"},
	{SettingChanged, "a workspace setting changed: AI thresholds, restricted " +
		"categories; the diff holds old and new values"},
	{AdminPathRotated, "the workspace's secret admin path was set or replaced; " +
		"the path itself is never recorded"},
	{LLMChanged, "an admin changed the workspace's LLM provider: on or off, base URL, " +
		"model, tone or monthly token budget; a new API key shows " +
		"only as changed, never the key"},
	{ContactsChanged, "an admin changed the workspace's escalation contacts or the " +
		"response times it promises, published in its security.txt and trust page; the " +
		"diff holds old and new"},
	{DocumentSaved, "an admin saved a new version of a compliance document (privacy " +
		"policy, terms, cookies, data processing, security); every earlier version stays"},
	{TermsAccepted, "an admin accepted a version of the hosted service's terms for the " +
		"workspace"},
	{KBPublished, "a knowledge-base entry was created or changed"},
	{KBImported, "knowledge-base entries were imported from a file"},
	{KBProposed, "a change to a knowledge-base entry was proposed for review"},
	{KBProposalRejected, "a reviewer rejected a proposed knowledge-base change"},
	{ChannelConfigured, "a channel's settings changed, such as the Meta app secret that " +
		"signs data-deletion callbacks; secrets are never recorded"},
	{DataRequestFiled, "a customer's request for their data or its deletion was filed"},
	{DataRequestVerified, "the requester proved control of the contact"},
	{DataRequestRejected, "a manager or admin rejected a data request, with the reason, " +
		"or a newer request for the same address replaced one awaiting its link"},
	{DataRequestCompleted, "a data request was carried out: exported and/or deleted, by count"},
	{DataRequestExported, "a data request's export was downloaded"},
	{DataRequestOverdue, "a data request passed its due date unfinished"},
	{RetentionChanged, "a workspace's retention period for a class of data changed"},
	{LegalHoldPlaced, "a legal hold now keeps a contact's or conversation's data past retention"},
	{LegalHoldLifted, "a legal hold was lifted; the data is purged again when due"},
	{KBReviewChanged, "who must have knowledge-base changes reviewed was changed"},
	{GoldenCaseAdded, "a golden case was added to the workspace's golden set, from a " +
		"conversation or a flagged AI reply; the diff holds the expected outcome"},
	{GoldenCasesImport, "golden cases were imported from a file of evaluation cases; " +
		"the diff holds how many"},
	{GoldenCaseDeleted, "a golden case was removed from the golden set"},
	{QualityRunRecorded, "the golden set was run through the router and guardrails: " +
		"weekly, after a knowledge-base publish, or by hand; the diff holds the metrics"},
	{QualityAlerted, "a quality run fell below the workspace's thresholds and its " +
		"managers and admins were alerted; the diff names the metrics"},
	{AIReplyFlagged, "an agent flagged an AI reply as wrong, with a note and the right " +
		"outcome when given"},
	{IncidentOpened, "an incident was opened, by a member or by a detector (a leaked API " +
		"key, a burst of failed sign-ins, a suspicious session, a broken audit chain); " +
		"the diff holds its severity and detector"},
	{IncidentUpdated, "an incident's severity, owner or personal-data flag changed, or it " +
		"was closed; the diff holds old and new"},
	{IncidentDetected, "a detector fired again while an incident of its kind was open, " +
		"and its events were attached to that incident"},
	{IncidentStepDone, "a step of the incident playbook was carried out: detect, contain, " +
		"isolate, validate, restore or document; the diff counts what it did"},
	{IncidentExported, "an incident's postmortem was exported as Markdown"},
	{LockdownChanged, "a workspace's isolation changed: AI auto-replies paused, exports " +
		"frozen, address ranges refused; or the release it should run was recorded"},
	{BaselineSaved, "a security baseline (members and roles, security settings, restricted " +
		"categories, retention, webhook targets) was saved"},
	{BaselineRestored, "a saved security baseline was applied again; the diff counts the " +
		"changes made"},
	{ChecklistGenerated, "the monthly security checklist was generated with its evidence"},
	{ChecklistSigned, "an admin signed off an item of the monthly security checklist, " +
		"with a note"},
	{ChecklistOverdue, "an item of the monthly security checklist was left unsigned past " +
		"its due date and the admins were alerted"},
	{ExportCreated, "data left the product as a file, such as an audit export"},
	{DataDeleted, "data was deleted, such as audit entries past retention; " +
		"counts only, never content"},
	{AuditVerified, "the audit chain was verified from the console or the API"},
	{BackupCreated, "an operator wrote an encrypted backup (thunaivi backup); the target " +
		"is the file's SHA-256, the diff its size, rows and the master key it is sealed under"},
	{BackupVerified, "a backup was restored into a scratch store and checked (thunaivi " +
		"restore --verify): failure when a row count, the audit chain or a sealed value " +
		"did not hold up"},
	{BackupRestored, "this store was restored from a backup (thunaivi restore), recorded " +
		"in the restored store's own log"},
	{ProbeBlocked, "a request was refused as an attack probe: a scanner's path " +
		"or a cross-site form post"},
}

var known = func() map[Action]bool {
	m := make(map[Action]bool, len(Vocabulary))
	for _, v := range Vocabulary {
		m[v.Action] = true
	}
	return m
}()

// Known reports whether a is in the vocabulary.
func Known(a Action) bool { return known[a] }
