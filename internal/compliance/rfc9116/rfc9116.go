// Package rfc9116 checks a security.txt file against RFC 9116: the fields a
// file must hold, how often each may appear, and the form of their values.
package rfc9116

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// known are the fields RFC 9116 and its registry define; any other field
// must still be a valid field name, and is an extension.
var known = map[string]bool{"acknowledgments": true, "canonical": true, "contact": true,
	"encryption": true, "expires": true, "hiring": true, "policy": true,
	"preferred-languages": true, "csaf": true}

var (
	fieldName   = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`)
	languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)
	telNumber   = regexp.MustCompile(`^\+[0-9][0-9().-]*$`)
)

// Check reports every way body breaks RFC 9116 as served at servedURL at the
// time now: Contact at least once, each a valid mailto:, https: or tel: URI;
// Expires exactly once, in the future and less than a year ahead;
// Preferred-Languages at most once; servedURL among the Canonical URIs when
// any is given; web URIs over https; lines ending in CRLF or LF; only field
// lines, comments and blank lines.
func Check(body, servedURL string, now time.Time) error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !utf8.ValidString(body) {
		return errors.New("rfc9116: the file is not UTF-8")
	}
	if body == "" || !strings.HasSuffix(body, "\n") {
		fail("rfc9116: the last line does not end in CRLF or LF")
	}
	count := map[string]int{}
	var canonical []string
	for i, raw := range strings.SplitAfter(body, "\n") {
		if raw == "" {
			continue
		}
		ln := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
		if strings.ContainsRune(ln, '\r') {
			fail("rfc9116: line %d holds a bare CR", i+1)
			continue
		}
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		name, value, ok := strings.Cut(ln, ":")
		if !ok || !fieldName.MatchString(name) {
			fail("rfc9116: line %d is neither a field, a comment nor blank: %q", i+1, ln)
			continue
		}
		value = strings.TrimSpace(value)
		key := strings.ToLower(name)
		count[key]++
		if !known[key] {
			continue // an extension field
		}
		switch key {
		case "contact":
			if err := contactURI(value); err != nil {
				fail("rfc9116: line %d: %v", i+1, err)
			}
		case "expires":
			t, err := time.Parse(time.RFC3339, value)
			switch {
			case err != nil:
				fail("rfc9116: line %d: Expires %q is not an RFC 3339 time", i+1, value)
			case !t.After(now):
				fail("rfc9116: the file expired at %s", value)
			case !t.Before(now.AddDate(1, 0, 0)):
				fail("rfc9116: Expires %s is a year or more ahead", value)
			}
		case "preferred-languages":
			for _, tag := range strings.Split(value, ",") {
				if !languageTag.MatchString(strings.TrimSpace(tag)) {
					fail("rfc9116: line %d: %q is not a language tag", i+1, tag)
				}
			}
		case "canonical", "policy", "acknowledgments", "encryption", "hiring", "csaf":
			u, err := url.Parse(value)
			if err != nil || !u.IsAbs() || (u.Scheme == "http") ||
				(u.Scheme == "https" && u.Host == "") {
				fail("rfc9116: line %d: %s %q is not an absolute URI (web URIs use https)",
					i+1, name, value)
			}
			if key == "canonical" {
				canonical = append(canonical, value)
			}
		}
	}
	if count["contact"] == 0 {
		fail("rfc9116: no Contact field")
	}
	if count["expires"] != 1 {
		fail("rfc9116: Expires appears %d times, not once", count["expires"])
	}
	if count["preferred-languages"] > 1 {
		fail("rfc9116: Preferred-Languages appears %d times", count["preferred-languages"])
	}
	if len(canonical) > 0 && !contains(canonical, servedURL) {
		fail("rfc9116: served at %s, which no Canonical field names (%v)", servedURL,
			canonical)
	}
	return errors.Join(errs...)
}

func contactURI(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("Contact %q is not a URI", v)
	}
	switch u.Scheme {
	case "mailto":
		if _, err := mail.ParseAddress(u.Opaque); err != nil || u.Opaque == "" {
			return fmt.Errorf("Contact %q is not a mailto: address", v)
		}
	case "https":
		if u.Host == "" {
			return fmt.Errorf("Contact %q has no host", v)
		}
	case "tel":
		if !telNumber.MatchString(u.Opaque) {
			return fmt.Errorf("Contact %q is not a global tel: number", v)
		}
	default:
		return fmt.Errorf("Contact %q is not mailto:, https: or tel:", v)
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
