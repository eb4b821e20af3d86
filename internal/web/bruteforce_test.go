package web_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestGuessingAnAccountSlowsDown fails sign-ins at one account, as a guesser
// spread over many addresses would: after five, each attempt must wait, the
// right password included, and twice as long each time. An address no
// account has is slowed the same way, so the wait reveals nothing.
func TestGuessingAnAccountSlowsDown(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	try := func(email, password string) response {
		return e.do(nil, "POST", "/api/v1/auth/login", nil,
			map[string]string{"email": email, "password": password})
	}
	for _, email := range []string{e.AdminEmail, "nobody@first.example"} {
		e.advance(time.Hour) // a fresh allowance for this client address
		for range 5 {
			if r := try(email, "a wrong guess here"); r.Status != http.StatusUnauthorized {
				t.Fatalf("%s: %d %s", email, r.Status, r.Body)
			}
		}
		try(email, "a wrong guess here") // the sixth: refused, and waits 1 s after
		r := try(email, Password)
		wantError(t, r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", email)
		}
		e.advance(2 * time.Second)
		try(email, "a wrong guess here") // the seventh: now 2 s
		e.advance(1500 * time.Millisecond)
		wantError(t, try(email, Password), http.StatusTooManyRequests, "rate_limited")
		// Spelling the address another way is the same account, still waiting.
		for _, spelling := range []string{"<" + email + ">", email + " (x)",
			strings.ToUpper(email)} {
			wantError(t, try(spelling, Password), http.StatusTooManyRequests, "rate_limited")
		}
	}
	e.advance(3 * time.Second)
	if r := e.signIn(e.AdminEmail, e.freshCode(e.AdminEmail)); r.Status != http.StatusOK {
		t.Fatalf("the right password after the wait: %d %s", r.Status, r.Body)
	}
}

// TestSignInTimingRevealsNoAccount compares refused sign-ins at an account
// that exists and at one that does not: the medians of 200 tries each must
// differ by less than 5 ms, or the time would tell which addresses have
// accounts.
func TestSignInTimingRevealsNoAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 400 passwords")
	}
	e := newEnv(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	var known, unknown []time.Duration
	for range 200 {
		for _, c := range []struct {
			email string
			into  *[]time.Duration
		}{{e.AdminEmail, &known}, {"nobody@first.example", &unknown}} {
			start := time.Now()
			if _, err := e.App.Identity.Authenticate(ctx, c.email, "a wrong guess"); err == nil {
				t.Fatal("a wrong password was accepted")
			}
			*c.into = append(*c.into, time.Since(start))
		}
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	diff := median(known) - median(unknown)
	t.Logf("median refusal: %v with an account, %v without", median(known), median(unknown))
	if diff.Abs() >= 5*time.Millisecond {
		t.Fatalf("refusals differ by %v at the median", diff)
	}
}

// TestAnAccountLocksAtTheCap fails sign-ins at an account 100 times in a
// row: it then refuses even the right password, answering exactly as to a
// wrong one, until an admin unlocks it.
func TestAnAccountLocksAtTheCap(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	userID := e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	ctx := context.Background()
	for range identity.MaxFailedLogins - 1 {
		e.App.Identity.Authenticate(ctx, "agent@first.example", "not the password")
	}
	if _, err := e.App.Identity.Authenticate(ctx, "agent@first.example", Password); err != nil {
		t.Fatalf("99 failures locked the account: %v", err)
	}
	for range identity.MaxFailedLogins {
		e.App.Identity.Authenticate(ctx, "agent@first.example", "not the password")
	}
	_, err := e.App.Identity.Authenticate(ctx, "agent@first.example", Password)
	_, wrong := e.App.Identity.Authenticate(ctx, "agent@first.example", "not the password")
	if !errors.Is(err, identity.ErrBadCredentials) || err.Error() != wrong.Error() {
		t.Fatalf("the locked account answered %v, a wrong password %v", err, wrong)
	}
	e.post(e.login(e.AdminEmail), "POST", "/api/v1/members/"+userID+"/unlock", nil,
		http.StatusNoContent)
	if _, err := e.App.Identity.Authenticate(ctx, "agent@first.example", Password); err != nil {
		t.Fatalf("the unlocked account: %v", err)
	}
}
