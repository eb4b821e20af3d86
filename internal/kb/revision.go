package kb

import "context"

// Revision returns the workspace's knowledge revision: it grows with every
// change to its entries and AI settings, so it marks which knowledge a
// result was measured on.
func (s *Service) Revision(ctx context.Context, wsID string) (int64, error) {
	rev, _, err := s.settings(ctx, wsID)
	return rev, err
}

func (s *Service) published(wsID string) {
	if s.Published != nil {
		s.Published(wsID)
	}
}
