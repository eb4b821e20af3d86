package store

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var idEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// NewID returns a random identifier with a short prefix naming its kind, such
// as "cv_" for a conversation. Its 100 random bits make ids unguessable, so an
// id alone never grants access, and they sort no information about volume.
func NewID(prefix string) string {
	var b [13]byte
	rand.Read(b[:])
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b[:])[:20])
}
