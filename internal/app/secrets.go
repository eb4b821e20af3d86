package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/secrets"
)

// sealedColumn is a column that holds sealed values, and the column that
// names its rows.
type sealedColumn struct{ table, key, column string }

// sealedColumns are every column holding a value sealed with the master
// keyring. A new one must be listed here, or a rotation would strand it.
var sealedColumns = []sealedColumn{
	{"user_totp", "user_id", "secret_enc"},
	{"webhook_endpoints", "id", "secret_sealed"},
	{"webhook_endpoints", "id", "old_secret_sealed"},
	{"llm_settings", "workspace_id", "key_sealed"},
	{"meta_apps", "workspace_id", "app_secret_sealed"},
}

// RotateMaster puts a new master key in the keyring, seals every sealed
// value again under it, and retires the old keys once no value needs them.
// Servers keep running: they read the keyring file again when it changes.
func RotateMaster(ctx context.Context, cfg *config.Config, out io.Writer) error {
	a, err := Open(ctx, cfg, NewLogger(cfg))
	if err != nil {
		return err
	}
	defer a.Close()
	id, err := a.Secrets.Rotate()
	if err != nil {
		return err
	}
	total := 0
	// A server may seal a value with an old key until it notices the new
	// file: a few passes catch those.
	for pass := 0; pass < 5; pass++ {
		n, err := a.reseal(ctx, id)
		if err != nil {
			return err
		}
		total += n
		if n == 0 {
			retired, err := a.Secrets.Retire()
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Sealed %d secrets again under master key %s. Retired keys: %s.\n"+
				"Back up %s now: the retired keys are gone from it.\n", total, id,
				strings.Join(retired, ", "), MasterKeyFile(cfg))
			return nil
		}
	}
	return errors.New("secrets are still being sealed with an old key: run the rotation " +
		"again; the old keys stay until none needs them")
}

// reseal seals again every value not sealed with key id, and returns how
// many it changed.
func (a *App) reseal(ctx context.Context, id string) (int, error) {
	n := 0
	for _, c := range sealedColumns {
		rows, err := a.DB.QueryContext(ctx, a.DB.Rebind(fmt.Sprintf(
			"SELECT %s, %s FROM %s WHERE %s <> '' AND %s NOT LIKE ?",
			c.key, c.column, c.table, c.column, c.column)), "s1:"+id+":%")
		if err != nil {
			return n, fmt.Errorf("read %s: %w", c.table, err)
		}
		type row struct{ key, sealed string }
		var todo []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.sealed); err != nil {
				rows.Close()
				return n, err
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		for _, r := range todo {
			plain, err := a.Secrets.Open(r.sealed)
			if err != nil {
				return n, fmt.Errorf("%s of %s: %w", c.table, r.key, err)
			}
			again, err := a.Secrets.Seal(plain)
			if err != nil {
				return n, err
			}
			if secrets.SealedWith(again) != id {
				return n, errors.New("the keyring changed during the rotation: run it again")
			}
			// Only the value read: one changed since is sealed anew by its
			// writer, and the next pass looks at it again.
			if _, err := a.DB.ExecContext(ctx, a.DB.Rebind(fmt.Sprintf(
				"UPDATE %s SET %s = ? WHERE %s = ? AND %s = ?", c.table, c.column, c.key,
				c.column)), again, r.key, r.sealed); err != nil {
				return n, fmt.Errorf("write %s: %w", c.table, err)
			}
			n++
		}
	}
	return n, nil
}
