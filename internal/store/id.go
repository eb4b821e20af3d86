package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

// idEncoding is base32 in ascending ASCII order, without look-alike letters,
// so that ids sort as their bytes do.
var idEncoding = base32.NewEncoding("23456789abcdefghijkmnpqrstuvwxyz").
	WithPadding(base32.NoPadding)

// NewID returns an identifier with a short prefix naming its kind, such as
// "cv_" for a conversation. It starts with the time in milliseconds, so that
// new rows land at the end of their indexes rather than all over them, and
// ends with 80 random bits, so that ids cannot be guessed. Access never rests
// on an id alone: every query is scoped to the caller's workspace.
func NewID(prefix string) string {
	var b [16]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(time.Now().UnixMilli()))
	copy(b[:6], ms[2:])
	rand.Read(b[6:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}
