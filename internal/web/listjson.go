package web

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/support"
)

// The conversation list is the API's busiest answer: integrators poll it.
// It is written by hand, byte for byte as encoding/json would write it
// (TestConversationListJSON checks), at a fraction of the cost.

// writeConversations answers a page of conversations and the cursor to the
// next one.
func writeConversations(w http.ResponseWriter, list []support.Conversation, next string) {
	b := make([]byte, 0, 512*len(list)+64)
	b = append(b, `{"conversations":[`...)
	for i, c := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendConversation(b, c)
	}
	b = append(b, `],"next_cursor":`...)
	b = appendString(b, next)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func appendConversation(b []byte, c support.Conversation) []byte {
	field := func(name, v string) {
		b = append(b, `"`+name+`":`...)
		b = appendString(b, v)
		b = append(b, ',')
	}
	b = append(b, '{')
	field("id", c.ID)
	field("workspace_id", c.WorkspaceID)
	field("inbox_id", c.InboxID)
	field("contact_id", c.ContactID)
	field("contact_name", c.ContactName)
	field("contact_email", c.ContactEmail)
	field("status", c.Status)
	field("priority", c.Priority)
	field("assignee_id", c.AssigneeID)
	field("team_id", c.TeamID)
	field("subject", c.Subject)
	b = append(b, `"labels":`...)
	if c.Labels == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, l := range c.Labels {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, l)
		}
		b = append(b, ']')
	}
	b = append(b, `,"created_at":"`...)
	b = c.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","last_message_at":"`...)
	b = c.LastMessageAt.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string as encoding/json does: HTML
// characters, controls and the line separators escaped, invalid UTF-8 as
// U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
