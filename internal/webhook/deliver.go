package webhook

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/store"
)

// Delivery statuses.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// backoff is the wait after each failed attempt but the last; a delivery
// whose last attempt fails is failed for good.
var backoff = [MaxAttempts - 1]time.Duration{30 * time.Second, 2 * time.Minute,
	10 * time.Minute, time.Hour, 6 * time.Hour}

// Delivery limits.
const (
	// MaxAttempts is how many times a delivery is tried.
	MaxAttempts = 6
	// Retention is how long a finished delivery stays in the log.
	Retention = 30 * 24 * time.Hour
	// claimFor is how long a node keeps a delivery it is sending from the
	// others; it outlasts timeout.
	claimFor = time.Minute
	// batch bounds the deliveries one DeliverDue tries, parallel how many
	// are sent at once, perEndpoint how many of those to one endpoint: a
	// slow receiver holds two slots, and the rest go on.
	batch       = 100
	parallel    = 32
	perEndpoint = 2
	// maxError bounds an error kept in the log.
	maxError = 200
)

// Delivery is one event for one endpoint, and how sending it went.
type Delivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
	Event      Event  `json:"event"`
	// Status is pending, delivered or failed.
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	// LastStatus is the HTTP status of the last answer, 0 when none came.
	LastStatus int `json:"last_status,omitempty"`
	// LastError says in a few words why the last attempt failed.
	LastError     string     `json:"last_error,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	// NextAttemptAt is set while the delivery is pending.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// payload is the body of every delivery.
type payload struct {
	Type      Event     `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Emit queues an event for every endpoint of the workspace that subscribes
// to it. The body sent is {"type": event, "timestamp": now, "data": data}.
// Call it once the change it reports is committed, outside any transaction.
func (s *Service) Emit(ctx context.Context, wsID string, event Event, data any) error {
	if !slices.Contains(Events, event) {
		return fmt.Errorf("webhook: %q is not an event", event)
	}
	now := s.now()
	body, err := json.Marshal(payload{Type: event, Timestamp: now.UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("webhook: encode %s: %w", event, err)
	}
	endpoints, err := s.subscribers(ctx, wsID, event)
	if err != nil || len(endpoints) == 0 {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, id := range endpoints {
			if _, err := tx.ExecContext(ctx, s.q.InsertDelivery, store.NewID("msg"), wsID, id,
				event, string(body), now.UnixMilli(), now.UnixMilli()); err != nil {
				return fmt.Errorf("webhook: queue %s: %w", event, err)
			}
		}
		return nil
	})
}

// subscribers returns the ids of a workspace's endpoints that want event.
func (s *Service) subscribers(ctx context.Context, wsID string, event Event) ([]string,
	error) {
	rows, err := s.db.QueryContext(ctx, s.q.Subscribers, wsID)
	if err != nil {
		return nil, fmt.Errorf("webhook: find endpoints: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id, events string
		if err := rows.Scan(&id, &events); err != nil {
			return nil, fmt.Errorf("webhook: find endpoints: %w", err)
		}
		if slices.Contains(splitEvents(events), event) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// DeliverDue makes one attempt at each delivery that is due, up to 100 of
// them, and returns how many attempts it made. A delivery another node is
// sending is left to it.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	var (
		mu   sync.Mutex
		n    int
		errs []error
	)
	count := func(tried bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		if tried {
			n++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	// Round after round, as the slots allow, until a round finds nothing
	// more to send or a batch's worth was tried.
	for before := -1; before != n && n < batch; {
		before = n
		if err := s.dispatch(ctx, count); err != nil {
			errs = append(errs, err)
			break
		}
		s.sent.Wait()
	}
	return n, errors.Join(errs...)
}

// dispatch starts attempts at due deliveries, as many as there are free
// slots, at most perEndpoint for one endpoint at a time, and returns
// without waiting for them; done is told how each went.
func (s *Service) dispatch(ctx context.Context, done func(tried bool, err error)) error {
	now := s.now().UnixMilli()
	rows, err := s.db.QueryContext(ctx, s.q.DueDeliveries, now, now, batch)
	if err != nil {
		return fmt.Errorf("webhook: find due deliveries: %w", err)
	}
	type due struct{ id, endpoint string }
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.endpoint); err != nil {
			rows.Close()
			return fmt.Errorf("webhook: find due deliveries: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("webhook: find due deliveries: %w", err)
	}
	for _, d := range list {
		if !s.take(d.endpoint) {
			continue // this endpoint is busy, or every slot is: later
		}
		s.sent.Go(func() {
			defer s.give(d.endpoint)
			done(s.attempt(ctx, d.id))
		})
	}
	return nil
}

// take reserves a slot for an attempt at an endpoint, if one is free.
func (s *Service) take(endpoint string) bool {
	s.flight.Lock()
	defer s.flight.Unlock()
	if s.inFlight >= parallel || s.byEnd[endpoint] >= perEndpoint {
		return false
	}
	if s.byEnd == nil {
		s.byEnd = map[string]int{}
	}
	s.inFlight++
	s.byEnd[endpoint]++
	return true
}

func (s *Service) give(endpoint string) {
	s.flight.Lock()
	defer s.flight.Unlock()
	s.inFlight--
	if s.byEnd[endpoint]--; s.byEnd[endpoint] == 0 {
		delete(s.byEnd, endpoint)
	}
}

// attempt claims a delivery, sends it and records how that went. It reports
// whether it made the attempt: false when another node holds the claim.
func (s *Service) attempt(ctx context.Context, id string) (bool, error) {
	now := s.now()
	claim := now.Add(claimFor).UnixMilli()
	res, err := s.db.ExecContext(ctx, s.q.ClaimDelivery, claim, id, now.UnixMilli(),
		now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("webhook: claim a delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}

	var body, rawURL, sealed, oldSealed string
	var attempts int
	var oldUntil int64
	err = s.db.QueryRowContext(ctx, s.q.DeliveryToSend, id).Scan(&body, &attempts, &rawURL,
		&sealed, &oldSealed, &oldUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // its endpoint was deleted meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("webhook: load a delivery: %w", err)
	}
	code := 0
	secrets, sendErr := s.secrets(sealed, oldSealed, oldUntil, now)
	if sendErr == nil {
		code, sendErr = s.send(ctx, id, rawURL, []byte(body), secrets, now)
	}

	status, next := Pending, now
	switch {
	case sendErr == nil && code >= 200 && code < 300:
		status = Delivered
	case attempts+1 >= MaxAttempts:
		status = Failed
	default:
		next = now.Add(backoff[attempts])
	}
	if _, err := s.db.ExecContext(ctx, s.q.RecordAttempt, status, code,
		describe(code, sendErr), now.UnixMilli(), next.UnixMilli(), id, claim); err != nil {
		return true, fmt.Errorf("webhook: record an attempt: %w", err)
	}
	return true, nil
}

// secrets opens the secrets that sign a delivery sent at now: the
// endpoint's, and the one it replaced while that one's overlap lasts.
func (s *Service) secrets(sealed, oldSealed string, oldUntil int64, now time.Time) ([][]byte,
	error) {
	secret, err := s.sealer.Open(sealed)
	if err != nil {
		return nil, errors.New("webhook: the endpoint's secret does not open")
	}
	out := [][]byte{secret}
	if oldSealed != "" && oldUntil > now.UnixMilli() {
		old, err := s.sealer.Open(oldSealed)
		if err != nil {
			return nil, errors.New("webhook: the endpoint's previous secret does not open")
		}
		out = append(out, old)
	}
	return out, nil
}

// send posts a delivery, signed with each secret, and returns the status of
// the answer.
func (s *Service) send(ctx context.Context, id, rawURL string, body []byte, secrets [][]byte,
	now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("webhook: the endpoint's URL does not parse")
	}
	sigs := make([]string, len(secrets))
	for i, secret := range secrets {
		sigs[i] = Sign(secret, id, now, body)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Thunaivi-Webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	client := s.client
	if req.URL.Scheme != "https" {
		client = s.plain
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// describe puts why an attempt failed in a few words for the delivery log.
// It never holds the URL, which may carry a token.
func describe(code int, err error) string {
	switch {
	case err == nil && code >= 300 && code < 400:
		return "the endpoint redirected; redirects are not followed"
	case err == nil:
		return ""
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "no answer within 10 s"
	}
	msg := strings.TrimPrefix(err.Error(), "webhook: ")
	if len(msg) > maxError {
		n := maxError
		for n > 0 && !utf8.RuneStart(msg[n]) {
			n--
		}
		msg = msg[:n]
	}
	return msg
}

// Deliveries returns an endpoint's most recent deliveries, newest first: at
// most limit, which is 50 when 0 and never more than 500.
func (s *Service) Deliveries(ctx context.Context, wsID, endpointID string,
	limit int) ([]Delivery, error) {
	_, err := scanEndpoint(s.db.QueryRowContext(ctx, s.q.EndpointByID, wsID, endpointID),
		s.now())
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	rows, err := s.db.QueryContext(ctx, s.q.ListDeliveries, wsID, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook: list deliveries: %w", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var last sql.NullInt64
		var next, created int64
		if err := rows.Scan(&d.ID, &d.EndpointID, &d.Event, &d.Status, &d.Attempts,
			&d.LastStatus, &d.LastError, &last, &next, &created); err != nil {
			return nil, fmt.Errorf("webhook: list deliveries: %w", err)
		}
		if last.Valid {
			t := time.UnixMilli(last.Int64).UTC()
			d.LastAttemptAt = &t
		}
		if d.Status == Pending {
			t := time.UnixMilli(next).UTC()
			d.NextAttemptAt = &t
		}
		d.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Prune deletes finished deliveries older than Retention and returns how
// many.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q.PruneDeliveries, s.now().Add(-Retention).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("webhook: prune deliveries: %w", err)
	}
	return res.RowsAffected()
}

// Run delivers what is due at once and then every interval, until ctx
// ends. warn is told why a round failed; a delivery's own failure is in its
// log instead.
func (s *Service) Run(ctx context.Context, every time.Duration, warn func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	// Rounds do not wait for their slowest attempt: the next starts what the
	// free slots allow, so one slow receiver delays nobody else.
	defer s.sent.Wait()
	report := func(_ bool, err error) {
		if err != nil && ctx.Err() == nil {
			warn(err)
		}
	}
	for {
		if err := s.dispatch(ctx, report); err != nil && ctx.Err() == nil {
			warn(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
