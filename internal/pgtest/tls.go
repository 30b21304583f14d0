package pgtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The certificate and key of a TLS server, in the data directory.
const (
	certFile = "server.crt"
	keyFile  = "server.key"
)

// writeCertificate makes a self-signed certificate for 127.0.0.1, ::1 and
// localhost, valid from an hour ago for a year, and writes it and its key
// into the data directory for acct. The certificate is its own CA, so a
// client that trusts certFile can use sslmode=verify-full.
func writeCertificate(l layout, acct account) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("pgtest: generate the TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("pgtest: generate the certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "pgtest", Organization: []string{"pgtest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("pgtest: make the certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("pgtest: encode the TLS key: %w", err)
	}
	if err := writePEM(filepath.Join(l.data, certFile), "CERTIFICATE", der, 0o644, acct); err != nil {
		return err
	}
	// PostgreSQL refuses a key that others may read.
	return writePEM(filepath.Join(l.data, keyFile), "PRIVATE KEY", keyDER, 0o600, acct)
}

// writePEM writes one PEM block to path, for acct.
func writePEM(path, blockType string, der []byte, perm os.FileMode, acct account) error {
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("pgtest: write %s: %w", path, err)
	}
	return acct.chown(path)
}
