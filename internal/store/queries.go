package store

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
)

// LoadQueries reads the named statements in the .sql files of fsys and stores
// each in the string field of dest, a pointer to a struct, whose name matches.
// A statement starts at a line "-- name: Name" and runs to the next such line.
// A field without a statement, a statement without a field, or a statement the
// database cannot prepare is an error, so a mistake is caught when the product
// starts rather than on first use. The statements stay prepared for reuse.
func (db *DB) LoadQueries(fsys fs.FS, dest any) error {
	named := map[string]string{}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("store: list queries: %w", err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("store: read %s: %w", f, err)
		}
		if err := parseNamed(string(b), named); err != nil {
			return fmt.Errorf("store: %s: %w", f, err)
		}
	}

	v := reflect.ValueOf(dest).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Name
		q, ok := named[name]
		if !ok {
			return fmt.Errorf("store: no query named %s", name)
		}
		q = db.Rebind(q)
		if err := db.prepare(context.Background(), q); err != nil {
			return fmt.Errorf("store: query %s: %w", name, err)
		}
		v.Field(i).SetString(q)
		delete(named, name)
	}
	for name := range named {
		return fmt.Errorf("store: query %s is not used", name)
	}
	return nil
}

func parseNamed(src string, into map[string]string) error {
	var name string
	var body strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		if _, dup := into[name]; dup {
			return fmt.Errorf("query %s defined twice", name)
		}
		into[name] = strings.TrimSpace(body.String())
		body.Reset()
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "-- name:"); ok {
			if err := flush(); err != nil {
				return err
			}
			name = strings.TrimSpace(rest)
			continue
		}
		if name != "" && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	return flush()
}

// Rebind rewrites ? placeholders as $1, $2, … for PostgreSQL; quoted text is
// left alone. On SQLite the query is returned unchanged.
func (db *DB) Rebind(q string) string {
	if db.engine != Postgres {
		return q
	}
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range q {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Placeholder returns the placeholder of the n-th argument (from 1) of a
// query built at run time: ? on SQLite, $n on PostgreSQL.
func (db *DB) Placeholder(n int) string {
	if db.engine == Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}
