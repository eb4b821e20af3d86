package incident

import (
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
)

func TestResponseDueCountsBusinessDays(t *testing.T) {
	// Friday 2026-12-04 16:00 UTC.
	fri := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		sev  Severity
		want time.Time
	}{
		{1, fri.Add(time.Hour)},
		{2, fri.Add(4 * time.Hour)},
		{3, time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)}, // Monday
		{4, time.Date(2026, 12, 9, 16, 0, 0, 0, time.UTC)}, // Wednesday
	} {
		if got := ResponseDue(c.sev, fri); !got.Equal(c.want) {
			t.Errorf("SEV%d from Friday: %s, want %s", c.sev, got, c.want)
		}
	}
}

func TestDenyRangesRefuseTheCallersOwnAddress(t *testing.T) {
	for _, c := range []struct {
		in     []string
		caller string
		ok     bool
		want   int
	}{
		{[]string{"203.0.113.0/24", "203.0.113.7", " ", "203.0.113.9/24"}, "192.0.2.1", true, 2},
		{[]string{"2001:db8::/32"}, "2001:db8::1", false, 0},
		{[]string{"192.0.2.0/24"}, "::ffff:192.0.2.1", false, 0},
		{[]string{"not a range"}, "192.0.2.1", false, 0},
	} {
		got, err := denyRanges(c.in, c.caller)
		if (err == nil) != c.ok || len(got) != c.want {
			t.Errorf("denyRanges(%q, %s) = %v, %v", c.in, c.caller, got, err)
		}
	}
}

func TestCompareFindsAddedAdminsAndChangedRoles(t *testing.T) {
	saved := State{Members: []BaselineMember{{UserID: "u1", Email: "a@x.example",
		Role: "admin"}, {UserID: "u2", Email: "b@x.example", Role: "agent"}}}
	cur := State{Members: []BaselineMember{{UserID: "u1", Email: "a@x.example",
		Role: "admin"}, {UserID: "u2", Email: "b@x.example", Role: "admin"},
		{UserID: "u3", Email: "c@x.example", Role: "admin"}}}
	got := compare(saved, cur)
	if len(got) != 2 || got[0].Area != "role" || got[0].Saved != access.Role("agent") ||
		got[1].Area != "member" || got[1].Subject != "c@x.example" || got[1].Manual {
		t.Errorf("compare: %+v", got)
	}
}
