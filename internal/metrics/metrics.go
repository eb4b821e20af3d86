// Package metrics counts what an operator watches Thunaivi by: sign-ins,
// refused requests, routing decisions, handoffs, audit writes, responses. It
// serves them in the Prometheus text format.
//
// Every label takes its value from a fixed set, and a value outside it is
// counted as "other", so what a client sends cannot add series. Counting is
// one atomic add and allocates nothing; a nil *Registry counts nothing.
package metrics

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// other is the label value every value outside a counter's set is counted as.
const other = "other"

// Registry holds the counters of one running server. The app makes one and
// hands it to whatever counts.
type Registry struct {
	start     time.Time
	version   string
	goversion string

	logins        *counter
	denied        *counter
	probes        *counter
	decisions     *counter
	handoffs      *counter
	webhookFails  *counter
	auditEntries  *counter
	auditFailures *counter
	responses     *counter
	llmCalls      *counter
	llmFallbacks  *counter

	// counters are the counters in the order they are written out.
	counters []*counter
}

// New returns a registry whose counters start at zero; start is when the
// process started.
func New(start time.Time) *Registry {
	r := &Registry{start: start, version: "unknown", goversion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		r.version = bi.Main.Version
	}
	r.logins = r.add("thunaivi_logins_total", "Sign-in attempts by outcome.",
		"outcome", "success", "failure", "throttled")
	r.denied = r.add("thunaivi_requests_denied_total",
		"Requests refused: no session, no permission, another site or a rate limit.",
		"reason", "unauthenticated", "forbidden", "cross_origin", "rate_limited")
	r.probes = r.add("thunaivi_probes_total",
		"Requests for paths that only scanners ask for, blocked.", "")
	r.decisions = r.add("thunaivi_routing_decisions_total",
		"What the AI decided for customer messages.",
		"outcome", "answer", "draft", "handoff", "courtesy")
	r.handoffs = r.add("thunaivi_handoffs_total",
		"Handoffs to a person, by the category that caused them.",
		"category", "security", "payment_dispute", "privacy", "legal", "angry",
		"human_request", "marked_entry", "low_confidence", "prompt_injection")
	r.webhookFails = r.add("thunaivi_webhook_failures_total",
		"Webhook deliveries that failed.", "")
	r.auditEntries = r.add("thunaivi_audit_entries_total", "Audit entries written.", "")
	r.auditFailures = r.add("thunaivi_audit_write_failures_total",
		"Audit entries that could not be written.", "")
	r.responses = r.add("thunaivi_http_requests_total",
		"HTTP requests answered, by status class.", "class", "2xx", "3xx", "4xx", "5xx")
	r.llmCalls = r.add("thunaivi_llm_calls_total",
		"Calls to workspaces' LLM providers, by how they ended.", "outcome", "ok", "timeout",
		"unreachable", "refused", "error_status", "malformed", "key")
	r.llmFallbacks = r.add("thunaivi_llm_fallbacks_total",
		"Answers sent as the knowledge base wrote them because the LLM gave none.",
		"reason", "error", "budget")
	return r
}

// add makes a counter and appends it to the registry's output. A counter with
// a label gets one series per value and one more for "other".
func (r *Registry) add(name, help, label string, values ...string) *counter {
	c := &counter{name: name, help: help, label: label}
	if label != "" {
		c.values = append(values, other)
	}
	c.counts = make([]atomic.Uint64, max(len(c.values), 1))
	r.counters = append(r.counters, c)
	return c
}

// Login counts a sign-in attempt: outcome is success, failure or throttled.
func (r *Registry) Login(outcome string) {
	if r != nil {
		r.logins.inc(outcome)
	}
}

// Denied counts a refused request: reason is unauthenticated, forbidden,
// cross_origin or rate_limited, the error codes the client sees.
func (r *Registry) Denied(reason string) {
	if r != nil {
		r.denied.inc(reason)
	}
}

// Probe counts a blocked scanner probe.
func (r *Registry) Probe() {
	if r != nil {
		r.probes.counts[0].Add(1)
	}
}

// Decision counts a routing decision: outcome is answer, draft, handoff or
// courtesy.
func (r *Registry) Decision(outcome string) {
	if r != nil {
		r.decisions.inc(outcome)
	}
}

// Handoff counts a handoff to a person by category: security,
// payment_dispute, privacy, legal, angry, human_request, marked_entry or
// low_confidence. A workspace's own restricted categories count as other.
func (r *Registry) Handoff(category string) {
	if r != nil {
		r.handoffs.inc(category)
	}
}

// WebhookFailure counts a webhook delivery that failed.
func (r *Registry) WebhookFailure() {
	if r != nil {
		r.webhookFails.counts[0].Add(1)
	}
}

// AuditEntry counts an audit entry written.
func (r *Registry) AuditEntry() {
	if r != nil {
		r.auditEntries.counts[0].Add(1)
	}
}

// AuditWriteFailure counts an audit entry that could not be written.
func (r *Registry) AuditWriteFailure() {
	if r != nil {
		r.auditFailures.counts[0].Add(1)
	}
}

// HTTP counts an answered request by the class of its status code; a code
// outside 200–599 counts as other.
func (r *Registry) HTTP(status int) {
	if r == nil {
		return
	}
	i := status/100 - 2
	if status < 200 || i >= len(r.responses.values)-1 {
		i = len(r.responses.values) - 1
	}
	r.responses.counts[i].Add(1)
}

// LLMCall counts a call to an LLM provider: outcome is ok, or how it failed:
// timeout, unreachable, refused (a non-public address), error_status,
// malformed, key (the stored key did not open).
func (r *Registry) LLMCall(outcome string) {
	if r != nil {
		r.llmCalls.inc(outcome)
	}
}

// LLMFallback counts an answer sent without the LLM's rewrite: reason is
// error, or budget when the workspace's month's tokens were spent.
func (r *Registry) LLMFallback(reason string) {
	if r != nil {
		r.llmFallbacks.inc(reason)
	}
}

// counter is a monotonic count, with at most one label.
type counter struct {
	name string
	help string
	// label is the label's name, empty for a counter without one.
	label string
	// values are the label's values, other last; counts holds one count for
	// each, or a single count when there is no label.
	values []string
	counts []atomic.Uint64
}

// inc adds one to the series of value, or to other's when value is not one
// of the counter's. The sets are a handful of short strings: a scan beats a
// map lookup.
func (c *counter) inc(value string) {
	last := len(c.values) - 1
	for i, v := range c.values[:last] {
		if v == value {
			c.counts[i].Add(1)
			return
		}
	}
	c.counts[last].Add(1)
}
