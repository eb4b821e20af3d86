package compliance

import (
	"net/url"
	"strings"
	"time"
)

// SecurityTxtLifetime is how far ahead a served security.txt expires. It is
// made afresh for each request, so it never goes stale; RFC 9116 asks for
// less than a year.
const SecurityTxtLifetime = 90 * 24 * time.Hour

// SecurityTxt writes the workspace's security.txt (RFC 9116): its security
// contact's address, page and phone, when it expires, the languages reports
// may be written in, where it is served (canonical) and the policy that
// describes the response times.
func SecurityTxt(c Contacts, canonical, policy string, now time.Time) string {
	var b strings.Builder
	line := func(field, value string) {
		b.WriteString(field + ": " + value + "\n")
	}
	b.WriteString("# Report security problems to the contacts below; response times by " +
		"severity are in the policy.\n")
	line("Contact", (&url.URL{Scheme: "mailto", Opaque: c.Security.Email}).String())
	if c.Security.URL != "" {
		line("Contact", c.Security.URL)
	}
	if c.Security.Phone != "" {
		line("Contact", "tel:"+telephone(c.Security.Phone))
	}
	line("Expires", now.UTC().Add(SecurityTxtLifetime).Truncate(time.Second).
		Format(time.RFC3339))
	line("Preferred-Languages", strings.Join(c.Languages, ", "))
	line("Canonical", canonical)
	line("Policy", policy)
	return b.String()
}

// telephone writes a phone number as a tel: URI's number (RFC 3966): spaces
// become the visual separator "-", which a URI may hold.
func telephone(phone string) string {
	return strings.Join(strings.Fields(phone), "-")
}
