package mail

import (
	"context"
	"crypto/rand"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"time"
)

// Outbox is the Sender for a trial without a mail server: it writes each
// message as an .eml file, readable by the product's user only, that a mail
// program opens.
//
// TODO: files are never removed, and they hold live verification links;
// prune them by age if outboxes outlive trials.
type Outbox struct {
	dir  string
	from *netmail.Address
	now  func() time.Time
}

// Dir returns the folder the outbox writes to.
func (o *Outbox) Dir() string { return o.dir }

// Send writes m into the outbox folder, named by the time and a random
// suffix.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	now := o.now()
	msg, err := compose(m, o.from, now)
	if err != nil {
		return err
	}
	name := now.UTC().Format("20060102-150405") + "-" + rand.Text() + ".eml"
	path := filepath.Join(o.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	_, err = f.Write(msg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("mail: outbox: %w", err)
	}
	return nil
}
