package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
)

// SecuritySettings are a workspace's own security rules.
type SecuritySettings struct {
	// OfficeDomains are the email domains an admin's address must be on;
	// empty allows any.
	OfficeDomains []string `json:"office_domains"`
	// Require2FA asks every member, not only admins, for a second factor.
	Require2FA bool `json:"require_2fa"`
}

// freeMail are providers anyone can get an address from: an office domain
// is a domain the business controls, never one of these.
var freeMail = []string{"gmail.com", "googlemail.com", "yahoo.com", "ymail.com",
	"outlook.com", "hotmail.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
	"mac.com", "proton.me", "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net",
	"mail.com", "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "qq.com", "163.com",
	"126.com", "web.de", "fastmail.com", "hey.com", "tutanota.com", "tuta.io",
	"rediffmail.com", "inbox.com", "yahoo.co.uk", "hotmail.co.uk", "outlook.de"}

// ErrNotOfficeAddress is returned when an address that is not on the
// workspace's office domains would hold the admin role.
var ErrNotOfficeAddress = errors.New("forbidden")

// ErrUnverifiedAddress is returned when a member whose address is not
// verified would be made an admin.
var ErrUnverifiedAddress = errors.New("forbidden")

// Security returns a workspace's security settings.
func (s *Service) Security(ctx context.Context, wsID string) (SecuritySettings, error) {
	var domains string
	var require int
	err := s.db.QueryRowContext(ctx, s.q.SecuritySettings, wsID).Scan(&domains, &require)
	if errors.Is(err, sql.ErrNoRows) {
		return SecuritySettings{}, store.ErrNotFound
	}
	out := SecuritySettings{OfficeDomains: []string{}, Require2FA: require == 1}
	if domains != "" {
		out.OfficeDomains = strings.Split(domains, ",")
	}
	return out, err
}

// OnOfficeDomain reports whether an address may hold the admin role under
// the settings.
func (ss SecuritySettings) OnOfficeDomain(email string) bool {
	if len(ss.OfficeDomains) == 0 {
		return true
	}
	_, domain, _ := strings.Cut(strings.ToLower(email), "@")
	return slices.Contains(ss.OfficeDomains, domain)
}

// SetSecurity changes a workspace's security settings. Office domains must
// be host names the business controls, not free mail providers, and must
// hold the address of the admin changing them (byEmail), so that nobody
// locks themselves out; every admin off them loses the admin console until
// their address is added.
func (s *Service) SetSecurity(ctx context.Context, wsID, byEmail string,
	next SecuritySettings) error {
	clean := []string{}
	for _, d := range next.OfficeDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "":
			continue
		case !identity.HostName(d):
			return fmt.Errorf("workspace: %w: %q is not a domain name", ErrInvalid, d)
		case slices.Contains(freeMail, d):
			return fmt.Errorf("workspace: %w: %s is a free mail provider, not an office "+
				"domain", ErrInvalid, d)
		}
		if !slices.Contains(clean, d) {
			clean = append(clean, d)
		}
	}
	if len(clean) > 50 {
		return fmt.Errorf("workspace: %w: at most 50 office domains", ErrInvalid)
	}
	next.OfficeDomains = clean
	if !next.OnOfficeDomain(byEmail) {
		return fmt.Errorf("workspace: %w: your own address is not on these domains",
			ErrInvalid)
	}
	old, err := s.Security(ctx, wsID)
	if err != nil {
		return err
	}
	require := 0
	if next.Require2FA {
		require = 1
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SetSecuritySettings, strings.Join(clean, ","),
			require, wsID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SettingChanged, TargetType: "security", TargetID: wsID,
			Diff: audit.Diff{"office_domains": {old.OfficeDomains, clean},
				"require_2fa": {old.Require2FA, next.Require2FA}}})
	})
}

// checkAdminAddress refuses the admin role to an address off the office
// domains, and records the refusal in its own transaction, since the one of
// the action rolls back.
func (s *Service) checkAdminAddress(ctx context.Context, wsID, email string,
	role access.Role) error {
	if role != access.Admin {
		return nil
	}
	sec, err := s.Security(ctx, wsID)
	if err != nil || sec.OnOfficeDomain(email) {
		return err
	}
	err = s.audit.Write(ctx, audit.Event{Workspace: wsID, Action: audit.RoleChanged,
		TargetType: "user", TargetID: email, Outcome: audit.Refused,
		Reason: "the address is not on the workspace's office domains"})
	if err != nil {
		return err
	}
	return fmt.Errorf("workspace: %w: only addresses on the workspace's office domains "+
		"(%s) may be admins", ErrNotOfficeAddress, strings.Join(sec.OfficeDomains, ", "))
}

// checkVerified refuses the admin role to a member who has not verified
// their address, and records the refusal in its own transaction. An invited
// admin joins unverified and acts as an admin only once they verify.
func (s *Service) checkVerified(ctx context.Context, ids *identity.Service, wsID string,
	u identity.User, role access.Role) error {
	if role != access.Admin {
		return nil
	}
	ok, err := ids.EmailVerified(ctx, u.ID)
	if err != nil || ok {
		return err
	}
	err = s.audit.Write(ctx, audit.Event{Workspace: wsID, Action: audit.RoleChanged,
		TargetType: "user", TargetID: u.ID, Outcome: audit.Refused,
		Reason: "the address is not verified"})
	if err != nil {
		return err
	}
	return fmt.Errorf("workspace: %w: only a member who verified their address may be an "+
		"admin; ask them to verify it from their account page", ErrUnverifiedAddress)
}
