// Package replay plays evaluation cases against a running Thunaivi server over
// HTTP, as website-chat customers: each case opens a conversation, listens on
// its live event stream, sends the message and waits for the routing outcome.
// It measures the outcomes the same way `thunaivi eval` does, plus throughput
// and latency.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/thunaivi/thunaivi/internal/brain"
)

// Options say what to replay and how hard.
type Options struct {
	URL         string
	WidgetToken string
	Concurrency int
	// Timeout bounds each case from opening the conversation to its outcome.
	Timeout time.Duration
	// Progress, when not nil, is called after each case.
	Progress func(done, total int)
	// Acknowledged, when not nil, is told of every message the server
	// acknowledged (answered 2xx), from several goroutines at once.
	Acknowledged func(Ack)
	// Retry sends a request again when the server could not be reached or
	// failed (5xx), as a customer's browser would after a restart, until the
	// case's timeout. A message is sent again with the same external id, so
	// the server stores it once.
	Retry bool
}

// Ack is a message the server acknowledged.
type Ack struct {
	ConversationID string
	// ExternalID is the id the client gave the message; MessageID the
	// server's.
	ExternalID string
	MessageID  string
	// Duplicate is set when the server had stored the message before.
	Duplicate bool
	At        time.Time
}

// retryPause is the wait before a request is sent again.
const retryPause = 50 * time.Millisecond

// Result is the evaluation report with the load figures.
type Result struct {
	brain.Report
	MessagesPerSecond float64   `json:"messages_per_second"`
	LatencyMS         Latencies `json:"latency_ms"`
	Failed            int       `json:"failed"`
	// Outcomes are per case, in the order of the cases.
	Outcomes []brain.Outcome `json:"-"`
}

// Latencies are percentiles of the time from sending a message to its
// outcome arriving on the customer's event stream.
type Latencies struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Run replays the cases and reports. A case that fails counts as failed and
// keeps an empty outcome.
func Run(ctx context.Context, cases []brain.Case, o Options) (Result, error) {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	tr := &http.Transport{MaxIdleConns: 4 * o.Concurrency, MaxIdleConnsPerHost: 4 * o.Concurrency,
		MaxConnsPerHost: 0, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	c := &client{http: &http.Client{Transport: tr}, base: strings.TrimRight(o.URL, "/"),
		token: o.WidgetToken, acked: o.Acknowledged, retry: o.Retry}

	res := Result{Outcomes: make([]brain.Outcome, len(cases))}
	latencies := make([]time.Duration, len(cases))
	errs := make([]error, len(cases))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	start := time.Now()
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cctx, cancel := context.WithTimeout(ctx, o.Timeout)
				res.Outcomes[i], latencies[i], errs[i] = c.play(cctx, cases[i].Text)
				cancel()
				if o.Progress != nil {
					mu.Lock()
					done++
					o.Progress(done, len(cases))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range cases {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)

	var ok []time.Duration
	var firstErr error
	for i, err := range errs {
		if err != nil {
			res.Failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		ok = append(ok, latencies[i])
	}
	res.Report = brain.Score(cases, res.Outcomes)
	res.MessagesPerSecond = float64(len(ok)) / elapsed.Seconds()
	res.LatencyMS = percentiles(ok)
	if len(ok) == 0 && firstErr != nil {
		return res, firstErr
	}
	return res, nil
}

func percentiles(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(p float64) float64 {
		i := int(p*float64(len(ds)) + 0.5)
		i = min(max(i-1, 0), len(ds)-1)
		return float64(ds[i].Microseconds()) / 1000
	}
	return Latencies{P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}

type client struct {
	http  *http.Client
	base  string
	token string
	acked func(Ack)
	retry bool
}

type visitor struct {
	ConversationID string `json:"conversation_id"`
	VisitorToken   string `json:"visitor_token"`
}

type event struct {
	Routed *struct {
		MessageID string `json:"message_id"`
		Outcome   string `json:"outcome"`
		EntryID   string `json:"entry_id"`
	} `json:"routed"`
}

// play runs one case and returns its outcome and latency.
func (c *client) play(ctx context.Context, text string) (brain.Outcome, time.Duration, error) {
	var v visitor
	err := c.again(ctx, func() error {
		return c.do(ctx, "POST", "/widget/v1/conversations", "", nil, &v)
	})
	if err != nil {
		return brain.Outcome{}, 0, err
	}
	var events *bufio.Reader
	err = c.again(ctx, func() error {
		req, _ := http.NewRequestWithContext(ctx, "GET",
			c.base+"/widget/v1/conversations/"+v.ConversationID+"/events", nil)
		req.Header.Set("X-Widget-Token", c.token)
		req.Header.Set("X-Visitor-Token", v.VisitorToken)
		resp, err := c.http.Do(req)
		if err != nil {
			return unreachable{err}
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			err = fmt.Errorf("event stream: %s", resp.Status)
			if resp.StatusCode >= 500 {
				return unreachable{err}
			}
			return err
		}
		context.AfterFunc(ctx, func() { resp.Body.Close() })
		events = bufio.NewReader(resp.Body)
		if _, err := readEvent(events, "ready"); err != nil {
			resp.Body.Close()
			return unreachable{err}
		}
		return nil
	})
	if err != nil {
		return brain.Outcome{}, 0, err
	}

	sent := time.Now()
	external := newID()
	body, _ := json.Marshal(map[string]string{"text": text, "external_id": external})
	var ack struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
		Duplicate bool `json:"duplicate"`
	}
	err = c.again(ctx, func() error {
		return c.do(ctx, "POST", "/widget/v1/conversations/"+v.ConversationID+"/messages",
			v.VisitorToken, body, &ack)
	})
	if err != nil {
		return brain.Outcome{}, 0, err
	}
	if c.acked != nil {
		c.acked(Ack{ConversationID: v.ConversationID, ExternalID: external,
			MessageID: ack.Message.ID, Duplicate: ack.Duplicate, At: time.Now()})
	}
	data, err := readEvent(events, "routed")
	if err != nil {
		return brain.Outcome{}, 0, err
	}
	latency := time.Since(sent)
	var ev event
	if err := json.Unmarshal(data, &ev); err != nil || ev.Routed == nil {
		return brain.Outcome{}, 0, errors.New("replay: malformed routed event")
	}
	return brain.Outcome{Action: brain.Action(ev.Routed.Outcome), EntryID: ev.Routed.EntryID},
		latency, nil
}

// readEvent reads Server-Sent Events until one of the given type and returns
// its data.
func readEvent(r *bufio.Reader, want string) ([]byte, error) {
	var typ string
	var data []byte
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("replay: event stream ended before %q: %w", want, err)
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if typ == want {
				return data, nil
			}
			typ, data = "", nil
		case bytes.HasPrefix(line, []byte("event: ")):
			typ = string(line[len("event: "):])
		case bytes.HasPrefix(line, []byte("data: ")):
			data = append(data, line[len("data: "):]...)
		}
	}
}

func (c *client) do(
	ctx context.Context,
	method, path, visitorToken string,
	body []byte,
	out any,
) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Widget-Token", c.token)
	if visitorToken != "" {
		req.Header.Set("X-Visitor-Token", visitorToken)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return unreachable{err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return unreachable{err}
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Message string }
		json.Unmarshal(b, &e)
		err := fmt.Errorf("replay: %s %s: %s %s", method, path, resp.Status, e.Message)
		if resp.StatusCode >= 500 {
			return unreachable{err}
		}
		return err
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// unreachable is a failure a retry may get past: no connection, a broken
// one, or a server error.
type unreachable struct{ error }

func (u unreachable) Unwrap() error { return u.error }

// again runs fn, and when retrying is on, runs it again after a pause while
// it fails as unreachable and the case has time left.
func (c *client) again(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		var u unreachable
		if err == nil || !c.retry || !errors.As(err, &u) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retryPause):
		}
	}
}

// newID makes a message's external id.
func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "rp_" + hex.EncodeToString(b)
}
