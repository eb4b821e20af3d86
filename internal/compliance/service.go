package compliance

import (
	"embed"
	"errors"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	Contacts         string
	SetContacts      string
	LastVersion      string
	InsertDocument   string
	Document         string
	CurrentDocument  string
	Versions         string
	CurrentTerms     string
	InsertTerms      string
	InsertAcceptance string
	Acceptance       string
}

// ErrInvalid is wrapped by errors about input a person can correct.
var ErrInvalid = errors.New("invalid")

// ErrConflict is returned for a change made against an older state, such as
// accepting terms that were replaced meanwhile.
var ErrConflict = errors.New("compliance: conflict")

// Service keeps contacts, documents and the acceptance of terms.
type Service struct {
	db    *store.DB
	q     queries
	now   func() time.Time
	audit *audit.Log
}

// New prepares the service.
func New(db *store.DB, now func() time.Time, log *audit.Log) (*Service, error) {
	s := &Service{db: db, now: now, audit: log}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}
