package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// A backup reads every table of the store, whichever domain owns it: the
// statements here name tables only as the catalog lists them.

// DatabaseFile is the SQLite database's file in a data folder.
func DatabaseFile(dataDir string) string { return filepath.Join(dataDir, sqliteFile) }

// VacuumInto writes a consistent copy of a SQLite database to path, which
// must not exist, with VACUUM INTO: it reads in one transaction, which in WAL
// mode holds up no writer, and the copy is compact and needs no log.
func (db *DB) VacuumInto(ctx context.Context, path string) error {
	if db.engine != SQLite {
		return fmt.Errorf("store: VACUUM INTO is for SQLite, not %s", db.engine)
	}
	if strings.ContainsRune(path, '\'') {
		return fmt.Errorf("store: a snapshot path may not hold a quote: %s", path)
	}
	if _, err := db.read.ExecContext(ctx, "VACUUM INTO '"+path+"'"); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	return nil
}

// ReadTx is a read-only transaction on one snapshot of a PostgreSQL store:
// every statement in it sees the same data.
type ReadTx struct{ *sql.Tx }

// BeginSnapshot starts a REPEATABLE READ, read-only transaction on
// PostgreSQL. SQLite takes its snapshots with VacuumInto: its transactions
// here start with the write lock.
func (db *DB) BeginSnapshot(ctx context.Context) (ReadTx, error) {
	if db.engine != Postgres {
		return ReadTx{}, fmt.Errorf("store: a snapshot transaction is for PostgreSQL, not %s",
			db.engine)
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead,
		ReadOnly: true})
	if err != nil {
		return ReadTx{}, fmt.Errorf("store: begin snapshot: %w", err)
	}
	return ReadTx{tx}, nil
}

// Tables lists the store's tables, each after the tables it refers to, so
// that rows loaded in this order satisfy their foreign keys.
func (db *DB) Tables(ctx context.Context, q Querier) ([]string, error) {
	var names []string
	refs := map[string][]string{}
	switch db.engine {
	case SQLite:
		var err error
		names, err = Strings(ctx, q, "SELECT name FROM sqlite_master WHERE type = 'table' "+
			"AND name NOT LIKE 'sqlite_%' ORDER BY name")
		if err != nil {
			return nil, fmt.Errorf("store: list tables: %w", err)
		}
		for _, n := range names {
			parents, err := Strings(ctx, q,
				"SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", n)
			if err != nil {
				return nil, fmt.Errorf("store: foreign keys of %s: %w", n, err)
			}
			refs[n] = parents
		}
	case Postgres:
		var err error
		names, err = Strings(ctx, q, "SELECT table_name::text FROM information_schema.tables "+
			"WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "+
			"ORDER BY table_name")
		if err != nil {
			return nil, fmt.Errorf("store: list tables: %w", err)
		}
		rows, err := q.QueryContext(ctx, "SELECT c.conrelid::regclass::text, "+
			"c.confrelid::regclass::text FROM pg_constraint c "+
			"JOIN pg_namespace n ON n.oid = c.connamespace "+
			"WHERE c.contype = 'f' AND n.nspname = current_schema()")
		if err != nil {
			return nil, fmt.Errorf("store: foreign keys: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var child, parent string
			if err := rows.Scan(&child, &parent); err != nil {
				return nil, err
			}
			refs[child] = append(refs[child], parent)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return parentsFirst(names, refs), nil
}

// parentsFirst orders names so that each comes after those it refers to;
// a table that refers to itself, or a cycle, keeps the names' order.
func parentsFirst(names []string, refs map[string][]string) []string {
	sort.Strings(names)
	placed := map[string]bool{}
	var out []string
	var visit func(n string, path map[string]bool)
	visit = func(n string, path map[string]bool) {
		if placed[n] || path[n] {
			return
		}
		path[n] = true
		for _, p := range refs[n] {
			visit(p, path)
		}
		placed[n] = true
		out = append(out, n)
	}
	for _, n := range names {
		visit(n, map[string]bool{})
	}
	return out
}

// CountRows counts a table's rows; table must come from Tables.
func (db *DB) CountRows(ctx context.Context, q Querier, table string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(table)).
		Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	return n, nil
}

// quoteIdent quotes a table or column name for either engine.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// EachRow reads every row of a table, as column names and values, in q's
// snapshot; table must come from Tables.
func (db *DB) EachRow(ctx context.Context, q Querier, table string,
	fn func(cols []string, vals []any) error) error {
	rows, err := q.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
	if err != nil {
		return fmt.Errorf("store: read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("store: read %s: %w", table, err)
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// BinaryColumns lists a PostgreSQL table's bytea columns: a backup writes
// their values, as JSON does bytes, in base64, which a restore decodes.
func (db *DB) BinaryColumns(ctx context.Context, q Querier, table string) ([]string, error) {
	if db.engine != Postgres {
		return nil, nil
	}
	cols, err := Strings(ctx, q, "SELECT column_name::text FROM information_schema.columns "+
		"WHERE table_schema = current_schema() AND table_name = $1 AND data_type = 'bytea'",
		table)
	if err != nil {
		return nil, fmt.Errorf("store: binary columns of %s: %w", table, err)
	}
	return cols, nil
}

// InsertRow inserts one row into table inside tx, as a restore loads them.
func (db *DB) InsertRow(ctx context.Context, tx *Tx, table string, cols []string,
	vals []any) error {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quoteIdent(table) + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c))
	}
	b.WriteString(") VALUES (")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(db.Placeholder(i + 1))
	}
	b.WriteString(")")
	if _, err := tx.ExecContext(ctx, b.String(), vals...); err != nil {
		return fmt.Errorf("store: load %s: %w", table, err)
	}
	return nil
}

// guardedTables are the tables whose triggers keep them append-only, which
// a restore must lift while it loads their rows as they were.
var guardedTables = []string{"audit_log", "audit_head"}

// Loading runs fn in a transaction with the audit log's append-only
// triggers lifted, so that a restore can put back the chain as it was, and
// with the migration-made head row removed, so that the backup's replaces
// it. Only a restore into a new, empty PostgreSQL schema may call it: the
// triggers are back in force when the transaction ends, whatever happens.
func (db *DB) Loading(ctx context.Context, fn func(tx *Tx) error) error {
	if db.engine != Postgres {
		return fmt.Errorf("store: loading rows is for PostgreSQL, not %s", db.engine)
	}
	return db.InTx(ctx, func(tx *Tx) error {
		for _, t := range guardedTables {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quoteIdent(t)+
				" DISABLE TRIGGER USER"); err != nil {
				return fmt.Errorf("store: lift the guards of %s: %w", t, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM audit_head"); err != nil {
			return fmt.Errorf("store: clear the audit head: %w", err)
		}
		if err := fn(tx); err != nil {
			return err
		}
		for _, t := range guardedTables {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quoteIdent(t)+
				" ENABLE TRIGGER USER"); err != nil {
				return fmt.Errorf("store: restore the guards of %s: %w", t, err)
			}
		}
		return nil
	})
}
