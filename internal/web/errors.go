package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/checklist"
	"github.com/thunaivi/thunaivi/internal/compliance"
	"github.com/thunaivi/thunaivi/internal/datarequest"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/incident"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/meta"
	"github.com/thunaivi/thunaivi/internal/quality"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/webhook"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// errorBody is every error response, {"error": {...}}: a stable code for
// programs, a message for people, and the request id to quote to support. It
// never carries the underlying cause.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg,
		RequestID: requestID(r.Context())}})
}

// fail maps a domain error to a response. Input errors carry a message meant
// for people; anything unexpected is logged with the request id and answered
// with a generic 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := classify(err)
	writeError(w, r, status, code, s.userMessage(r, err))
}

// classify picks the status and code for an error.
func classify(err error) (int, string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, identity.ErrBadCredentials):
		return http.StatusUnauthorized, "bad_credentials"
	case errors.Is(err, workspace.ErrNotOfficeAddress):
		return http.StatusForbidden, "not_office_address"
	case errors.Is(err, workspace.ErrUnverifiedAddress):
		return http.StatusForbidden, "email_not_verified"
	case errors.Is(err, support.ErrInvalid), errors.Is(err, kb.ErrInvalid),
		errors.Is(err, webhook.ErrInvalid), errors.Is(err, apikey.ErrInvalid),
		errors.Is(err, llm.ErrInvalid),
		errors.Is(err, workspace.ErrInvalid), errors.Is(err, identity.ErrWeakPassword),
		errors.Is(err, identity.ErrInvalidName), errors.Is(err, errForm),
		errors.Is(err, identity.ErrSecondFactorState), errors.Is(err, identity.ErrBadSecondFactor),
		errors.Is(err, identity.ErrSecondFactorNeeded), errors.Is(err, identity.ErrNotLocked),
		errors.Is(err, retention.ErrInvalid), errors.Is(err, quality.ErrInvalid),
		errors.Is(err, datarequest.ErrInvalid), errors.Is(err, meta.ErrInvalid),
		errors.Is(err, compliance.ErrInvalid), errors.Is(err, incident.ErrInvalid),
		errors.Is(err, checklist.ErrInvalid):
		return http.StatusUnprocessableEntity, "invalid"
	case errors.Is(err, incident.ErrUnconfirmed):
		return http.StatusConflict, "confirm_differences"
	case errors.Is(err, incident.ErrOrder):
		return http.StatusConflict, "wrong_step"
	case errors.Is(err, incident.ErrClosed):
		return http.StatusConflict, "incident_closed"
	case errors.Is(err, checklist.ErrSigned):
		return http.StatusConflict, "already_signed"
	case errors.Is(err, datarequest.ErrFrozen):
		return http.StatusLocked, "exports_frozen"
	case errors.Is(err, support.ErrConflict), errors.Is(err, kb.ErrConflict),
		errors.Is(err, quality.ErrConflict), errors.Is(err, compliance.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, datarequest.ErrState):
		return http.StatusConflict, "wrong_state"
	case errors.Is(err, datarequest.ErrOpen):
		return http.StatusConflict, "request_open"
	case errors.Is(err, datarequest.ErrHeld):
		return http.StatusConflict, "legal_hold"
	case errors.Is(err, retention.ErrHeld):
		return http.StatusConflict, "conflict"
	case errors.Is(err, retention.ErrLeased):
		return http.StatusConflict, "purge_running"
	case errors.Is(err, kb.ErrReviewRequired):
		return http.StatusConflict, "review_required"
	case errors.Is(err, kb.ErrNotPending):
		return http.StatusConflict, "not_pending"
	case errors.Is(err, kb.ErrOwnProposal):
		return http.StatusForbidden, "own_proposal"
	case errors.Is(err, support.ErrUnsupportedType):
		return http.StatusUnsupportedMediaType, "unsupported_type"
	case errors.Is(err, errTooLarge), errors.Is(err, support.ErrTooLong):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, errBadJSON):
		return http.StatusBadRequest, "bad_request"
	case errors.Is(err, errThrottled), errors.As(err, new(accountWait)):
		return http.StatusTooManyRequests, "rate_limited"
	}
	return http.StatusInternalServerError, "internal"
}

// userMessage is what a person may read about an error: its own words for
// errors about their input, and nothing of the cause for anything else,
// which is logged instead.
func (s *Server) userMessage(r *http.Request, err error) string {
	switch status, _ := classify(err); status {
	case http.StatusNotFound:
		return "Not found."
	case http.StatusTooManyRequests:
		if errors.Is(err, errThrottled) {
			return "Too many attempts. Wait a minute and try again."
		}
		return err.Error()
	case http.StatusRequestEntityTooLarge:
		if errors.Is(err, support.ErrTooLong) {
			return publicMessage(err)
		}
		return "The request body is too large."
	case http.StatusInternalServerError:
		s.log.Error("Request failed", "request_id", requestID(r.Context()),
			"path", r.URL.Path, "error", err)
		return "Something went wrong on our side."
	}
	return publicMessage(err)
}

// publicMessage keeps the part of a domain error after its package prefix and
// error kind: "support: invalid: a message cannot be empty" becomes "A message
// cannot be empty."
func publicMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if msg == "" {
		return "Invalid request."
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

var (
	errTooLarge = errors.New("request body too large")
	errBadJSON  = errors.New("bad request")
	errForm     = errors.New("invalid")
)

// maxJSONBody bounds every JSON request body; a message is at most 16 KiB of
// text, which JSON escaping can grow.
const maxJSONBody = 64 << 10

// decode reads exactly one JSON object with no unknown fields into v. The
// body must be valid UTF-8: the JSON decoder would otherwise replace bad bytes
// silently and store text the sender never wrote.
func decode(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return badJSON("the content type must be application/json")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errTooLarge
	case err != nil:
		return badJSON("the request body could not be read")
	case len(bytes.TrimSpace(raw)) == 0:
		return badJSON("the request body is empty")
	case !utf8.Valid(raw):
		return badJSON("the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badJSON("unknown field " + field)
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return badJSON("field " + typeErr.Field + " has the wrong type")
		}
		return badJSON("the request body is not a valid JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badJSON("the request body holds more than one JSON value")
	}
	return nil
}

// formError is a console form's own complaint about what was entered.
func formError(msg string) error { return fmt.Errorf("web: %w: %s", errForm, msg) }

func badJSON(msg string) error { return fmt.Errorf("%w: %s", errBadJSON, msg) }

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
