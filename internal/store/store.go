package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// ErrNotFound is returned by domain packages when a row does not exist in the
// caller's workspace. A row of another workspace is reported the same way.
var ErrNotFound = errors.New("not found")

// Engine names the database engine behind a DB.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is the database handle shared by every domain package. On SQLite all
// writes go through one connection, so that concurrent requests queue in Go
// rather than fail with "database is locked"; reads use a pool.
type DB struct {
	engine Engine
	// url is the PostgreSQL URL, for connections of their own (Listen).
	url   string
	write *sql.DB
	read  *sql.DB

	// Statements are prepared once per pool and reused: parsing SQL again on
	// every call was the largest cost of a message on SQLite.
	writeStmts sync.Map // query -> *sql.Stmt
	readStmts  sync.Map // query -> *sql.Stmt
	// built counts the queries built at run time (filters) that were
	// prepared and kept, up to maxBuilt.
	built atomic.Int64
	// group gathers SQLite transactions waiting for the one writer, to
	// commit them together (group.go).
	group group
	// checkpoints copies SQLite's log into the database file, off the
	// writer (checkpoint.go).
	checkpoints *checkpointer
}

// Options say which database to open.
type Options struct {
	// DataDir holds the SQLite file; ignored when DatabaseURL is set.
	DataDir string
	// DatabaseURL selects PostgreSQL, as a libpq URL or DSN.
	DatabaseURL string
	// Existing refuses to create a SQLite database that is not there yet,
	// for commands that only inspect one.
	Existing bool
	// SyncOnCrashOnly, for SQLite, syncs the log at checkpoints instead of
	// at every commit (synchronous=NORMAL): an acknowledged message still
	// survives the process dying, but the last ones may be lost if the
	// machine loses power. It is the operator's choice, for about twice the
	// commits a second (docs/PERFORMANCE.md, "Durability").
	SyncOnCrashOnly bool
}

// Open opens the database the options name. It does not migrate.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.DatabaseURL != "" {
		return openPostgres(ctx, o.DatabaseURL)
	}
	if o.Existing {
		if _, err := os.Stat(filepath.Join(o.DataDir, sqliteFile)); err != nil {
			return nil, fmt.Errorf("store: no database in %s: %w", o.DataDir, err)
		}
	}
	return openSQLite(ctx, o.DataDir, o.SyncOnCrashOnly)
}

// sqliteFile is the SQLite database's file in the data folder.
const sqliteFile = "thunaivi.db"

func openPostgres(ctx context.Context, url string) (*DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(32)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	return &DB{engine: Postgres, url: url, write: pool, read: pool}, nil
}

func openSQLite(ctx context.Context, dir string, crashOnly bool) (*DB, error) {
	if dir == "" {
		return nil, errors.New("store: no data folder given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data folder: %w", err)
	}
	path := filepath.Join(dir, sqliteFile)
	sync := "FULL"
	if crashOnly {
		sync = "NORMAL"
	}
	// synchronous(FULL) syncs the log on every commit: an acknowledged
	// message survives the machine losing power, not only the process
	// dying, which NORMAL already survives in WAL mode. It costs each commit
	// a sync (docs/PERFORMANCE.md, "Durability").
	dsn := "file:" + path + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")" +
		"&_pragma=foreign_keys(ON)" +
		// Reads map the file rather than copy it in with a system call each.
		"&_pragma=mmap_size(268435456)" +
		// Deleted rows are overwritten, not left readable in free space:
		// customers' data that was deleted is gone from the file.
		"&_pragma=secure_delete(ON)" +
		// Only the checkpointer copies the log into the file
		// (checkpoint.go); the log file is cut back to 64 MB when it
		// starts over, whatever a burst grew it to.
		"&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)"
	// A writer waits up to 10 s for another process's lock, such as a
	// restore's; the checkpointer sets its own wait.
	write, err := sql.Open("sqlite", dsn+busyTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn+busyTimeout(10*time.Second))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	db := &DB{engine: SQLite, write: write, read: read}
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if db.checkpoints, err = startCheckpointer(dsn); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: protect database file: %w", err)
	}
	return db, nil
}

// Engine reports which engine the handle talks to.
func (db *DB) Engine() Engine { return db.engine }

// Close closes every statement and connection.
func (db *DB) Close() error {
	for _, m := range []*sync.Map{&db.writeStmts, &db.readStmts} {
		m.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	}
	var err error
	if db.checkpoints != nil {
		err = db.checkpoints.close()
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Querier runs statements; both *DB and a transaction satisfy it, so a domain
// method can take part in a caller's transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// prepare prepares a named query on both pools, so that calls reuse the
// parsed statement. Preparing also checks the query against the schema.
func (db *DB) prepare(ctx context.Context, q string) error {
	for _, p := range []struct {
		pool  *sql.DB
		cache *sync.Map
	}{{db.write, &db.writeStmts}, {db.read, &db.readStmts}} {
		if _, ok := p.cache.Load(q); ok {
			continue
		}
		st, err := p.pool.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		if _, loaded := p.cache.LoadOrStore(q, st); loaded {
			st.Close()
		}
	}
	return nil
}

func cached(cache *sync.Map, q string) *sql.Stmt {
	if st, ok := cache.Load(q); ok {
		return st.(*sql.Stmt)
	}
	return nil
}

// ExecContext runs a statement that changes data.
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := cached(&db.writeStmts, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.write.ExecContext(ctx, q, args...)
}

// maxBuilt bounds the queries built at run time that are kept prepared: the
// shapes of list filters are few, so parsing each once is enough.
const maxBuilt = 512

// readStmt returns the read pool's prepared statement for q, preparing and
// keeping one for a query built at run time while there is room.
func (db *DB) readStmt(ctx context.Context, q string) *sql.Stmt {
	if st := cached(&db.readStmts, q); st != nil {
		return st
	}
	if db.built.Load() >= maxBuilt {
		return nil
	}
	st, err := db.read.PrepareContext(ctx, q)
	if err != nil {
		return nil // the query itself reports the error
	}
	if prev, loaded := db.readStmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	db.built.Add(1)
	return st
}

// QueryContext runs a query on the read pool.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.readStmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a query for one row on the read pool.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.readStmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, q, args...)
}

// Tx is a transaction on the write pool that reuses the pool's prepared
// statements.
type Tx struct {
	db *DB
	tx *sql.Tx
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := cached(&t.db.writeStmts, q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// QueryContext runs a query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := cached(&t.db.writeStmts, q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a query for one row in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := cached(&t.db.writeStmts, q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise, so that a failure leaves no half-written data. On SQLite,
// transactions that wait for the writer meanwhile are committed together,
// each in a savepoint of its own (group.go): one sync for many commits.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.engine == SQLite {
		return db.inGroup(ctx, fn)
	}
	return db.inTx(ctx, fn)
}

// inTx runs fn in a transaction of its own.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{db: db, tx: sqlTx}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// busyTimeout is the DSN setting for how long a connection waits for a lock.
func busyTimeout(d time.Duration) string {
	return "&_pragma=busy_timeout(" + strconv.FormatInt(d.Milliseconds(), 10) + ")"
}
