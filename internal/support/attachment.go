package support

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
)

// DefaultMaxAttachmentBytes is the largest file accepted unless the server
// is configured otherwise.
const DefaultMaxAttachmentBytes = 10 << 20

// MaxAttachmentsPerConversation bounds the files one conversation holds,
// from the customer and the team together.
const MaxAttachmentsPerConversation = 20

// MaxNameRunes bounds a stored file name, its extension included.
const MaxNameRunes = 120

// ErrUnsupportedType is wrapped by the error about a file whose type is not
// one the product accepts, or whose content and name disagree.
var ErrUnsupportedType = errors.New("unsupported type")

// Attachment is a file attached to a message, as lists show it: without its
// content.
type Attachment struct {
	ID          string    `json:"id"`
	MessageID   string    `json:"message_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

// File is an attachment with its content, for a download.
type File struct {
	Attachment
	SHA256  string
	Content []byte
}

// Upload is a file as a person sent it: the name their device gave it, and
// its bytes.
type Upload struct {
	Name    string
	Content []byte
}

// fileType is a type of file the product accepts: what the content must
// sniff as, and what it is stored and served as.
type fileType struct {
	sniffed string
	stored  string
}

// fileTypes are the accepted types by extension. Images, PDFs and plain text
// are what customers send to show a problem; anything a browser could run
// (HTML, SVG, scripts), executables and archives are refused, by name and by
// content alike.
var fileTypes = map[string]fileType{
	".png":  {"image/png", "image/png"},
	".jpg":  {"image/jpeg", "image/jpeg"},
	".jpeg": {"image/jpeg", "image/jpeg"},
	".gif":  {"image/gif", "image/gif"},
	".webp": {"image/webp", "image/webp"},
	".pdf":  {"application/pdf", "application/pdf"},
	".txt":  {"text/plain; charset=utf-8", "text/plain; charset=utf-8"},
	".csv":  {"text/plain; charset=utf-8", "text/csv; charset=utf-8"},
}

// markup are the openings that make a text file something a browser or a
// viewer may run rather than show; the sniffer calls such a file text when
// it does not start with a tag it knows.
var markup = [][]byte{[]byte("<svg"), []byte("<script"), []byte("<html"), []byte("<?xml"),
	[]byte("<!doctype"), []byte("<iframe"), []byte("<object"), []byte("<embed")}

// CleanName returns the name to store for a file a person sent: without
// the folders a browser may prepend, control and bidirectional-override
// characters (which make "gpj.exe" read as "exe.jpg"), or surrounding space
// and dots, and at most MaxNameRunes long with its extension kept. A name
// that climbs out of a folder ("..") or is left empty is refused.
func CleanName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", invalid("a file name must be valid UTF-8")
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool {
		return r == '/' || r == '\\'
	}) {
		if strings.TrimSpace(part) == ".." {
			return "", invalid("a file name cannot name a folder")
		}
	}
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
			r == '\uFEFF' || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .\u00a0")
	if name == "" {
		return "", invalid("a file needs a name")
	}
	if utf8.RuneCountInString(name) > MaxNameRunes {
		ext := extension(name)
		if utf8.RuneCountInString(ext) > 10 {
			ext = ""
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = strings.TrimSpace(string(r[:MaxNameRunes-utf8.RuneCountInString(ext)])) + ext
	}
	return name, nil
}

// extension returns name's extension with its dot, in lower case.
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(name[i:])
}

// CheckUpload validates a file: a clean name, not empty, at most max bytes,
// and a type the product accepts, named by the file's extension and borne
// out by its content. It returns the attachment to store, without its id.
func CheckUpload(u Upload, max int64) (File, error) {
	name, err := CleanName(u.Name)
	if err != nil {
		return File{}, err
	}
	if len(u.Content) == 0 {
		return File{}, invalid("the file is empty")
	}
	if int64(len(u.Content)) > max {
		return File{}, TooLarge(max)
	}
	ct, err := contentType(name, u.Content)
	if err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(u.Content)
	return File{Attachment: Attachment{Name: name, ContentType: ct,
		Size: int64(len(u.Content))}, SHA256: hex.EncodeToString(sum[:]),
		Content: u.Content}, nil
}

// contentType returns what a file named name with content is stored as,
// or ErrUnsupportedType.
func contentType(name string, content []byte) (string, error) {
	ft, ok := fileTypes[extension(name)]
	if !ok {
		return "", fmt.Errorf("support: %w: files may be PNG, JPEG, GIF or WebP images, "+
			"PDFs, or plain text or CSV", ErrUnsupportedType)
	}
	if http.DetectContentType(content) != ft.sniffed {
		return "", fmt.Errorf("support: %w: the file's content is not what its name "+
			"says (%s)", ErrUnsupportedType, extension(name))
	}
	if strings.HasPrefix(ft.stored, "text/") {
		if !utf8.Valid(content) {
			return "", fmt.Errorf("support: %w: a text file must be UTF-8",
				ErrUnsupportedType)
		}
		// The whole file, not only the part the sniffer reads: served as
		// text it cannot run, but a viewer of the agent's may.
		lower := bytes.ToLower(content)
		for _, m := range markup {
			if bytes.Contains(lower, m) {
				return "", fmt.Errorf("support: %w: the text file holds markup a "+
					"browser could run", ErrUnsupportedType)
			}
		}
	}
	return ft.stored, nil
}

// TooLarge is the error about a file over max bytes, which says the limit.
func TooLarge(max int64) error {
	return fmt.Errorf("support: %w: a file has at most %s", ErrTooLong, sizeText(max))
}

// sizeText writes a byte count as people read it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// CategoryAttachment is the handoff category of a customer's message with a
// file: the router reads text only, so a person looks at the file.
const CategoryAttachment = "attachment"

// withFile is the decision on a customer's message with a file: a handoff,
// whatever the caption says, since the AI cannot read what the file shows.
func withFile(f File) brain.Decision {
	return brain.Decision{Action: brain.ActionHandoff, Category: CategoryAttachment,
		Rules: []brain.RuleHit{{Name: CategoryAttachment, Kind: brain.KindGuardrail,
			Matched: f.Name, Why: "The message has a file, which the AI cannot read."}},
		Reason: "attachment: the customer sent a file (" + f.Name + "), which the AI " +
			"cannot read; a person takes it."}
}

// MaxAttachment is the largest file the service accepts, in bytes.
func (s *Service) MaxAttachment() int64 {
	if s.MaxAttachmentBytes > 0 {
		return s.MaxAttachmentBytes
	}
	return DefaultMaxAttachmentBytes
}

// insertFile stores f in the transaction that stores its message, once the
// conversation's row is locked by the message's sequence number, so that two
// uploads at once cannot both pass the conversation's limit.
func (s *Service) insertFile(ctx context.Context, tx *store.Tx, c Conversation, f File,
	uploader, uploaderID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q.CountAttachments, c.WorkspaceID,
		c.ID).Scan(&n); err != nil {
		return fmt.Errorf("support: count attachments: %w", err)
	}
	if n >= MaxAttachmentsPerConversation {
		return invalid("a conversation holds at most %d files; this one has them all",
			MaxAttachmentsPerConversation)
	}
	_, err := tx.ExecContext(ctx, s.q.InsertAttachment, c.WorkspaceID, f.ID, c.ID, f.MessageID,
		f.Name, f.ContentType, f.Size, f.SHA256, uploader, uploaderID,
		f.CreatedAt.UnixMilli(), f.Content)
	if err != nil {
		return fmt.Errorf("support: insert attachment: %w", err)
	}
	return nil
}

// withFiles lists each message's files on it, and counts those removed
// since it was sent.
func (s *Service) withFiles(ctx context.Context, wsID, id string, msgs []Message) error {
	files, err := store.Collect(ctx, s.db, s.q.ListAttachments,
		func(rows *sql.Rows) (Attachment, error) {
			var a Attachment
			var at int64
			err := rows.Scan(&a.ID, &a.MessageID, &a.Name, &a.ContentType, &a.Size, &at)
			a.CreatedAt = timeMilli(at)
			return a, err
		}, wsID, id)
	if err != nil {
		return fmt.Errorf("support: attachments: %w", err)
	}
	byMessage := map[string][]Attachment{}
	for _, a := range files {
		byMessage[a.MessageID] = append(byMessage[a.MessageID], a)
	}
	for i := range msgs {
		m := &msgs[i]
		m.Attachments = byMessage[m.ID]
		m.AttachmentsRemoved = max(m.attached-len(m.Attachments), 0)
	}
	return nil
}

// File returns one of a conversation's files, with its content, for a
// member who may see the conversation.
func (s *Service) File(ctx context.Context, v Viewer, conversationID, id string) (File,
	error) {
	c, err := s.Get(ctx, v, conversationID)
	if err != nil {
		return File{}, err
	}
	return s.file(ctx, c, id, false)
}

// CustomerFile returns a file of the customer's conversation, c as
// VisitorConversation loaded it: only a file of a message the customer sees.
func (s *Service) CustomerFile(ctx context.Context, c Conversation, id string) (File, error) {
	return s.file(ctx, c, id, true)
}

func (s *Service) file(ctx context.Context, c Conversation, id string, customer bool) (File,
	error) {
	if !validID(id) {
		return File{}, store.ErrNotFound
	}
	var f File
	var at int64
	var m Message
	err := s.db.QueryRowContext(ctx, s.q.AttachmentByID, c.WorkspaceID, c.ID, id).Scan(&f.ID,
		&f.MessageID, &f.Name, &f.ContentType, &f.Size, &at, &f.SHA256, &f.Content, &m.Kind,
		&m.State)
	if errors.Is(err, sql.ErrNoRows) || err == nil && customer && !m.CustomerVisible() {
		return File{}, store.ErrNotFound
	}
	if err != nil {
		return File{}, fmt.Errorf("support: attachment: %w", err)
	}
	f.CreatedAt = timeMilli(at)
	return f, nil
}
