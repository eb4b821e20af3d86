package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// EmailLinkTTL is how long a link mailed to verify an address works.
const EmailLinkTTL = 24 * time.Hour

// IssueEmailToken makes the token of a link that verifies the user's
// current address, to be mailed to it, and audits that it was issued.
func (s *Service) IssueEmailToken(ctx context.Context, userID, wsID string) (token,
	email string, err error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return "", "", err
	}
	token = RandomToken(32)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.InsertEmailToken, HashToken(token), userID,
			u.Email, s.now().Add(EmailLinkTTL).UnixMilli()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.EmailCodeSent, TargetType: "user", TargetID: userID})
	})
	if err != nil {
		return "", "", fmt.Errorf("identity: issue email link: %w", err)
	}
	return token, u.Email, nil
}

// VerifyEmail uses a link's token: the user it was mailed to has proved
// the address is theirs. A token works once, within EmailLinkTTL, and only
// while the address is the one it was mailed to; otherwise
// store.ErrNotFound.
func (s *Service) VerifyEmail(ctx context.Context, token string) (User, error) {
	if token == "" || len(token) > 128 {
		return User{}, store.ErrNotFound
	}
	var userID string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, s.q.UseEmailToken, HashToken(token),
			s.now().UnixMilli()).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.SetEmailVerified, s.now().UnixMilli(),
			userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.DeleteEmailTokens, userID); err != nil {
			return err
		}
		var ws string
		if err := tx.QueryRowContext(ctx, s.q.HomeWorkspace, userID).Scan(&ws); err != nil &&
			!errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: ws,
			Action: audit.EmailVerified, TargetType: "user", TargetID: userID})
	})
	if err != nil {
		return User{}, fmt.Errorf("identity: verify email: %w", err)
	}
	return s.User(ctx, userID)
}

// EmailVerified reports whether a user has verified their current address.
func (s *Service) EmailVerified(ctx context.Context, userID string) (bool, error) {
	var ok bool
	err := s.db.QueryRowContext(ctx, s.q.EmailVerified, userID).Scan(&ok)
	if errors.Is(err, sql.ErrNoRows) {
		return false, store.ErrNotFound
	}
	return ok, err
}

// ChangePassword sets a user's new password, held to the same rules as a
// first one (avoid adds words such as the workspace's name), and ends every
// other session of theirs: whoever knew the old password is signed out.
// The caller has checked the current password and code lately (step-up).
func (s *Service) ChangePassword(ctx context.Context, userID, wsID, keepToken,
	password string, avoid ...string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	if err := CheckPassword(password, append(avoid, u.Email, u.Name)...); err != nil {
		return err
	}
	if err := s.checkBreached(ctx, password); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SetPasswordHash, HashPassword(password),
			userID); err != nil {
			return err
		}
		n, err := s.endOtherSessions(ctx, tx, userID, keepToken)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.PasswordChanged, TargetType: "user", TargetID: userID,
			Diff: audit.Diff{"other_sessions": {n, 0}}})
	})
}

// ChangeEmail moves a user to a new address, unverified until they open the
// link mailed to it, and ends every other session of theirs. The caller has
// checked the password and code lately (step-up).
func (s *Service) ChangeEmail(ctx context.Context, userID, wsID, keepToken,
	email string) error {
	norm, err := CleanEmail(email)
	if err != nil {
		return fmt.Errorf("identity: %w: not a valid email address", ErrInvalidName)
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	if norm == u.Email {
		return nil
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, s.q.SetEmail, norm, userID)
		if store.IsUniqueViolation(err) {
			return ErrEmailTaken
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.DeleteEmailTokens, userID); err != nil {
			return err
		}
		n, err := s.endOtherSessions(ctx, tx, userID, keepToken)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.EmailChanged, TargetType: "user", TargetID: userID,
			Diff: audit.Diff{"email": {u.Email, norm}, "other_sessions": {n, 0}}})
	})
}

func (s *Service) endOtherSessions(ctx context.Context, tx *store.Tx, userID,
	keepToken string) (int64, error) {
	res, err := tx.ExecContext(ctx, s.q.DeleteOtherSessions, userID, HashToken(keepToken))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}
