package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestGroupedTransactionsStayApart runs many transactions at once, so that
// SQLite commits them in groups: each failing one leaves none of its writes,
// the others all land, and a panic reaches its own caller only.
func TestGroupedTransactionsStayApart(t *testing.T) {
	db := storetest.OpenSQLite(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx,
		"CREATE TABLE grouped (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	insert := db.Rebind("INSERT INTO grouped (id, n) VALUES (?, ?)")
	failed := errors.New("this one fails")
	var wg sync.WaitGroup
	errs := make([]error, 200)
	panics := make([]any, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = db.InTx(ctx, func(tx *store.Tx) error {
				for j := range 3 {
					if _, err := tx.ExecContext(ctx, insert, fmt.Sprintf("%d-%d", i, j),
						i); err != nil {
						return err
					}
				}
				switch i % 10 {
				case 3:
					return failed
				case 7:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := range 200 {
		var n int
		if err := db.QueryRowContext(ctx, db.Rebind(
			"SELECT COUNT(*) FROM grouped WHERE n = ?"), i).Scan(&n); err != nil {
			t.Fatal(err)
		}
		switch i % 10 {
		case 3:
			if !errors.Is(errs[i], failed) || n != 0 {
				t.Errorf("transaction %d: %v, %d rows; want its error and none", i, errs[i], n)
			}
		case 7:
			if panics[i] != "boom" || n != 0 {
				t.Errorf("transaction %d: panic %v, %d rows; want its panic and none", i,
					panics[i], n)
			}
		default:
			if errs[i] != nil || panics[i] != nil || n != 3 {
				t.Errorf("transaction %d: %v %v, %d rows; want 3", i, errs[i], panics[i], n)
			}
		}
	}
}
