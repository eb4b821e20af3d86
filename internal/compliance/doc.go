// Package compliance keeps what a workspace publishes about how it looks
// after its customers' data: its escalation contacts and the response times
// it promises (also served as security.txt, RFC 9116), its compliance
// documents as versioned Markdown drafted from its real settings, and the
// acceptance of the hosted service's terms by its admins. The public trust
// page is built from the same facts.
package compliance
