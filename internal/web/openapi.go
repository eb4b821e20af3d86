package web

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/thunaivi/thunaivi/internal/access"
)

// apiOp describes one API route for the OpenAPI document. The route's
// method, path, permission and the scope a key needs come from the router,
// so the document cannot drift from what the server does; a test checks
// that every API route has an entry here and every entry a route.
type apiOp struct {
	id      string
	summary string
	// body lists the request's JSON properties and their types; nil for none.
	body map[string]string
	// status is the success status; 200 unless set.
	status int
}

var apiOps = map[string]apiOp{
	"GET /api/v1/me": {"getMe", "The signed-in member or the key's workspace", nil, 0},
	"GET /api/v1/conversations": {
		"listConversations",
		"Conversations, newest first, by cursor",
		nil,
		0,
	},
	"POST /api/v1/conversations": {"openConversation", "Open a conversation for a customer of " +
		"your own channel; their first message is routed at once",
		map[string]string{"inbox_id": "string", "contact": "object", "text": "string"}, 201},
	"GET /api/v1/conversations/{id}": {"getConversation", "A conversation's thread, notes, " +
		"drafts and AI decisions", nil, 0},
	"PATCH /api/v1/conversations/{id}": {"updateConversation", "Change status, priority, " +
		"labels, assignee or team", map[string]string{"status": "string", "priority": "string",
		"labels": "array", "assignee_id": "string", "team_id": "string"}, 0},
	"POST /api/v1/conversations/{id}/messages": {"addCustomerMessage", "Add the customer's " +
		"next message; it is routed as a widget message is. Sent again with the same " +
		"external_id (the channel's message id), it is stored once and answers 200",
		map[string]string{"text": "string", "external_id": "string"}, 201},
	"POST /api/v1/conversations/{id}/replies": {"reply", "Reply to the customer",
		map[string]string{"text": "string"}, 201},
	"POST /api/v1/conversations/{id}/notes": {"addNote", "Add a note for agents",
		map[string]string{"text": "string"}, 201},
	"POST /api/v1/conversations/{id}/attachments": {"replyWithFile", "Reply to the " +
		"customer with one file (multipart/form-data: file, and text as its caption); " +
		"PNG, JPEG, GIF, WebP, PDF, plain text or CSV, at most 10 MiB by default, 20 " +
		"files per conversation", map[string]string{"file": "file", "text": "string"}, 201},
	"GET /api/v1/conversations/{id}/attachments/{attachment}": {"getAttachment",
		"Download one of the conversation's files, always as an attachment", nil, 0},
	"POST /api/v1/conversations/{id}/drafts/{message}/approve": {"approveDraft",
		"Send an AI draft, optionally edited", map[string]string{"text": "string"}, 0},
	"POST /api/v1/conversations/{id}/drafts/{message}/reject": {"rejectDraft",
		"Discard an AI draft", nil, 0},
	"GET /api/v1/events":     {"events", "Live updates as Server-Sent Events", nil, 0},
	"GET /api/v1/kb/entries": {"listEntries", "Knowledge-base entries", nil, 0},
	"POST /api/v1/kb/entries": {"createEntry", "Create a knowledge-base entry",
		map[string]string{"title": "string", "answer": "string", "questions": "array",
			"reason": "string"}, 201},
	"GET /api/v1/kb/entries/{id}": {"getEntry", "An entry with its versions", nil, 0},
	"PUT /api/v1/kb/entries/{id}": {"updateEntry", "Change an entry, as a new version",
		map[string]string{"title": "string", "answer": "string", "questions": "array",
			"reason": "string"}, 0},
	"POST /api/v1/kb/entries/{id}/rollback": {"rollbackEntry", "Make an earlier version " +
		"current again, as a new version", map[string]string{"version": "integer",
		"reason": "string"}, 0},
	"GET /api/v1/kb/review": {"getReviewMode", "Who must have knowledge-base changes " +
		"reviewed: managers (everyone but managers and admins) or four_eyes (everyone)",
		nil, 0},
	"PUT /api/v1/kb/review": {"setReviewMode", "Change who must have changes reviewed",
		map[string]string{"mode": "string"}, 0},
	"GET /api/v1/kb/proposals": {"listProposals", "Proposed changes, newest first; " +
		"?state=pending|approved|rejected", nil, 0},
	"POST /api/v1/kb/proposals": {"propose", "Propose a new entry (base_version 0) or a " +
		"change to entry id as of base_version, for review",
		map[string]string{"id": "string", "base_version": "integer", "title": "string",
			"answer": "string", "questions": "array", "reason": "string"}, 201},
	"GET /api/v1/kb/proposals/{id}": {"getProposal", "A proposed change", nil, 0},
	"POST /api/v1/kb/proposals/{id}/approve": {"approveProposal", "Publish someone " +
		"else's proposal as the entry's next version", map[string]string{"note": "string"}, 0},
	"POST /api/v1/kb/proposals/{id}/reject": {"rejectProposal", "Close someone else's " +
		"proposal without publishing it", map[string]string{"note": "string"}, 0},
	"POST /api/v1/inboxes/{inbox}/history/delete": {"deleteChannelHistory", "Delete a " +
		"disconnected inbox's conversations and their contacts, as a deletion request " +
		"would, except what a legal hold keeps; returns the signed receipt", nil, 0},
	"PUT /api/v1/channels/meta": {"setMetaAppSecret", "The Meta app secret that signs " +
		"Meta's data-deletion callbacks to /channels/meta/{workspace}/data-deletion " +
		"(write-only)", map[string]string{"app_secret": "string"}, 204},
	"POST /api/v1/data-requests": {"fileDataRequest", "File a customer's request, made " +
		"by mail or in person, for access, portability or deletion; the contact is mailed " +
		"a link to confirm it", map[string]string{"contact_id": "string", "kinds": "array",
		"source": "string"}, 201},
	"GET /api/v1/data-requests":      {"listDataRequests", "Data requests, newest first", nil, 0},
	"GET /api/v1/data-requests/{id}": {"getDataRequest", "A data request", nil, 0},
	"POST /api/v1/data-requests/{id}/approve": {"approveDataRequest", "Carry out a " +
		"confirmed request: export and/or delete, and sign the receipt", nil, 0},
	"POST /api/v1/data-requests/{id}/reject": {"rejectDataRequest", "Close a request " +
		"without acting on it", map[string]string{"note": "string"}, 204},
	"GET /api/v1/data-requests/{id}/export": {"dataRequestExport", "The export's zip " +
		"(data.json, data.html), while it is kept", nil, 0},
	"GET /api/v1/retention": {"getRetention", "Retention periods in days by data class, " +
		"the defaults, and the server's audit retention", nil, 0},
	"PUT /api/v1/retention": {"setRetention", "Change some retention periods (0 keeps)",
		map[string]string{"conversations": "integer", "ai_decisions": "integer",
			"attachments": "integer",
			"contacts":    "integer", "security_events": "integer"}, 0},
	"GET /api/v1/retention/preview": {"previewPurge", "What the next purge would remove, " +
		"by count", nil, 0},
	"POST /api/v1/retention/purge": {"purge", "Purge what is past retention now", nil, 0},
	"GET /api/v1/legal-holds":      {"listLegalHolds", "Legal holds, live and lifted", nil, 0},
	"POST /api/v1/legal-holds": {"placeLegalHold", "Keep a contact's or conversation's " +
		"data until the hold is lifted", map[string]string{"target_type": "string",
		"target_id": "string", "reason": "string"}, 201},
	"POST /api/v1/legal-holds/{id}/lift": {"liftLegalHold", "Lift a legal hold",
		map[string]string{"reason": "string"}, 204},
	"GET /api/v1/kb/categories": {"listCategories", "Restricted categories", nil, 0},
	"PUT /api/v1/kb/categories/{name}": {"saveCategory", "Change a restricted category",
		map[string]string{"description": "string", "phrases": "array", "examples": "array"}, 0},
	"GET /api/v1/kb/thresholds": {"getThresholds", "Confidence thresholds", nil, 0},
	"PUT /api/v1/kb/thresholds": {"setThresholds", "Change the confidence thresholds",
		map[string]string{"answer": "number", "draft": "number"}, 0},
	"GET /api/v1/ai/policy": {"getAIPolicy", "The guardrails' settings: forbidden phrases " +
		"and the longest reply", nil, 0},
	"PUT /api/v1/ai/policy": {"setAIPolicy", "Change the guardrails' settings",
		map[string]string{"forbidden_claims": "array", "max_chars": "integer"}, 0},
	"GET /api/v1/trust/contacts": {"getTrustContacts", "The escalation contacts and " +
		"response times by severity, whether they are published, and the public addresses",
		nil, 0},
	"PUT /api/v1/trust/contacts": {"setTrustContacts", "Replace the escalation contacts " +
		"and response times (admins, after a step-up); publishes the trust page, documents " +
		"and security.txt", map[string]string{"security": "object", "billing": "object",
		"incident": "object", "response_times": "object", "languages": "array"}, 0},
	"GET /api/v1/trust/documents": {"listComplianceDocuments", "Each compliance document's " +
		"published version, and whether the settings it quotes changed since", nil, 0},
	"GET /api/v1/trust/documents/{kind}": {"getComplianceDocument", "A compliance " +
		"document: its current version, the draft from the current settings, and every " +
		"version", nil, 0},
	"POST /api/v1/trust/documents/{kind}/versions": {"saveComplianceDocument", "Save " +
		"Markdown as the document's next version; earlier versions stay published",
		map[string]string{"markdown": "string"}, 201},
	"GET /api/v1/trust/terms": {"getServiceTerms", "The hosted service's current terms " +
		"and whether the workspace accepted them", nil, 0},
	"POST /api/v1/trust/terms/accept": {"acceptServiceTerms", "Accept the current " +
		"version of the hosted service's terms for the workspace",
		map[string]string{"version": "integer"}, 201},
	"GET /api/v1/ai/llm": {"getLLM", "The optional LLM provider's settings and this " +
		"month's token usage; never the API key, only whether one is set and its last " +
		"four characters", nil, 0},
	"PUT /api/v1/ai/llm": {"setLLM", "Change the optional LLM provider (admins, after " +
		"a step-up); an empty api_key keeps the stored key",
		map[string]string{"enabled": "boolean", "base_url": "string", "model": "string",
			"api_key": "string", "tone": "string", "monthly_token_budget": "integer"}, 0},
	"POST /api/v1/kb/route": {"tryRoute", "What the AI would decide for a message",
		map[string]string{"text": "string"}, 0},
	"GET /api/v1/ai/golden": {"listGoldenCases", "The workspace's golden set", nil, 0},
	"POST /api/v1/ai/golden/import": {"importGoldenCases", "Add evaluation cases, one JSON " +
		"object a line as thunaivi eval reads them, to the golden set",
		map[string]string{"jsonl": "string"}, 201},
	"DELETE /api/v1/ai/golden/{id}": {"deleteGoldenCase", "Remove a golden case", nil, 204},
	"POST /api/v1/conversations/{id}/golden": {"addGoldenCase", "Record a customer's " +
		"message of the conversation as a golden case with its right outcome",
		map[string]string{"message_id": "string", "expect": "string", "kb": "string",
			"category": "string", "note": "string"}, 201},
	"POST /api/v1/conversations/{id}/messages/{message}/flag": {"flagReply", "Flag an AI " +
		"reply as wrong, with a note and the right outcome when known",
		map[string]string{"expect": "string", "kb": "string", "category": "string",
			"note": "string"}, 201},
	"GET /api/v1/ai/flags": {"listFlags", "AI replies agents flagged as wrong", nil, 0},
	"POST /api/v1/ai/flags/{id}/golden": {"goldenCaseFromFlag", "Make a golden case of a " +
		"flagged reply's customer message and its right outcome", nil, 201},
	"GET /api/v1/ai/runs": {"listQualityRuns", "Runs of the golden set, newest first, " +
		"with the thresholds", nil, 0},
	"POST /api/v1/ai/runs": {"runGoldenSet", "Run the golden set through the router and " +
		"guardrails now", nil, 201},
	"GET /api/v1/ai/quality/thresholds": {"getQualityThresholds", "The least restricted " +
		"recall and answer precision before an alert", nil, 0},
	"PUT /api/v1/ai/quality/thresholds": {"setQualityThresholds", "Change the quality " +
		"thresholds", map[string]string{"restricted_recall": "number",
		"answer_precision": "number"}, 0},
	"GET /api/v1/ai/kpis": {"getKPIs", "Weekly KPIs: deflection, escalation, wrong " +
		"answers, first response time, CSAT; ?weeks= (1 to 104, default 12)", nil, 0},
	"GET /api/v1/members": {"listMembers", "Members and the inboxes they work", nil, 0},
	"PATCH /api/v1/members/{user}": {"setRole", "Change a member's role",
		map[string]string{"role": "string"}, 204},
	"DELETE /api/v1/members/{user}":       {"removeMember", "Remove a member", nil, 204},
	"POST /api/v1/members/{user}/disable": {"disableMember", "Disable a member", nil, 204},
	"POST /api/v1/members/{user}/enable":  {"enableMember", "Enable a member again", nil, 204},
	"POST /api/v1/members/{user}/unlock": {"unlockMember", "Unlock a locked account", nil,
		204},
	"DELETE /api/v1/members/{user}/sessions": {"endMemberSessions", "End a member's sessions",
		nil, 204},
	"GET /api/v1/inboxes": {"listInboxes", "Inboxes", nil, 0},
	"POST /api/v1/inboxes": {"connectInbox", "Connect a website-chat inbox",
		map[string]string{"name": "string"}, 201},
	"DELETE /api/v1/inboxes/{inbox}": {"disconnectInbox", "Disconnect an inbox", nil, 204},
	"PUT /api/v1/inboxes/{inbox}/members/{user}": {"addInboxMember", "Let a member work an " +
		"inbox", nil, 204},
	"DELETE /api/v1/inboxes/{inbox}/members/{user}": {"removeInboxMember", "Take a member " +
		"off an inbox", nil, 204},
	"POST /api/v1/invitations": {"invite", "Invite a colleague; returns a one-time link",
		map[string]string{"email": "string", "role": "string", "inbox_ids": "array"}, 201},
	"GET /api/v1/invitations":         {"listInvitations", "Pending invitations", nil, 0},
	"DELETE /api/v1/invitations/{id}": {"revokeInvitation", "Revoke an invitation", nil, 204},
	"GET /api/v1/teams":               {"listTeams", "Teams", nil, 0},
	"POST /api/v1/teams": {"createTeam", "Create a team", map[string]string{"name": "string"},
		201},
	"PUT /api/v1/teams/{team}/members/{user}": {"addTeamMember", "Put a member in a team", nil,
		204},
	"GET /api/v1/audit": {"listAudit", "Audit entries, filtered and paged", nil, 0},
	"GET /api/v1/audit/export": {"exportAudit", "Export the audit log as CSV or JSON Lines",
		nil, 0},
	"POST /api/v1/audit/verify": {"verifyAudit", "Verify the audit chain", nil, 0},
	"GET /api/v1/security/summary": {"securitySummary", "Failed sign-ins and anomalies", nil,
		0},
	"GET /api/v1/security/settings": {"getSecuritySettings", "Security settings", nil, 0},
	"PUT /api/v1/security/settings": {"setSecuritySettings", "Change security settings",
		map[string]string{"office_domains": "array", "require_2fa": "boolean"}, 0},
	"POST /api/v1/security/admin-path": {"rotateAdminPath", "Replace the secret admin path",
		nil, 0},
	"GET /api/v1/sessions":         {"listSessions", "One's own sessions", nil, 0},
	"DELETE /api/v1/sessions/{id}": {"endSession", "End one of one's sessions", nil, 204},
	"POST /api/v1/sessions/end-all": {"endAllSessions", "End every session but one's own",
		nil, 0},
	"POST /api/v1/auth/login": {"signIn", "Sign in; sets the session cookie",
		map[string]string{"email": "string", "password": "string", "code": "string"}, 0},
	"POST /api/v1/auth/logout": {"signOut", "Sign out", nil, 204},
	"POST /api/v1/auth/step-up": {"stepUp", "Give the password and code again",
		map[string]string{"password": "string", "code": "string"}, 204},
	"POST /api/v1/account/2fa/setup": {"beginTOTP", "Begin two-factor set-up", nil, 0},
	"POST /api/v1/account/2fa/confirm": {"confirmTOTP", "Turn two-factor authentication on",
		map[string]string{"code": "string"}, 0},
	"POST /api/v1/account/2fa/disable": {"disableTOTP", "Turn two-factor authentication off",
		map[string]string{"password": "string", "code": "string"}, 204},
	"POST /api/v1/account/email/verify": {"mailVerification", "Mail oneself a verification " +
		"link", nil, 202},
	"POST /api/v1/account/email": {"changeEmail", "Change one's address",
		map[string]string{"email": "string"}, 202},
	"POST /api/v1/account/password": {"changePassword", "Change one's password",
		map[string]string{"password": "string"}, 204},
	"GET /api/v1/keys": {"listKeys", "API keys", nil, 0},
	"POST /api/v1/keys": {"createKey", "Create an API key, shown once",
		map[string]string{"name": "string", "scopes": "array", "allowed_ips": "array",
			"rate_limit": "integer", "expires_in_days": "integer"}, 201},
	"POST /api/v1/keys/{id}/roll": {"rollKey", "Roll a key; the old one lives for the overlap",
		map[string]string{"overlap_hours": "number"}, 201},
	"DELETE /api/v1/keys/{id}": {"revokeKey", "Revoke a key at once", nil, 204},
	"PATCH /api/v1/keys/{id}": {"updateKey", "Change a key's name, scopes, allowed " +
		"addresses or rate", map[string]string{"name": "string", "scopes": "array",
		"allowed_ips": "array", "rate_limit": "integer"}, 0},
	"POST /api/v1/keys/report-leak": {"reportLeak", "Report text holding leaked keys",
		map[string]string{"text": "string"}, 202},
	"GET /api/v1/openapi.json": {"openapi", "This document", nil, 0},
	"GET /api/v1/webhooks":     {"listWebhooks", "Webhook endpoints and the events", nil, 0},
	"POST /api/v1/webhooks": {"createWebhook", "Add an endpoint; its signing secret is " +
		"shown once", map[string]string{"url": "string", "events": "array"}, 201},
	"DELETE /api/v1/webhooks/{id}": {"deleteWebhook", "Remove an endpoint", nil, 204},
	"POST /api/v1/webhooks/{id}/rotate": {"rotateWebhookSecret", "Replace the signing " +
		"secret; the old one signs too for the overlap",
		map[string]string{"overlap_hours": "number"}, 0},
	"GET /api/v1/webhooks/{id}/deliveries": {"listDeliveries", "An endpoint's delivery log",
		nil, 0},
	"GET /api/v1/incidents": {"listIncidents", "The workspace's security incidents, " +
		"newest first", nil, 0},
	"POST /api/v1/incidents": {"openIncident", "Open an incident by hand",
		map[string]string{"title": "string", "severity": "integer", "owner_id": "string",
			"personal_data": "boolean", "drill": "boolean", "summary": "string",
			"window_hours": "integer"}, 201},
	"GET /api/v1/incidents/{id}": {"getIncident", "An incident with its clocks, steps and " +
		"timeline", nil, 0},
	"PATCH /api/v1/incidents/{id}": {"updateIncident", "Change an incident's severity, owner " +
		"or personal-data flag, or close it", map[string]string{"severity": "integer",
		"owner_id": "string", "personal_data": "boolean", "closed": "boolean"}, 0},
	"POST /api/v1/incidents/{id}/detect": {"incidentDetect", "Step 1: attach the triggering " +
		"audit entries", map[string]string{"audit_seqs": "array", "note": "string"}, 0},
	"POST /api/v1/incidents/{id}/contain": {"incidentContain", "Step 2: end sessions and " +
		"rotate API keys, webhook secrets and the admin path; new credentials are shown once",
		map[string]string{"user_ids": "array", "keep_api_keys": "boolean",
			"keep_webhook_secrets": "boolean", "keep_admin_path": "boolean"}, 0},
	"POST /api/v1/incidents/{id}/isolate": {"incidentIsolate", "Step 3: disable members, " +
		"revoke keys, disconnect channels, refuse ranges, pause the AI, freeze exports",
		map[string]string{"user_ids": "array", "key_ids": "array", "inbox_ids": "array",
			"ip_ranges": "array", "pause_ai": "boolean", "freeze_exports": "boolean"}, 0},
	"POST /api/v1/incidents/{id}/validate": {"incidentValidate", "Step 4: run the integrity " +
		"checks", nil, 0},
	"POST /api/v1/incidents/{id}/restore": {"incidentRestore", "Step 5: apply a saved " +
		"baseline (the latest unless named)", map[string]string{"baseline_id": "string"}, 0},
	"POST /api/v1/incidents/{id}/document": {"incidentDocument", "Step 6: record the " +
		"postmortem", map[string]string{"root_cause": "string", "impact": "string",
		"preventive": "string", "follow_ups": "array"}, 0},
	"GET /api/v1/incidents/{id}/postmortem": {"incidentPostmortem", "The postmortem as " +
		"Markdown", nil, 0},
	"GET /api/v1/security/baselines": {"listBaselines", "Saved security baselines", nil, 0},
	"POST /api/v1/security/baselines": {"saveBaseline", "Save the current security " +
		"configuration as a baseline", map[string]string{"name": "string"}, 201},
	"GET /api/v1/security/baselines/{id}/diff": {"compareBaseline", "How the workspace " +
		"differs from a baseline ('latest' for the newest)", nil, 0},
	"POST /api/v1/security/baselines/{id}/restore": {"restoreBaseline", "Apply a saved " +
		"baseline again", nil, 0},
	"GET /api/v1/security/lockdown": {"getLockdown", "Isolation in force and the recorded " +
		"release", nil, 0},
	"PUT /api/v1/security/lockdown": {"setLockdown", "Pause the AI, freeze exports, refuse " +
		"ranges, record the release", map[string]string{"ai_paused": "boolean",
		"exports_frozen": "boolean", "ip_deny": "array", "release_sha256": "string",
		"latest_release": "string"}, 0},
	"GET /api/v1/checklists": {"listChecklists", "Monthly security checklists, newest " +
		"first", nil, 0},
	"GET /api/v1/checklists/export": {"exportChecklists", "Every checklist with evidence " +
		"and sign-offs, as JSON or Markdown (format=json|md)", nil, 0},
	"GET /api/v1/checklists/{month}": {"getChecklist", "A month's checklist (2006-01) with " +
		"its evidence", nil, 0},
	"POST /api/v1/checklists/{month}/items/{item}/sign": {"signChecklistItem", "Sign an " +
		"item off with a note", map[string]string{"note": "string"}, 0},
}

// openAPIRoute serves the document; the router is complete by the time it
// is first asked for.
func (s *Server) openAPIRoute() {
	var once sync.Once
	var doc map[string]any
	s.public("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { doc = s.openAPI() })
		writeJSON(w, http.StatusOK, doc)
	})
}

// apiRoute reports whether a route belongs in the OpenAPI document.
func apiRoute(r Route) bool {
	_, path, _ := strings.Cut(r.Pattern, " ")
	return strings.HasPrefix(path, "/api/v1/") && !r.Admin
}

var pathParams = regexp.MustCompile(`\{([a-z]+)\}`)

// openAPI builds the OpenAPI 3.1 document of the API from the router's own
// table.
func (s *Server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	routes := s.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Pattern < routes[j].Pattern })
	for _, r := range routes {
		op, ok := apiOps[r.Pattern]
		if !apiRoute(r) || !ok {
			continue
		}
		method, path, _ := strings.Cut(r.Pattern, " ")
		status := op.status
		if status == 0 {
			status = http.StatusOK
		}
		o := map[string]any{"operationId": op.id, "summary": op.summary,
			"x-permission": string(r.Perm),
			"responses": map[string]any{
				strconv.Itoa(status): map[string]any{"description": http.StatusText(status)},
				"default": map[string]any{"description": "An error",
					"content": jsonContent(map[string]any{"$ref": "#/components/schemas/Error"})},
			}}
		var params []any
		for _, m := range pathParams.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}})
		}
		if method == http.MethodPost {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header",
				"schema": map[string]any{"type": "string", "maxLength": 255}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != nil {
			o["requestBody"] = requestBody(op.body)
		}
		switch scope, forKeys := keyScopes[r.Perm]; {
		case r.Perm == access.Public:
			o["security"] = []any{}
		case forKeys:
			o["security"] = []any{map[string]any{"apiKey": []string{string(scope)}},
				map[string]any{"session": []string{}}}
		default:
			o["security"] = []any{map[string]any{"session": []string{}}}
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Thunaivi API", "version": "1",
			"description": "Errors are {\"error\": {\"code\", \"message\", \"request_id\"}}. " +
				"A POST with an Idempotency-Key is served once; a retry gets the first answer " +
				"for 24 hours."},
		"servers": []any{map[string]any{"url": s.PublicURL}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"apiKey": map[string]any{"type": "http", "scheme": "bearer",
					"description": "A workspace API key, thv_sk_…, from servers only"},
				"session": map[string]any{"type": "apiKey", "in": "cookie",
					"name": s.cookieName()},
			},
			"schemas": map[string]any{"Error": map[string]any{"type": "object",
				"required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{"type": "object",
					"required": []string{"code", "message", "request_id"},
					"properties": map[string]any{"code": map[string]any{"type": "string"},
						"message":    map[string]any{"type": "string"},
						"request_id": map[string]any{"type": "string"}}}}}},
		},
	}
}

// requestBody describes a request's properties: a JSON object, or a
// multipart form when one of them is a file.
func requestBody(body map[string]string) map[string]any {
	props := map[string]any{}
	form := false
	for name, typ := range body {
		props[name] = map[string]any{"type": typ}
		if typ == "file" {
			props[name] = map[string]any{"type": "string", "format": "binary"}
			form = true
		}
	}
	schema := map[string]any{"type": "object", "properties": props}
	if form {
		return map[string]any{"required": true, "content": map[string]any{
			"multipart/form-data": map[string]any{"schema": schema}}}
	}
	return map[string]any{"required": true, "content": jsonContent(schema)}
}

func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}
