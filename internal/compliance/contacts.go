package compliance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Contact is one escalation path: an address, and optionally a phone number
// and a page.
type Contact struct {
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Severity ranks an incident, SEV1 the gravest.
type Severity string

// The severities, gravest first.
const (
	SEV1 Severity = "sev1"
	SEV2 Severity = "sev2"
	SEV3 Severity = "sev3"
	SEV4 Severity = "sev4"
)

// Label is the severity as people write it: "SEV1".
func (s Severity) Label() string { return strings.ToUpper(string(s)) }

// Severities lists the severities, gravest first.
var Severities = []Severity{SEV1, SEV2, SEV3, SEV4}

// Meaning says, for people, what makes an incident of each severity.
var Meaning = map[Severity]string{
	SEV1: "customer data exposed, or the service down for everyone",
	SEV2: "a suspected breach, or a core feature down with no workaround",
	SEV3: "a feature degraded, with a workaround",
	SEV4: "a question, or a minor issue",
}

// Units of a response time.
const (
	Minutes      = "minutes"
	Hours        = "hours"
	BusinessDays = "business_days"
)

// Duration is a response time: an amount of minutes, hours or business days.
type Duration struct {
	Amount int    `json:"amount"`
	Unit   string `json:"unit"`
}

// String says the duration as a person would: "4 hours", "1 business day".
func (d Duration) String() string {
	unit := map[string]string{Minutes: "minute", Hours: "hour",
		BusinessDays: "business day"}[d.Unit]
	if d.Amount != 1 {
		unit += "s"
	}
	return strconv.Itoa(d.Amount) + " " + unit
}

// After is when a response promised within d of t is due. Business days
// skip Saturdays and Sundays (UTC).
func (d Duration) After(t time.Time) time.Time {
	switch d.Unit {
	case Minutes:
		return t.Add(time.Duration(d.Amount) * time.Minute)
	case Hours:
		return t.Add(time.Duration(d.Amount) * time.Hour)
	}
	due := t
	for n := d.Amount; n > 0; {
		due = due.Add(24 * time.Hour)
		if wd := due.UTC().Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return due
}

// DefaultResponseTimes are the response times of a workspace that set none.
var DefaultResponseTimes = map[Severity]Duration{
	SEV1: {1, Hours}, SEV2: {4, Hours}, SEV3: {1, BusinessDays}, SEV4: {3, BusinessDays},
}

// Contacts are a workspace's escalation contacts and the response times it
// promises by severity.
type Contacts struct {
	// Security receives vulnerability reports and security questions.
	Security Contact `json:"security"`
	// Billing takes escalations about invoices and payments.
	Billing Contact `json:"billing"`
	// Incident is the technical incident path: outages, suspected breaches.
	Incident      Contact               `json:"incident"`
	ResponseTimes map[Severity]Duration `json:"response_times"`
	// Languages are the languages reports may be written in, as language
	// tags, preferred first.
	Languages []string  `json:"languages"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Defaults are the contacts of a workspace that saved none: no addresses
// yet, the default response times, English.
func Defaults() Contacts {
	rt := map[Severity]Duration{}
	for k, v := range DefaultResponseTimes {
		rt[k] = v
	}
	return Contacts{ResponseTimes: rt, Languages: []string{"en"}}
}

var (
	phonePattern    = regexp.MustCompile(`^\+[0-9][0-9 ().-]{3,29}$`)
	emailPattern    = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
	languagePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

// check validates and tidies the contacts a person entered.
func (c *Contacts) check() error {
	paths := []struct {
		name string
		c    *Contact
	}{{"security", &c.Security}, {"billing", &c.Billing}, {"incident", &c.Incident}}
	for _, p := range paths {
		if err := p.c.check(p.name); err != nil {
			return err
		}
	}
	if c.ResponseTimes == nil {
		c.ResponseTimes = Defaults().ResponseTimes
	}
	for k := range c.ResponseTimes {
		if _, ok := DefaultResponseTimes[k]; !ok {
			return fmt.Errorf("compliance: %w: unknown severity %q; use sev1 to sev4",
				ErrInvalid, k)
		}
	}
	for _, sev := range Severities {
		d, ok := c.ResponseTimes[sev]
		if !ok {
			c.ResponseTimes[sev] = DefaultResponseTimes[sev]
			continue
		}
		if d.Amount < 1 || d.Amount > 999 || (d.Unit != Minutes && d.Unit != Hours &&
			d.Unit != BusinessDays) {
			return fmt.Errorf("compliance: %w: the %s response time is 1 to 999 minutes, "+
				"hours or business_days", ErrInvalid, strings.ToUpper(string(sev)))
		}
	}
	if len(c.Languages) == 0 {
		c.Languages = []string{"en"}
	}
	if len(c.Languages) > 10 {
		return fmt.Errorf("compliance: %w: at most 10 languages", ErrInvalid)
	}
	for _, l := range c.Languages {
		if !languagePattern.MatchString(l) {
			return fmt.Errorf("compliance: %w: %q is not a language tag such as en or "+
				"pt-BR", ErrInvalid, l)
		}
	}
	return nil
}

func (c *Contact) check(name string) error {
	c.Email, c.Phone, c.URL = strings.TrimSpace(c.Email), strings.TrimSpace(c.Phone),
		strings.TrimSpace(c.URL)
	a, err := mail.ParseAddress(c.Email)
	if err != nil || a.Address != c.Email || len(c.Email) > 254 ||
		!emailPattern.MatchString(c.Email) {
		return fmt.Errorf("compliance: %w: the %s contact needs an email address such as "+
			"security@example.com", ErrInvalid, name)
	}
	if c.Phone != "" && !phonePattern.MatchString(c.Phone) {
		return fmt.Errorf("compliance: %w: the %s phone number is international, "+
			"starting with +, with digits, spaces, ( ) . and - only", ErrInvalid, name)
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
			len(c.URL) > 500 || !utf8.ValidString(c.URL) ||
			strings.ContainsAny(c.URL, " \t\r\n<>\"") {
			return fmt.Errorf("compliance: %w: the %s page is an https:// address",
				ErrInvalid, name)
		}
	}
	return nil
}

// flat lists the contacts' fields by name, for the audit diff.
func (c Contacts) flat() map[string]string {
	out := map[string]string{"languages": strings.Join(c.Languages, ", ")}
	for name, p := range map[string]Contact{"security": c.Security, "billing": c.Billing,
		"incident": c.Incident} {
		out[name+".email"], out[name+".phone"], out[name+".url"] = p.Email, p.Phone, p.URL
	}
	for _, sev := range Severities {
		out["response_times."+string(sev)] = c.ResponseTimes[sev].String()
	}
	return out
}

// Contacts returns the workspace's contacts and whether it saved any: a
// workspace publishes its trust page, documents and security.txt only once
// it did.
func (s *Service) Contacts(ctx context.Context, wsID string) (Contacts, bool, error) {
	var raw, by string
	var at int64
	err := s.db.QueryRowContext(ctx, s.q.Contacts, wsID).Scan(&raw, &by, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Defaults(), false, nil
	}
	if err != nil {
		return Contacts{}, false, fmt.Errorf("compliance: contacts: %w", err)
	}
	c := Defaults()
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Contacts{}, false, fmt.Errorf("compliance: contacts: %w", err)
	}
	c.UpdatedBy, c.UpdatedAt = by, time.UnixMilli(at).UTC()
	return c, true, nil
}

// SetContacts replaces the workspace's contacts, which publishes its trust
// page, and audits what changed.
func (s *Service) SetContacts(ctx context.Context, wsID string, c Contacts,
	by string) (Contacts, error) {
	if err := c.check(); err != nil {
		return Contacts{}, err
	}
	old, _, err := s.Contacts(ctx, wsID)
	if err != nil {
		return Contacts{}, err
	}
	c.UpdatedBy, c.UpdatedAt = by, s.now().UTC().Truncate(time.Millisecond)
	stored := c
	stored.UpdatedBy, stored.UpdatedAt = "", time.Time{}
	raw, err := json.Marshal(stored)
	if err != nil {
		return Contacts{}, err
	}
	diff := audit.Diff{}
	before, after := old.flat(), c.flat()
	for k, v := range after {
		if before[k] != v {
			diff[k] = [2]any{before[k], v}
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SetContacts, wsID, string(raw), by,
			c.UpdatedAt.UnixMilli()); err != nil {
			return fmt.Errorf("compliance: set contacts: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.ContactsChanged, TargetType: "workspace", TargetID: wsID,
			Diff: diff})
	})
	return c, err
}
