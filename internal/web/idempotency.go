package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/thunaivi/thunaivi/internal/idempotency"
)

// maxIdempotentBody bounds what is kept of an answer, and read of a request
// sent with an Idempotency-Key.
const maxIdempotentBody = 1 << 20

// idempotent serves a POST sent with an Idempotency-Key once: a retry with
// the same key and request gets the first answer again, marked
// Idempotent-Replayed, for 24 hours. The key belongs to whoever sent it, an
// API key or a member.
func (s *Server) idempotent(h memberHandler) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || s.Idempotency == nil {
			h(w, r, p)
			return
		}
		if len(key) > idempotency.MaxKeyLen || strings.ContainsFunc(key, func(c rune) bool {
			return c < ' ' || c > '~'
		}) {
			writeError(w, r, http.StatusBadRequest, "bad_idempotency_key",
				"An Idempotency-Key is 1 to 255 printable ASCII characters.")
			return
		}
		limit := int64(maxIdempotentBody)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			limit = s.maxUpload() // a file, which only an upload route takes
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			writeError(w, r, http.StatusRequestEntityTooLarge, "too_large",
				"The request body is too large.")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		scope := "user:" + p.UserID
		if p.Key != nil {
			scope = "key:" + p.Key.ID
		}
		print := idempotency.Fingerprint(r.Method, r.URL.Path, body)
		kept, err := s.Idempotency.Begin(r.Context(), scope, key, print)
		switch {
		case errors.Is(err, idempotency.ErrMismatch):
			writeError(w, r, http.StatusUnprocessableEntity, "idempotency_key_reused",
				"This Idempotency-Key was used with another request; use a new key.")
			return
		case errors.Is(err, idempotency.ErrInProgress):
			w.Header().Set("Retry-After", "1")
			writeError(w, r, http.StatusConflict, "idempotency_in_progress",
				"A request with this Idempotency-Key is still being served; retry shortly.")
			return
		case err != nil:
			s.fail(w, r, err)
			return
		case kept != nil:
			w.Header().Set("Content-Type", kept.ContentType)
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(kept.Status)
			w.Write(kept.Body)
			return
		}
		rec := &keptAnswer{ResponseWriter: w}
		h(rec, r, p)
		if rec.status == 0 || rec.status >= 500 || rec.overflow || rec.secret {
			err = s.Idempotency.Release(r.Context(), scope, key)
		} else {
			err = s.Idempotency.Finish(r.Context(), scope, key, idempotency.Answer{
				Status: rec.status, ContentType: rec.Header().Get("Content-Type"),
				Body: rec.body.Bytes()})
		}
		if err != nil {
			s.log.Error("Keeping an idempotent answer failed", "error", err,
				"request_id", requestID(r.Context()))
		}
	}
}

// keptAnswer passes a response on and keeps a copy of it.
type keptAnswer struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
	// secret is set by an answer that shows a secret once: a new key, a
	// second factor's secret, an invitation link. It is never kept, so a
	// retry acts again rather than hand the secret out of the database.
	secret bool
}

// showsSecret marks an answer that shows a secret once, so that it is not
// kept for idempotent retries.
func showsSecret(w http.ResponseWriter) {
	if k, ok := w.(*keptAnswer); ok {
		k.secret = true
	}
}

func (k *keptAnswer) WriteHeader(code int) {
	if k.status == 0 {
		k.status = code
	}
	k.ResponseWriter.WriteHeader(code)
}

func (k *keptAnswer) Write(b []byte) (int, error) {
	if k.status == 0 {
		k.status = http.StatusOK
	}
	if k.body.Len()+len(b) > maxIdempotentBody {
		k.overflow = true
	} else {
		k.body.Write(b)
	}
	return k.ResponseWriter.Write(b)
}
