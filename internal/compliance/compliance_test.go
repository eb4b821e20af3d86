package compliance_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/compliance"
	"github.com/thunaivi/thunaivi/internal/compliance/rfc9116"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

type fixture struct {
	a     *app.App
	clock *clocktest.Clock
	ws    string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	clock := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	a, err := app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := a.Workspaces.Setup(context.Background(), a.Identity, "",
		workspace.SetupRequest{Workspace: "Shop", AdminEmail: "admin@shop.example",
			AdminPassword: "compliance test pw 1"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{a: a, clock: clock, ws: ws.Workspace.ID}
}

func valid() compliance.Contacts {
	c := compliance.Defaults()
	c.Security = compliance.Contact{Email: "security@shop.example", Phone: "+44 20 7946 0000",
		URL: "https://shop.example/security"}
	c.Billing = compliance.Contact{Email: "billing@shop.example"}
	c.Incident = compliance.Contact{Email: "oncall@shop.example"}
	return c
}

func TestContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c, saved, err := f.a.Compliance.Contacts(ctx, f.ws)
		if err != nil || saved || c.ResponseTimes[compliance.SEV3].String() != "1 business day" ||
			c.ResponseTimes[compliance.SEV1].String() != "1 hour" {
			t.Fatalf("defaults: %+v, %v, %v", c, saved, err)
		}
		bad := map[string]func(c *compliance.Contacts){
			"no security address": func(c *compliance.Contacts) { c.Security.Email = "" },
			"a name, not an address": func(c *compliance.Contacts) {
				c.Billing.Email = "Billing <billing@shop.example>"
			},
			"plain http page": func(c *compliance.Contacts) {
				c.Security.URL = "http://shop.example/security"
			},
			"script page": func(c *compliance.Contacts) {
				c.Incident.URL = "javascript:alert(1)"
			},
			"local phone": func(c *compliance.Contacts) { c.Security.Phone = "020 7946" },
			"unknown severity": func(c *compliance.Contacts) {
				c.ResponseTimes["sev9"] = c.ResponseTimes["sev1"]
			},
			"zero hours": func(c *compliance.Contacts) {
				c.ResponseTimes[compliance.SEV2] = compliance.Duration{Amount: 0, Unit: "hours"}
			},
			"weeks": func(c *compliance.Contacts) {
				c.ResponseTimes[compliance.SEV4] = compliance.Duration{Amount: 1, Unit: "weeks"}
			},
			"language": func(c *compliance.Contacts) { c.Languages = []string{"en\nContact: x"} },
		}
		for name, spoil := range bad {
			c := valid()
			spoil(&c)
			_, err := f.a.Compliance.SetContacts(ctx, f.ws, c, "admin@shop.example")
			if !errors.Is(err, compliance.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if _, saved, _ := f.a.Compliance.Contacts(ctx, f.ws); saved {
			t.Fatal("a refused change was saved")
		}
		c = valid()
		c.ResponseTimes[compliance.SEV1] = compliance.Duration{Amount: 30, Unit: "minutes"}
		if _, err := f.a.Compliance.SetContacts(ctx, f.ws, c, "admin@shop.example"); err != nil {
			t.Fatal(err)
		}
		got, saved, err := f.a.Compliance.Contacts(ctx, f.ws)
		if err != nil || !saved || got.Security.Email != "security@shop.example" ||
			got.ResponseTimes[compliance.SEV1].String() != "30 minutes" ||
			got.UpdatedBy != "admin@shop.example" || !got.UpdatedAt.Equal(f.clock.Now()) {
			t.Fatalf("saved: %+v, %v, %v", got, saved, err)
		}
		entries, err := f.a.Audit.List(ctx, audit.Filter{Workspace: f.ws,
			Action: string(audit.ContactsChanged)})
		if err != nil || len(entries) != 1 ||
			!strings.Contains(entries[0].Diff, `"response_times.sev1":["1 hour","30 minutes"]`) {
			t.Fatalf("audit: %+v, %v", entries, err)
		}
	})
}

func TestSecurityTxtPassesRFC9116(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := valid()
	c.Languages = []string{"en", "ta"}
	const at = "https://support.example/.well-known/security.txt"
	txt := compliance.SecurityTxt(c, at, "https://support.example/trust/ws/documents/security",
		now)
	if err := rfc9116.Check(txt, at, now); err != nil {
		t.Fatalf("%v\n%s", err, txt)
	}
	for _, want := range []string{"Contact: mailto:security@shop.example\n",
		"Contact: https://shop.example/security\n", "Contact: tel:+44-20-7946-0000\n",
		"Expires: 2026-05-30T09:00:00Z\n", "Preferred-Languages: en, ta\n"} {
		if !strings.Contains(txt, want) {
			t.Errorf("security.txt lacks %q:\n%s", want, txt)
		}
	}
	// The check itself catches each way a file can break the RFC.
	good := "Contact: mailto:a@b.example\nExpires: 2026-06-01T00:00:00Z\n" +
		"Canonical: " + at + "\n"
	if err := rfc9116.Check(good, at, now); err != nil {
		t.Fatal(err)
	}
	if err := rfc9116.Check(strings.ReplaceAll(good, "\n", "\r\n"), at, now); err != nil {
		t.Fatalf("CRLF lines: %v", err)
	}
	broken := map[string]string{
		"no contact":        "Expires: 2026-06-01T00:00:00Z\n",
		"no expiry":         "Contact: mailto:a@b.example\n",
		"two expiries":      good + "Expires: 2026-06-02T00:00:00Z\n",
		"expired":           strings.Replace(good, "2026-06-01", "2026-02-01", 1),
		"a year ahead":      strings.Replace(good, "2026-06-01", "2027-03-02", 1),
		"not a time":        strings.Replace(good, "2026-06-01T00:00:00Z", "next June", 1),
		"http contact":      strings.Replace(good, "mailto:a@b.example", "http://b.example", 1),
		"ftp contact":       strings.Replace(good, "mailto:a@b.example", "ftp://b.example", 1),
		"bad address":       strings.Replace(good, "a@b.example", "not an address", 1),
		"served elsewhere":  strings.Replace(good, at, "https://other.example/security.txt", 1),
		"garbage line":      good + "this is not a field\n",
		"bare CR":           "Contact: mailto:a@b.example\rExpires: 2026-06-01T00:00:00Z\n",
		"no final newline":  strings.TrimSuffix(good, "\n"),
		"two languages":     good + "Preferred-Languages: en\nPreferred-Languages: fr\n",
		"a bad language":    good + "Preferred-Languages: en, !!\n",
		"plain http policy": good + "Policy: http://b.example/policy\n",
	}
	for name, body := range broken {
		if err := rfc9116.Check(body, at, now); err == nil {
			t.Errorf("%s: passed the check:\n%s", name, body)
		}
	}
	if err := rfc9116.Check(good+"X-Team: blue\n# a comment\n\n", at, now); err != nil {
		t.Errorf("an extension field, a comment and a blank line: %v", err)
	}
}

func facts(c compliance.Contacts, conversations int) compliance.Facts {
	return compliance.Facts{Workspace: "Shop", TrustURL: "https://s.example/trust/ws",
		DocumentsURL: "https://s.example/trust/ws/documents", Contacts: c,
		Transport: "HTTPS", AuditDays: 400, Roles: compliance.Roles(),
		Retention: []compliance.Period{{Class: "conversations", Label: "Conversations",
			Days: conversations}},
		Subprocessors: []compliance.Subprocessor{{Name: "api.llm.example",
			Purpose: "rewrites answers"}}}
}

func TestDraftsQuoteTheSettings(t *testing.T) {
	for _, kind := range compliance.Kinds {
		d, err := compliance.Draft(kind, facts(valid(), 730))
		if err != nil || !strings.HasPrefix(d, "# ") || strings.Contains(d, "<no value>") {
			t.Fatalf("%s: %v\n%s", kind, err, d)
		}
	}
	before, _ := compliance.Draft(compliance.DataProcessing, facts(valid(), 730))
	c := valid()
	c.Security.Email = "trust@shop.example"
	after, _ := compliance.Draft(compliance.DataProcessing, facts(c, 90))
	for _, want := range []string{"| Conversations | 90 days |", "trust@shop.example",
		"api.llm.example", "| 400 days |"} {
		if !strings.Contains(after, want) {
			t.Errorf("the data-processing draft lacks %q:\n%s", want, after)
		}
	}
	if strings.Contains(after, "730 days") || compliance.Hash(before) == compliance.Hash(after) {
		t.Error("the draft did not follow the settings")
	}
	sec, _ := compliance.Draft(compliance.Security, facts(valid(), 730))
	for _, want := range []string{"| SEV1 |", "| 1 hour |", "| 3 business days |",
		"6. Document:", "oncall@shop.example"} {
		if !strings.Contains(sec, want) {
			t.Errorf("the security document lacks %q:\n%s", want, sec)
		}
	}
}

func TestDocumentVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		svc := f.a.Compliance
		if _, err := svc.Current(ctx, f.ws, compliance.Privacy); !errors.Is(err,
			store.ErrNotFound) {
			t.Fatalf("before any save: %v", err)
		}
		if _, err := svc.Save(ctx, f.ws, compliance.Privacy, "  \n", "", "a"); !errors.Is(err,
			compliance.ErrInvalid) {
			t.Fatalf("empty: %v", err)
		}
		for i, body := range []string{"# One\r\n", "# Two\n"} {
			d, err := svc.Save(ctx, f.ws, compliance.Privacy, body, "draft", "admin@shop.example")
			if err != nil || d.Version != i+1 {
				t.Fatalf("save %d: %+v, %v", i, d, err)
			}
			f.clock.Add(time.Minute)
		}
		cur, err := svc.Current(ctx, f.ws, compliance.Privacy)
		if err != nil || cur.Version != 2 || cur.Body != "# Two\n" ||
			cur.DraftHash != compliance.Hash("draft") {
			t.Fatalf("current: %+v, %v", cur, err)
		}
		first, err := svc.Version(ctx, f.ws, compliance.Privacy, 1)
		if err != nil || first.Body != "# One\n" {
			t.Fatalf("version 1: %+v, %v", first, err)
		}
		list, err := svc.Versions(ctx, f.ws, compliance.Privacy)
		if err != nil || len(list) != 2 || list[0].Version != 2 || list[1].Body != "" {
			t.Fatalf("versions: %+v, %v", list, err)
		}
		if _, err := svc.Current(ctx, f.ws, compliance.Terms); !errors.Is(err,
			store.ErrNotFound) {
			t.Fatalf("another kind: %v", err)
		}
	})
}

func TestServiceTerms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		svc := f.a.Compliance
		if _, err := svc.Accept(ctx, f.ws, 1, "u", "admin@shop.example"); !errors.Is(err,
			store.ErrNotFound) {
			t.Fatalf("no terms yet: %v", err)
		}
		v1, err := svc.PublishTerms(ctx, "# Terms\nOne.\n")
		if err != nil || v1.Version != 1 {
			t.Fatal(v1, err)
		}
		if again, _ := svc.PublishTerms(ctx, "# Terms\r\nOne.\r\n"); again.Version != 1 {
			t.Fatalf("the same text made version %d", again.Version)
		}
		if a, _ := svc.Accepted(ctx, f.ws, 1); a != nil {
			t.Fatalf("accepted before anyone did: %+v", a)
		}
		if _, err := svc.Accept(ctx, f.ws, 1, "u", "admin@shop.example"); err != nil {
			t.Fatal(err)
		}
		a, err := svc.Accepted(ctx, f.ws, 1)
		if err != nil || a == nil || a.Email != "admin@shop.example" ||
			!a.AcceptedAt.Equal(f.clock.Now()) {
			t.Fatalf("acceptance: %+v, %v", a, err)
		}
		v2, _ := svc.PublishTerms(ctx, "# Terms\nTwo.\n")
		if v2.Version != 2 {
			t.Fatalf("new text: version %d", v2.Version)
		}
		if a, _ := svc.Accepted(ctx, f.ws, 2); a != nil {
			t.Fatal("the new version counts as accepted")
		}
		if _, err := svc.Accept(ctx, f.ws, 1, "u", "admin@shop.example"); !errors.Is(err,
			compliance.ErrConflict) {
			t.Fatalf("accepting replaced terms: %v", err)
		}
		back, _ := svc.PublishTerms(ctx, "# Terms\nOne.\n")
		if back.Version != 3 {
			t.Fatalf("going back to the first text: version %d", back.Version)
		}
	})
}

func TestHTMLIsSafe(t *testing.T) {
	attacks := []string{
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[click](javascript:alert(1))",
		"[click](JaVaScRiPt:alert(1))",
		"<a href=\"javascript:alert(1)\">x</a>",
		"![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"<iframe src=https://evil.example></iframe>",
		"| a |\n| - |\n| <svg onload=alert(1)> |",
		"<div style=\"background:url(javascript:alert(1))\">x</div>",
	}
	for _, a := range attacks {
		out := strings.ToLower(compliance.HTML("# Title\n\n" + a + "\n"))
		for _, bad := range []string{"<script", "onerror", "javascript:", "<iframe", "onload",
			"<svg", "style=", "data:text"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q rendered as %q", a, out)
			}
		}
	}
	out := compliance.HTML("# Policy\n\n| data | kept |\n| --- | --- |\n| chats | 90 days |\n\n" +
		"Write to [us](mailto:a@b.example) or <https://b.example/x>.\n")
	for _, want := range []string{"<h1", "<table>", "<td>90 days</td>",
		`href="mailto:a@b.example"`, `href="https://b.example/x"`} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered document lacks %s: %s", want, out)
		}
	}
}
