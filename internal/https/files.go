package https

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// checkEvery is how often a handshake looks whether the certificate files
// changed, as a renewal leaves them.
const checkEvery = 10 * time.Second

// keyPair is a certificate and key read from files, read again when they
// change or on Reload.
type keyPair struct {
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp
	checked time.Time
}

// fileStamp tells a file's versions apart.
type fileStamp struct {
	mod  time.Time
	size int64
}

func same(a, b [2]fileStamp) bool {
	return a[0].mod.Equal(b[0].mod) && a[0].size == b[0].size &&
		a[1].mod.Equal(b[1].mod) && a[1].size == b[1].size
}

// load reads both files and, when they make a valid pair, serves them.
func (k *keyPair) load() error {
	stamp, err := k.stamps()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		return fmt.Errorf("https: the certificate in THUNAIVI_TLS_CERT_FILE and its key in "+
			"THUNAIVI_TLS_KEY_FILE: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cert, k.stamp, k.checked = &cert, stamp, k.now()
	return nil
}

func (k *keyPair) stamps() ([2]fileStamp, error) {
	var out [2]fileStamp
	for i, path := range []string{k.certFile, k.keyFile} {
		fi, err := os.Stat(path)
		if err != nil {
			return out, fmt.Errorf("https: %w", err)
		}
		out[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return out, nil
}

// get serves the certificate, first reading the files again when they
// changed since they were last read. A pair that does not load, such as one
// caught half-written, leaves the certificate in use until the next check.
func (k *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	due := k.now().Sub(k.checked) >= checkEvery
	if due {
		k.checked = k.now()
	}
	cert, stamp := k.cert, k.stamp
	k.mu.Unlock()
	if !due {
		return cert, nil
	}
	now, err := k.stamps()
	if err != nil || same(now, stamp) {
		return cert, nil
	}
	if err := k.load(); err != nil {
		// Not again until they change again, as a half-written pair will.
		k.mu.Lock()
		k.stamp = now
		k.mu.Unlock()
		k.log.Error("The certificate files changed but do not load; the previous "+
			"certificate is still served", "error", err)
		return cert, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cert, nil
}
