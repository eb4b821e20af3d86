package store

import (
	"context"
	"database/sql"
)

// Collect runs a query and turns each row into a T with scan.
func Collect[T any](ctx context.Context, q Querier, query string, scan func(*sql.Rows) (T, error),
	args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Strings runs a query of one text column and returns its values.
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	return Collect(ctx, q, query, func(rows *sql.Rows) (string, error) {
		var s string
		err := rows.Scan(&s)
		return s, err
	}, args...)
}
