package kb

import (
	"context"
	"fmt"
	"strings"

	"github.com/thunaivi/thunaivi/internal/store"
)

// Rollback makes an earlier version of an entry its current one again, as a
// new version whose reason says so: the history keeps every step, and the
// change is audited as any other.
func (s *Service) Rollback(ctx context.Context, wsID, by, id string, version int,
	reason string) (Entry, error) {
	versions, err := s.Versions(ctx, wsID, id)
	if err != nil {
		return Entry{}, err
	}
	current := versions[0].Version
	for _, v := range versions {
		if v.Version != version {
			continue
		}
		if version == current {
			return Entry{}, fmt.Errorf("kb: %w: version %d is the current one", ErrInvalid,
				version)
		}
		why := fmt.Sprintf("rolled back to version %d", version)
		if reason = strings.TrimSpace(reason); reason != "" {
			why += ": " + reason
		}
		return s.Save(ctx, wsID, by, why, v.Entry, current)
	}
	return Entry{}, store.ErrNotFound
}
