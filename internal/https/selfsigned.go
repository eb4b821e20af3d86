package https

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The self-signed certificate lives in the data folder's tls folder, open
// to the product's user only, and is made again when it nears its end or
// does not cover a host it is now asked for.
const (
	tlsFolder      = "tls"
	selfSignedCert = "self-signed.crt"
	selfSignedKey  = "self-signed.key"
	selfSignedLife = 90 * 24 * time.Hour
	renewBefore    = 7 * 24 * time.Hour
)

// selfSigned loads the trial certificate from dataDir, or makes and keeps a
// new ECDSA P-256 one for hosts.
func selfSigned(dataDir string, hosts []string, now time.Time) (tls.Certificate, error) {
	dir := filepath.Join(dataDir, tlsFolder)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("https: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("https: %w", err)
	}
	certPath, keyPath := filepath.Join(dir, selfSignedCert), filepath.Join(dir, selfSignedKey)
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil &&
		covers(cert.Leaf, hosts, now) {
		if err := os.Chmod(keyPath, 0o600); err != nil {
			return tls.Certificate{}, fmt.Errorf("https: %w", err)
		}
		return cert, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("https: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("https: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Thunaivi trial"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedLife),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("https: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("https: %w", err)
	}
	if err := writePEM(keyPath, "PRIVATE KEY", keyDER); err != nil {
		return tls.Certificate{}, err
	}
	if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

// covers reports whether a certificate is valid for a while yet, for every
// host.
func covers(leaf *x509.Certificate, hosts []string, now time.Time) bool {
	if leaf == nil || now.Add(renewBefore).After(leaf.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// writePEM replaces a file with one PEM block, readable by the product's
// user only, through a temporary file so that no reader sees half of it.
func writePEM(path, kind string, der []byte) error {
	tmp := path + ".new"
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("https: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // a leftover file kept its mode
		return fmt.Errorf("https: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("https: %w", err)
	}
	return nil
}

// Fingerprint is the SHA-256 of a certificate, in upper-case hex pairs
// joined by colons, as browsers show it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	pairs := make([]string, len(sum))
	for i, b := range sum {
		pairs[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(pairs, ":")
}
