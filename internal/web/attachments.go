package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
)

// uploadOverhead is what a multipart upload may hold beyond its file: the
// caption, at most support.MaxMessageBytes, and the parts' headers.
const uploadOverhead = 64 << 10

// widgetUploadsPerMinute bounds the files one address sends through the
// widget, on top of the widget's request limits: a file is up to a
// thousand times a message.
const widgetUploadsPerMinute = 10

// fileCSP keeps a downloaded file, should a browser show it after all, from
// running anything or loading anything.
const fileCSP = "sandbox; default-src 'none'"

// attachmentRoutes let agents send files with replies and download a
// conversation's files, and website visitors do the same in their own
// conversation.
func (s *Server) attachmentRoutes() {
	s.api("POST /api/v1/conversations/{id}/attachments", access.MessagesWrite, s.apiAttach)
	s.api("GET /api/v1/conversations/{id}/attachments/{attachment}", access.ConversationsRead,
		s.apiFile)
	s.page("POST /conversations/{id}/attachments", access.MessagesWrite, s.formAttach)
	s.public("POST /widget/v1/conversations/{id}/attachments", s.visitor(s.widgetAttach))
	s.public("GET /widget/v1/conversations/{id}/attachments/{attachment}",
		s.visitor(s.widgetFile))
}

// maxUpload bounds a multipart upload's body.
func (s *Server) maxUpload() int64 { return s.Support.MaxAttachment() + uploadOverhead }

// readUpload reads a multipart/form-data body of one file, in the field
// "file", and an optional caption, in "text", without writing either to
// disk. The file's name is read as the client sent it, folders and all, for
// support.CheckUpload to judge.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (support.Upload, string,
	error) {
	var u support.Upload
	r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload())
	mr, err := r.MultipartReader()
	if err != nil {
		return u, "", badJSON("send the file as multipart/form-data, in the field \"file\"")
	}
	var caption string
	files := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return u, "", s.bodyError(err, "the multipart body does not parse")
		}
		switch part.FormName() {
		case "file":
			if files++; files > 1 {
				return u, "", badJSON("send one file per message")
			}
			_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if err != nil {
				return u, "", badJSON("the file's part does not parse")
			}
			u.Name = params["filename"]
			// One byte over the limit is enough for CheckUpload to refuse it.
			u.Content, err = io.ReadAll(io.LimitReader(part, s.Support.MaxAttachment()+1))
			if err != nil {
				return u, "", s.bodyError(err, "the file could not be read")
			}
		case "text":
			b, err := io.ReadAll(io.LimitReader(part, support.MaxMessageBytes+1))
			if err != nil {
				return u, "", s.bodyError(err, "the caption could not be read")
			}
			caption = string(b)
		default:
			return u, "", badJSON("unknown field " + strconv.Quote(part.FormName()))
		}
	}
	if files == 0 {
		return u, "", badJSON("the request holds no file (the field \"file\")")
	}
	return u, caption, nil
}

// bodyError is the error about a file over the limit for a body over its
// own, which holds one file; a bad request otherwise.
func (s *Server) bodyError(err error, msg string) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return support.TooLarge(s.Support.MaxAttachment())
	}
	return badJSON(msg)
}

// apiAttach sends the customer an agent's reply with a file.
func (s *Server) apiAttach(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if _, err := s.Support.Get(r.Context(), p.Viewer, id); err != nil {
		s.fail(w, r, err)
		return
	}
	u, caption, err := s.readUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	caption = s.withoutKeys(r, caption, "pasted in a conversation")
	m, err := s.Support.ReplyFile(r.Context(), p.Viewer, id, caption, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// apiFile downloads one of a conversation's files.
func (s *Server) apiFile(w http.ResponseWriter, r *http.Request, p *principal) {
	f, err := s.Support.File(r.Context(), p.Viewer, r.PathValue("id"),
		r.PathValue("attachment"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveFile(w, f)
}

// formAttach is the console's reply with a file.
func (s *Server) formAttach(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if _, err := s.Support.Get(r.Context(), p.Viewer, id); err != nil {
		s.fail(w, r, err)
		return
	}
	u, caption, err := s.readUpload(w, r)
	if err == nil {
		caption = s.withoutKeys(r, caption, "pasted in a conversation")
		_, err = s.Support.ReplyFile(r.Context(), p.Viewer, id, caption, u)
	}
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	if err == nil {
		http.Redirect(w, r, "/conversations/"+id+"#compose", http.StatusSeeOther)
		return
	}
	s.back(w, r, "/conversations/"+id, err)
}

// widgetAttach stores a visitor's message with a file; a person answers it.
func (s *Server) widgetAttach(w http.ResponseWriter, r *http.Request, c support.Conversation) {
	if !s.uploads.allow(clientIP(r)) {
		writeError(w, r, http.StatusTooManyRequests, "rate_limited",
			"Too many files from your address. Try again in a minute.")
		return
	}
	u, caption, err := s.readUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	caption = s.withoutKeys(r, caption, "pasted in a conversation by a customer")
	rec, err := s.Support.ReceiveFile(r.Context(), c, caption, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, receivedStatus(rec), customerReceipt(rec))
}

// widgetFile downloads a file of the visitor's own conversation.
func (s *Server) widgetFile(w http.ResponseWriter, r *http.Request, c support.Conversation) {
	f, err := s.Support.CustomerFile(r.Context(), c, r.PathValue("attachment"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveFile(w, f)
}

// serveFile sends a file as a download, never as a page: with the type it
// was checked to be, no sniffing, and a policy that lets nothing run should
// a browser show it anyway.
func serveFile(w http.ResponseWriter, f support.File) {
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", contentDisposition(f.Name))
	h.Set("Content-Length", strconv.FormatInt(int64(len(f.Content)), 10))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", fileCSP)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	w.WriteHeader(http.StatusOK)
	w.Write(f.Content)
}

// contentDisposition makes a file a download under its name, as RFC 6266
// says: filename* carries the name in UTF-8, and filename an ASCII stand-in
// for clients that read only that.
func contentDisposition(name string) string {
	var ascii, encoded strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%':
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9',
			strings.IndexByte("!#$&+-.^_`|~", b) >= 0:
			encoded.WriteByte(b)
		default:
			fmt.Fprintf(&encoded, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` +
		encoded.String()
}
