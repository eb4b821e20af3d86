package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Second factor errors.
var (
	// ErrSecondFactorNeeded is returned when an account's sign-in needs a
	// code and none was given.
	ErrSecondFactorNeeded = errors.New("identity: a code from the authenticator app is needed")
	// ErrBadSecondFactor is returned for a wrong, used or late code.
	ErrBadSecondFactor = errors.New("identity: the code is not right")
	// ErrSecondFactorState is wrapped when enrolment is asked for in the
	// wrong order: turning on what is on, or confirming nothing begun.
	ErrSecondFactorState = errors.New("invalid")
)

// RecoveryCodes is how many single-use recovery codes an enrolment gives.
const RecoveryCodes = 10

// TOTPIssuer names the product in authenticator apps.
const TOTPIssuer = "Thunaivi"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Sealer keeps secrets at rest: internal/secrets' keyring.
type Sealer interface {
	Seal(plain []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

func (s *Service) seal(plain []byte) (string, error) {
	if s.Secrets == nil {
		return "", errors.New("identity: no key to keep secrets at rest with")
	}
	return s.Secrets.Seal(plain)
}

func (s *Service) open(sealed string) ([]byte, error) {
	if s.Secrets == nil {
		return nil, errors.New("identity: no key to keep secrets at rest with")
	}
	return s.Secrets.Open(sealed)
}

// totp loads a user's TOTP secret, whether it is on, and the newest step
// used; store.ErrNotFound when there is none.
func (s *Service) totp(ctx context.Context, q store.Querier, userID string) ([]byte, bool,
	int64, error) {
	var sealed string
	var on bool
	var last int64
	err := q.QueryRowContext(ctx, s.q.TOTPOf, userID).Scan(&sealed, &on, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, 0, store.ErrNotFound
	}
	if err != nil {
		return nil, false, 0, err
	}
	secret, err := s.open(sealed)
	return secret, on, last, err
}

// HasSecondFactor reports whether a user has turned on TOTP.
func (s *Service) HasSecondFactor(ctx context.Context, userID string) (bool, error) {
	_, on, _, err := s.totp(ctx, s.db, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return on, err
}

// BeginTOTP makes a new TOTP secret for a user, pending until ConfirmTOTP,
// and returns it in base32 and as an otpauth link for authenticator apps.
func (s *Service) BeginTOTP(ctx context.Context, userID, email string) (string, string,
	error) {
	if on, err := s.HasSecondFactor(ctx, userID); err != nil || on {
		if err == nil {
			err = fmt.Errorf("identity: %w: two-factor authentication is on already",
				ErrSecondFactorState)
		}
		return "", "", err
	}
	secret := make([]byte, 20) // 160 bits, as RFC 4226 recommends
	rand.Read(secret)
	sealed, err := s.seal(secret)
	if err != nil {
		return "", "", err
	}
	if _, err := s.db.ExecContext(ctx, s.q.PutPendingTOTP, userID, sealed,
		s.now().UnixMilli()); err != nil {
		return "", "", fmt.Errorf("identity: begin enrolment: %w", err)
	}
	enc := b32.EncodeToString(secret)
	return enc, otpauthURI(TOTPIssuer, email, enc), nil
}

// ConfirmTOTP turns TOTP on with a code from the pending secret, ends the
// user's other sessions (they proved only the password; keepToken's session
// is the one that proved both), and returns the recovery codes, shown this
// once; only their hashes are kept.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, wsID, code,
	keepToken string) ([]string, error) {
	var codes []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		secret, on, _, err := s.totp(ctx, tx, userID)
		if errors.Is(err, store.ErrNotFound) || on {
			return fmt.Errorf("identity: %w: begin the set-up first", ErrSecondFactorState)
		}
		if err != nil {
			return err
		}
		step := matchTOTP(secret, strings.TrimSpace(code), s.now(), 0)
		if step == 0 {
			return ErrBadSecondFactor
		}
		if _, err := tx.ExecContext(ctx, s.q.EnableTOTP, s.now().UnixMilli(), step,
			userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.DeleteRecoveryCodes, userID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.DeleteOtherSessions, userID, HashToken(keepToken))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
				Action: audit.SessionRevoked, TargetType: "user", TargetID: userID,
				Reason: "second factor turned on: sessions that proved only the password end",
				Diff:   audit.Diff{"sessions": {n, 0}}}); err != nil {
				return err
			}
		}
		for range RecoveryCodes {
			c := recoveryCode()
			if _, err := tx.ExecContext(ctx, s.q.InsertRecoveryCode, userID,
				HashToken(normalizeRecovery(c))); err != nil {
				return err
			}
			codes = append(codes, c)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SecondFactorOn, TargetType: "user", TargetID: userID})
	})
	return codes, err
}

// DisableTOTP turns TOTP off, after the password and a code (or a recovery
// code) are given again.
func (s *Service) DisableTOTP(ctx context.Context, userID, wsID, email, password,
	code string) error {
	if err := s.reauthenticate(ctx, userID, wsID, email, password, code); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, q := range []string{s.q.DeleteTOTP, s.q.DeleteRecoveryCodes} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SecondFactorOff, TargetType: "user", TargetID: userID})
	})
}

// CheckSecondFactor accepts a TOTP code, each at most once, within a step
// of now, or an unused recovery code, which is then used up. A user without
// TOTP needs no code.
func (s *Service) CheckSecondFactor(ctx context.Context, userID, wsID, code string) error {
	secret, on, last, err := s.totp(ctx, s.db, userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !on {
		return nil
	}
	if err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return ErrSecondFactorNeeded
	}
	if len(code) == totpDigits {
		step := matchTOTP(secret, code, s.now(), last)
		if step == 0 {
			return s.badCode(ctx, userID, wsID)
		}
		res, err := s.db.ExecContext(ctx, s.q.UseTOTPStep, step, userID, step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return s.badCode(ctx, userID, wsID) // the same code, used a moment ago
		}
		return nil
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.UseRecoveryCode, s.now().UnixMilli(), userID,
			HashToken(normalizeRecovery(code)))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBadSecondFactor
		}
		var u User
		var hash string
		if err := tx.QueryRowContext(ctx, s.q.UserByID, userID).Scan(&u.ID, &u.Email, &u.Name,
			&hash); err != nil {
			return err
		}
		actor := origin.Actor{Type: origin.User, ID: u.ID, Email: u.Email}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Actor: &actor,
			Action: audit.RecoveryUsed, TargetType: "user", TargetID: userID})
	})
	if errors.Is(err, ErrBadSecondFactor) {
		return s.badCode(ctx, userID, wsID)
	}
	return err
}

// badCode audits a refused second-factor code and returns ErrBadSecondFactor.
func (s *Service) badCode(ctx context.Context, userID, wsID string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	actor := origin.Actor{Type: origin.User, ID: u.ID, Email: u.Email}
	if err := s.audit.Write(ctx, audit.Event{Workspace: wsID, Action: audit.LoginFailed,
		TargetType: "user", TargetID: userID, Outcome: audit.Failure,
		Reason: "wrong second-factor code", Actor: &actor}); err != nil {
		return err
	}
	if s.codeFailed(userID) {
		if err := s.EndUserSessions(ctx, userID, fmt.Sprintf("%d second-factor codes "+
			"failed within %v", s.RevokeAfterCodeFailures, codeFailureWindow)); err != nil {
			return err
		}
	}
	return ErrBadSecondFactor
}

// codeFailureWindow is the window RevokeAfterCodeFailures counts in.
const codeFailureWindow = 10 * time.Minute

// codeFailed counts a failed code for a user and reports whether the rule
// fires, after which the count starts again.
func (s *Service) codeFailed(userID string) bool {
	if s.RevokeAfterCodeFailures <= 0 {
		return false
	}
	s.failuresMu.Lock()
	defer s.failuresMu.Unlock()
	if s.codeFailures == nil {
		s.codeFailures = map[string][]time.Time{}
	}
	now := s.now()
	recent := []time.Time{now}
	for _, t := range s.codeFailures[userID] {
		if now.Sub(t) < codeFailureWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= s.RevokeAfterCodeFailures {
		delete(s.codeFailures, userID)
		return true
	}
	s.codeFailures[userID] = recent
	return false
}

// recoveryCode is 60 random bits as three groups of four base32 letters,
// easy to copy from paper.
func recoveryCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	c := strings.ToLower(b32.EncodeToString(b))[:12]
	return c[:4] + "-" + c[4:8] + "-" + c[8:]
}

func normalizeRecovery(c string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(c), "-", ""))
}
