package store_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/thunaivi/thunaivi/internal/https"
	"github.com/thunaivi/thunaivi/internal/store"
)

// sslRequest is the code a PostgreSQL client sends to ask for TLS.
const sslRequest = 80877103

// tlsDatabase is a stand-in for a PostgreSQL server on 127.0.0.1 that
// agrees to TLS, presents cert, and counts the handshakes that succeed;
// then it hangs up, as the test needs nothing more.
func tlsDatabase(t *testing.T, cert tls.Certificate) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var handshakes atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var req [8]byte
				if _, err := io.ReadFull(c, req[:]); err != nil ||
					binary.BigEndian.Uint32(req[4:]) != sslRequest {
					return
				}
				c.Write([]byte{'S'})
				tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
				if tc.Handshake() == nil {
					handshakes.Add(1)
				}
			}()
		}
	}()
	return ln.Addr().String(), &handshakes
}

// trialCert makes a self-signed certificate for host; the certificate is
// its own authority, in the PEM file returned.
func trialCert(t *testing.T, host string) (tls.Certificate, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := https.New(https.Source{SelfSigned: true, DataDir: dir,
		Hosts: []string{host}}); err != nil {
		t.Fatal(err)
	}
	crt, key := filepath.Join(dir, "tls", "self-signed.crt"), filepath.Join(dir, "tls",
		"self-signed.key")
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	return cert, crt
}

// TestPostgresVerifyFull connects with sslmode=verify-full to a server whose
// certificate another authority signed, or is for another name: the
// connection stops at the handshake. With the right authority and name the
// handshake completes, so the refusals above were the checks' doing.
func TestPostgresVerifyFull(t *testing.T) {
	good, goodCA := trialCert(t, "127.0.0.1")
	_, otherCA := trialCert(t, "127.0.0.1")
	misnamed, misnamedCA := trialCert(t, "db.test")
	cases := []struct {
		name    string
		cert    tls.Certificate
		rootPEM string
		want    string // "" for a completed handshake
	}{
		{"another authority", good, otherCA, "certificate signed by unknown authority"},
		{"another name", misnamed, misnamedCA, "validate certificate for 127.0.0.1"},
		{"the right authority and name", good, goodCA, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, handshakes := tlsDatabase(t, tc.cert)
			url := "postgres://app@" + addr + "/thunaivi?sslmode=verify-full" +
				"&connect_timeout=5&sslrootcert=" + tc.rootPEM
			db, err := store.Open(context.Background(), store.Options{DatabaseURL: url})
			if err == nil {
				db.Close()
				t.Fatal("opened a stand-in that speaks no PostgreSQL")
			}
			if tc.want != "" && (!strings.Contains(err.Error(), tc.want) ||
				handshakes.Load() != 0) {
				t.Fatalf("error %q, %d handshakes; want %q", err, handshakes.Load(), tc.want)
			}
			if tc.want == "" && handshakes.Load() == 0 {
				t.Fatalf("no handshake completed: %v", err)
			}
		})
	}
}
