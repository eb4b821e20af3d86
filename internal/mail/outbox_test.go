package mail

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOutbox(t *testing.T) {
	dataDir := t.TempDir()
	s, err := New("", testFrom, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := s.(*Outbox)
	if !ok {
		t.Fatalf("New returned a %T, want an *Outbox", s)
	}
	if want := filepath.Join(dataDir, "outbox"); o.Dir() != want {
		t.Errorf("Dir() = %s, want %s", o.Dir(), want)
	}
	o.now = func() time.Time { return testNow }
	if err := o.Send(context.Background(), testMessage); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("the outbox folder has mode %v, want 0700", perm)
	}
	files, err := os.ReadDir(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Fatalf("the outbox holds %d files, want 1", len(files))
	}
	name := files[0].Name()
	if !strings.HasPrefix(name, "20260314-035653-") || !strings.HasSuffix(name, ".eml") {
		t.Errorf("file name %s", name)
	}
	fi, err := files[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("the message file has mode %v, want 0600", perm)
	}
	data, err := os.ReadFile(filepath.Join(o.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	checkReceived(t, data, testMessage)
}

func TestOutboxRefuses(t *testing.T) {
	s, err := New("", testFrom, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := s.(*Outbox)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.Send(ctx, testMessage); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context: %v", err)
	}
	bad := testMessage
	bad.To += "\r\nBcc: eve@evil.test"
	if err := o.Send(context.Background(), bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("Send with a header in the recipient: %v", err)
	}
	if files, _ := os.ReadDir(o.Dir()); len(files) != 0 {
		t.Errorf("the outbox holds %d files, want none", len(files))
	}
}

func TestOutboxTightensFolder(t *testing.T) {
	dataDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dataDir, "outbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := New("", testFrom, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.(*Outbox).Dir())
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("the outbox folder has mode %v, want 0700", perm)
	}
}
