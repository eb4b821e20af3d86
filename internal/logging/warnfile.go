package logging

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// maxWarnFileSize is the size past which the warnings file is moved aside.
const maxWarnFileSize = 1 << 20

var errClosed = errors.New("logging: the warnings file is closed")

// warnFile appends to a file, opened on the first write, and moves it to
// path+".1" before a write would take it past max. Another process appending
// to the same file can take it a little past max before this one notices.
type warnFile struct {
	path   string
	max    int64
	onFail func(error)

	mu      sync.Mutex
	f       *os.File
	size    int64
	closed  bool
	failing bool
}

func (w *warnFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.write(p)
	if err != nil && !w.failing && w.onFail != nil {
		w.onFail(err)
	}
	w.failing = err != nil
	return n, err
}

func (w *warnFile) write(p []byte) (int, error) {
	if w.closed {
		return 0, errClosed
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return 0, err
		}
	}
	if w.size > 0 && w.size+int64(len(p)) > w.max {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

func (w *warnFile) open() error {
	if err := os.MkdirAll(filepath.Dir(w.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, fi.Size()
	return nil
}

func (w *warnFile) rotate() error {
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return err
	}
	if err := os.Rename(w.path, w.path+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return w.open()
}

// Close closes the file; later writes fail.
func (w *warnFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
