package datarequest

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/erase"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Receipt is the signed record of what a completed request removed and
// exported. It names the person only by the contact id, which names nothing
// once the contact is deleted.
type Receipt struct {
	RequestID   string           `json:"request_id"`
	WorkspaceID string           `json:"workspace_id"`
	ContactRef  string           `json:"contact_ref"`
	Kinds       []string         `json:"kinds"`
	Removed     map[string]int64 `json:"removed"`
	ExportUntil *time.Time       `json:"export_until,omitempty"`
	CompletedAt time.Time        `json:"completed_at"`
	// Signature is Ed25519 over the receipt's JSON without it, by the key
	// ReceiptKey returns.
	Signature string `json:"signature,omitempty"`
}

func (r Receipt) signed() []byte {
	r.Signature = ""
	b, _ := json.Marshal(r)
	return b
}

// Signed returns the bytes the signature is over: the receipt's compact JSON
// without its signature.
func (r Receipt) Signed() []byte { return r.signed() }

// Verify reports whether the receipt is as the product signed it.
func (r Receipt) Verify(key ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(r.Signature)
	return err == nil && ed25519.Verify(key, r.signed(), sig)
}

// Approve carries out a verified request: it exports the contact's data when
// asked, deletes it when asked, and signs the receipt, all at once. A legal
// hold on the contact or one of its conversations stops a deletion (ErrHeld),
// not a copy.
func (s *Service) Approve(ctx context.Context, wsID, id, by string) (Request, error) {
	r, err := s.Get(ctx, wsID, id)
	if err != nil {
		return Request{}, err
	}
	if r.State != AwaitingApproval {
		return Request{}, ErrState
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	rc := Receipt{RequestID: id, WorkspaceID: wsID, ContactRef: r.ContactID, Kinds: r.Kinds,
		Removed: map[string]int64{}, CompletedAt: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// A hold placed meanwhile waits for this, or this for the hold.
		if err := tx.Lock(ctx, store.HoldsLock(wsID)); err != nil {
			return err
		}
		subjects, err := s.subjects(ctx, tx, wsID, r)
		if err != nil {
			return err
		}
		deletion := slices.Contains(r.Kinds, Deletion)
		if deletion {
			// A hold keeps data from deletion, not from its owner's copy.
			for _, c := range subjects {
				var held int
				if err := tx.QueryRowContext(ctx, s.q.HeldFor, wsID, c, wsID,
					c).Scan(&held); err != nil {
					return err
				}
				if held > 0 {
					return ErrHeld
				}
			}
		}
		// A contact deleted meanwhile (by retention, or with its channel's
		// history) leaves nothing to export or delete: the request is done,
		// and its receipt says nothing was held.
		var sealed string
		if len(subjects) > 0 &&
			(slices.Contains(r.Kinds, Access) || slices.Contains(r.Kinds, Portability)) {
			archive, err := s.archive(ctx, tx, wsID, r, subjects)
			if err != nil {
				return err
			}
			if sealed, err = s.Seal(archive); err != nil {
				return err
			}
		}
		if deletion {
			for _, c := range subjects {
				if err := s.erase(ctx, tx, wsID, c, rc.Removed); err != nil {
					return err
				}
			}
		}
		// This request's own copy is kept after the deletion, for its
		// requester; the copies of earlier requests went with the contact.
		if sealed != "" {
			until := now.Add(ExportFor)
			if _, err := tx.ExecContext(ctx, s.q.InsertExport, wsID, id, sealed,
				until.UnixMilli(), ","+strings.Join(subjects, ",")+","); err != nil {
				return fmt.Errorf("datarequest: keep export: %w", err)
			}
			rc.ExportUntil = &until
		}
		rc.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.sign, rc.signed()))
		receipt, _ := json.Marshal(rc)
		if err := s.decide(ctx, tx, wsID, id, Completed, by, "", string(receipt)); err != nil {
			return err
		}
		diff := audit.Diff{"contact_id": {nil, r.ContactID}}
		for k, n := range rc.Removed {
			diff["removed_"+k] = [2]any{nil, n}
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.DataRequestCompleted, TargetType: "data_request", TargetID: id,
			Diff: diff})
	})
	if err != nil {
		return Request{}, err
	}
	if slices.Contains(r.Kinds, Deletion) {
		// Deleted text lingers in SQLite's log until a checkpoint writes the
		// pages back; with secure_delete on, the pages no longer hold it.
		s.db.Checkpoint(ctx)
	}
	return s.Get(ctx, wsID, id)
}

// subjects returns the contacts a request is about. A requester who opened
// the link mailed to the address holds it, so every contact that gave that
// address is theirs, whichever of them the request was filed for and
// whichever is gone since: the widget makes a contact per chat, and anyone
// may type an address into one. Any other request is about its own contact.
// The request's own contact comes first, while it remains.
func (s *Service) subjects(ctx context.Context, tx *store.Tx, wsID string,
	r Request) ([]string, error) {
	if r.VerifiedBy == ByEmailLink && r.address != "" {
		ids, err := store.Strings(ctx, tx, s.q.Subjects, wsID, r.address, r.ContactID)
		if err != nil {
			return nil, fmt.Errorf("datarequest: contacts of the address: %w", err)
		}
		return ids, nil
	}
	var exists int
	if err := tx.QueryRowContext(ctx, s.q.ContactExists, wsID,
		r.ContactID).Scan(&exists); err != nil {
		return nil, err
	}
	if exists == 0 {
		return nil, nil
	}
	return []string{r.ContactID}, nil
}

// everything is what a deletion removes with a conversation: all of it.
var everything = erase.Scope{GoldenCases: true, Traces: true}

// erase deletes the contact and everything of theirs: conversations,
// messages, labels, the AI's decisions, agents' flags, their ratings, golden
// cases taken from their messages, the webhook deliveries and kept API
// answers that carry them, and the copies earlier requests exported.
// removed counts what went, by kind.
func (s *Service) erase(ctx context.Context, tx *store.Tx, wsID, contactID string,
	removed map[string]int64) error {
	convs, err := s.conversations(ctx, tx, wsID, contactID)
	if err != nil {
		return err
	}
	for _, c := range convs {
		if err := s.eraser.Conversation(ctx, tx, wsID, c.ID, everything, removed); err != nil {
			return err
		}
	}
	if err := s.eraser.Traces(ctx, tx, wsID, contactID, removed); err != nil {
		return err
	}
	if err := count(ctx, tx, removed, "exports", s.q.DeleteContactExports, wsID,
		"%,"+contactID+",%"); err != nil {
		return err
	}
	return count(ctx, tx, removed, "contacts", s.q.DeleteContact, wsID, contactID)
}

func count(ctx context.Context, tx *store.Tx, removed map[string]int64, kind, query string,
	args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("datarequest: delete %s: %w", kind, err)
	}
	n, _ := res.RowsAffected()
	removed[kind] += n
	return nil
}

// EraseChannel deletes the history of a disconnected inbox through the same
// steps as a deletion request: every conversation not under a legal hold,
// and the contacts left with none. It returns a signed receipt whose
// ContactRef names the inbox, and how many held conversations it kept.
func (s *Service) EraseChannel(ctx context.Context, wsID, inboxID string) (Receipt, int,
	error) {
	rc := Receipt{RequestID: store.NewID("dr"), WorkspaceID: wsID, ContactRef: inboxID,
		Kinds: []string{Deletion}, Removed: map[string]int64{},
		CompletedAt: s.now().UTC().Truncate(time.Millisecond)}
	var kept int
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Lock(ctx, store.HoldsLock(wsID)); err != nil {
			return err
		}
		var disconnected int
		if err := tx.QueryRowContext(ctx, s.q.InboxDisconnected, wsID,
			inboxID).Scan(&disconnected); err != nil {
			return store.ErrNotFound
		}
		if disconnected == 0 {
			return fmt.Errorf("datarequest: %w: disconnect the channel first", ErrInvalid)
		}
		rows, err := tx.QueryContext(ctx, s.q.InboxConversations, wsID, inboxID)
		if err != nil {
			return fmt.Errorf("datarequest: channel conversations: %w", err)
		}
		type conv struct {
			id, contact string
			held        bool
		}
		var convs []conv
		for rows.Next() {
			var c conv
			if err := rows.Scan(&c.id, &c.contact, &c.held); err != nil {
				rows.Close()
				return err
			}
			convs = append(convs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range convs {
			if c.held {
				kept++
				continue
			}
			if err := s.eraser.Conversation(ctx, tx, wsID, c.id, everything,
				rc.Removed); err != nil {
				return err
			}
			if err := count(ctx, tx, rc.Removed, "contacts", s.q.DeleteOrphanContact, wsID,
				c.contact, c.contact); err != nil {
				return err
			}
		}
		rc.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.sign, rc.signed()))
		diff := audit.Diff{"held_kept": {nil, kept}}
		for k, n := range rc.Removed {
			diff["removed_"+k] = [2]any{nil, n}
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.DataDeleted, TargetType: "inbox", TargetID: inboxID,
			Reason: "the disconnected channel's history", Diff: diff})
	})
	if err != nil {
		return Receipt{}, 0, err
	}
	s.db.Checkpoint(ctx)
	return rc, kept, nil
}

// Export returns a completed request's archive, a zip of data.json and
// data.html, while it is kept.
func (s *Service) Export(ctx context.Context, wsID, id string) ([]byte, error) {
	if s.Frozen != nil && s.Frozen(ctx, wsID) {
		return nil, ErrFrozen
	}
	var sealed string
	var expires int64
	err := s.db.QueryRowContext(ctx, s.q.Export, wsID, id).Scan(&sealed, &expires)
	if err != nil || s.now().UnixMilli() > expires {
		return nil, store.ErrNotFound
	}
	archive, err := s.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("datarequest: open export: %w", err)
	}
	err = s.audit.Write(ctx, audit.Event{Workspace: wsID, Action: audit.DataRequestExported,
		TargetType: "data_request", TargetID: id})
	return archive, err
}

// ExportKept reports whether a request's export can still be downloaded: it
// goes when it expires, and with the data when the person's data is deleted.
func (s *Service) ExportKept(ctx context.Context, wsID, id string) bool {
	var n int
	err := s.db.QueryRowContext(ctx, s.q.ExportKept, wsID, id, s.now().UnixMilli()).Scan(&n)
	return err == nil && n > 0
}

// PruneExports removes exports past their time.
func (s *Service) PruneExports(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q.PruneExports, s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("datarequest: prune exports: %w", err)
	}
	return res.RowsAffected()
}

// exported is the contact's data as the archive holds it.
type exported struct {
	RequestID  string         `json:"request_id"`
	ExportedAt time.Time      `json:"exported_at"`
	Contact    map[string]any `json:"contact"`
	// OtherContacts gave the same address, which the requester proved is
	// theirs.
	OtherContacts []map[string]any       `json:"other_contacts,omitempty"`
	Conversations []exportedConversation `json:"conversations"`
}

// exportedConversation holds what the customer saw and said: the messages
// sent to and from them, and their rating. Agents' notes and unsent drafts
// are the team's working papers and may name other people; they are not
// part of it.
type exportedConversation struct {
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	Subject       string            `json:"subject"`
	Labels        string            `json:"labels"`
	StartedAt     time.Time         `json:"started_at"`
	LastMessageAt time.Time         `json:"last_message_at"`
	Messages      []exportedMessage `json:"messages"`
	Rating        *exportedRating   `json:"rating,omitempty"`
}

type exportedRating struct {
	Score   int       `json:"score"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

type exportedMessage struct {
	Seq    int64     `json:"seq"`
	Kind   string    `json:"kind"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	State  string    `json:"state"`
	At     time.Time `json:"at"`
	// Files are the files sent with the message; the archive holds each
	// under its File path.
	Files []exportedFile `json:"files,omitempty"`
	id    string
}

// exportedFile is a file of the customer's conversation, as the archive's
// JSON lists it beside the file itself.
type exportedFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	// File is the file's path in the archive.
	File string `json:"file"`
}

func (s *Service) conversations(ctx context.Context, tx *store.Tx, wsID,
	contactID string) ([]exportedConversation, error) {
	rows, err := tx.QueryContext(ctx, s.q.ContactConversations, wsID, contactID)
	if err != nil {
		return nil, fmt.Errorf("datarequest: conversations: %w", err)
	}
	defer rows.Close()
	var out []exportedConversation
	for rows.Next() {
		var c exportedConversation
		var started, last int64
		if err := rows.Scan(&c.ID, &c.Status, &c.Subject, &started, &last,
			&c.Labels); err != nil {
			return nil, err
		}
		c.StartedAt, c.LastMessageAt = time.UnixMilli(started).UTC(), time.UnixMilli(last).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Service) archive(ctx context.Context, tx *store.Tx, wsID string, r Request,
	subjects []string) ([]byte, error) {
	data := exported{RequestID: r.ID, ExportedAt: s.now().UTC()}
	var convs []exportedConversation
	for i, id := range subjects {
		var name, email string
		var created int64
		if err := tx.QueryRowContext(ctx, s.q.Contact, wsID, id).Scan(&name, &email,
			&created); err != nil {
			return nil, fmt.Errorf("datarequest: contact: %w", err)
		}
		// The time as text, so that the page shows it as the JSON does.
		contact := map[string]any{"id": id, "name": name, "email": email,
			"created_at": time.UnixMilli(created).UTC().Format(time.RFC3339)}
		if i == 0 {
			data.Contact = contact
		} else {
			data.OtherContacts = append(data.OtherContacts, contact)
		}
		cs, err := s.conversations(ctx, tx, wsID, id)
		if err != nil {
			return nil, err
		}
		convs = append(convs, cs...)
	}
	files := map[string][]byte{}
	for _, c := range convs {
		rows, err := tx.QueryContext(ctx, s.q.ConversationMessages, c.ID)
		if err != nil {
			return nil, fmt.Errorf("datarequest: messages: %w", err)
		}
		for rows.Next() {
			var m exportedMessage
			var at int64
			if err := rows.Scan(&m.id, &m.Seq, &m.Kind, &m.Author, &m.Text, &m.State,
				&at); err != nil {
				rows.Close()
				return nil, err
			}
			m.At = time.UnixMilli(at).UTC()
			c.Messages = append(c.Messages, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if err := s.files(ctx, tx, c, files); err != nil {
			return nil, err
		}
		var rt exportedRating
		var at int64
		err = tx.QueryRowContext(ctx, s.q.RatingOf, c.ID).Scan(&rt.Score, &rt.Comment, &at)
		switch {
		case err == nil:
			rt.At = time.UnixMilli(at).UTC()
			c.Rating = &rt
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		data.Conversations = append(data.Conversations, c)
	}
	return zipArchive(data, files)
}

// files adds the files of conversation c to its messages and to files, by
// their path in the archive: files/, the file's id, and its name.
func (s *Service) files(ctx context.Context, tx *store.Tx, c exportedConversation,
	files map[string][]byte) error {
	rows, err := tx.QueryContext(ctx, s.q.ConversationFiles, c.ID)
	if err != nil {
		return fmt.Errorf("datarequest: files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, messageID string
		var f exportedFile
		var content []byte
		if err := rows.Scan(&id, &messageID, &f.Name, &f.ContentType, &f.Size, &f.SHA256,
			&content); err != nil {
			return err
		}
		f.File = "files/" + id + "/" + entryName(f.Name)
		files[f.File] = content
		for i := range c.Messages {
			if c.Messages[i].id == messageID {
				c.Messages[i].Files = append(c.Messages[i].Files, f)
			}
		}
	}
	return rows.Err()
}

var page = template.Must(template.New("export").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Your data</title>
<h1>Your data</h1>
<p>Exported {{.ExportedAt.Format "2006-01-02 15:04 MST"}} for request {{.RequestID}}.</p>
<h2>Contact</h2>
<dl>{{range $k, $v := .Contact}}<dt>{{$k}}</dt><dd>{{$v}}</dd>{{end}}</dl>
{{range .OtherContacts}}<h3>Also under your address</h3>
<dl>{{range $k, $v := .}}<dt>{{$k}}</dt><dd>{{$v}}</dd>{{end}}</dl>
{{end}}{{range .Conversations}}<h2>Conversation {{.ID}}</h2>
<p>{{.Status}}, started {{.StartedAt.Format "2006-01-02 15:04"}}</p>
<ol>{{range .Messages}}<li><strong>{{.Author}}</strong>
({{.Kind}}, {{.At.Format "2006-01-02 15:04"}}): {{.Text}}
{{range .Files}}<br>File: <a href="{{.File}}" download>{{.Name}}</a> ({{.ContentType}},
{{.Size}} bytes){{end}}</li>{{end}}</ol>
{{end}}</html>
`))

// entryName is a file's name as a path in the archive: the characters that
// Windows reads as a drive, a stream or a pattern become "_", so that an
// unzipped file is the file named. Names hold no folders (support.CleanName).
func entryName(name string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:*?"<>|`, r) {
			return '_'
		}
		return r
	}, name)
}

// zipArchive writes data.json, data.html and the files, by their path.
func zipArchive(data exported, files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	// Entries carry the export's time; without one, unzip shows 1980-00-00.
	create := func(name string) (io.Writer, error) {
		return z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate,
			Modified: data.ExportedAt})
	}
	js, err := create("data.json")
	if err == nil {
		enc := json.NewEncoder(js)
		enc.SetIndent("", "  ")
		err = enc.Encode(data)
	}
	if err == nil {
		var h io.Writer
		if h, err = create("data.html"); err == nil {
			err = page.Execute(h, data)
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err != nil {
			break
		}
		var f io.Writer
		if f, err = create(p); err == nil {
			_, err = f.Write(files[p])
		}
	}
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		return nil, errors.Join(errors.New("datarequest: build archive"), err)
	}
	return buf.Bytes(), nil
}

func subtleEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
