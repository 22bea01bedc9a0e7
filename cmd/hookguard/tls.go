package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync"
	"time"
)

// certCheckInterval is how often, at most, serve looks at the certificate
// and key files for a renewal: once a second, on a handshake.
const certCheckInterval = time.Second

// serverTLSConfig returns the TLS configuration serve and demo listen
// with: TLS 1.2 at least, HTTP/2 offered before HTTP/1.1, and the
// certificate getCert returns for each handshake.
func serverTLSConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: getCert,
	}
}

// fileStamp is what serve compares to notice that a file changed: its
// modification time and size, and which file it is (a renewal that renames
// a new file into place changes it even within the same second).
type fileStamp struct {
	mod  time.Time
	size int64
	fi   os.FileInfo
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), fi: fi}, nil
}

// same reports whether s and o describe the same unchanged file.
func (s fileStamp) same(o fileStamp) bool {
	return s.fi != nil && o.fi != nil && s.mod.Equal(o.mod) && s.size == o.size && os.SameFile(s.fi, o.fi)
}

// certReloader serves a certificate and key read from PEM files and reads
// them again when either file changes, so that a renewed certificate needs
// no restart. A pair that fails to load is logged and the last good pair
// stays in use. It is safe for concurrent use.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	certStamp fileStamp
	keyStamp  fileStamp
	checked   time.Time
}

// newCertReloader loads the pair certFile and keyFile, and fails when it
// does not load: serve does not start with a bad pair.
func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger}
	cs, ks, cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert, r.certStamp, r.keyStamp, r.checked = cert, cs, ks, time.Now()
	return r, nil
}

// load reads the pair, with the stamps the files had before reading.
func (r *certReloader) load() (certStamp, keyStamp fileStamp, cert *tls.Certificate, err error) {
	if certStamp, err = stampOf(r.certFile); err != nil {
		return certStamp, keyStamp, nil, fmt.Errorf("--tls-cert: %w", err)
	}
	if keyStamp, err = stampOf(r.keyFile); err != nil {
		return certStamp, keyStamp, nil, fmt.Errorf("--tls-key: %w", err)
	}
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return certStamp, keyStamp, nil, fmt.Errorf("--tls-cert %s and --tls-key %s: %w; give a PEM certificate (chain) and the PEM private key that matches it", r.certFile, r.keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return certStamp, keyStamp, nil, fmt.Errorf("--tls-cert %s: %w", r.certFile, err)
		}
	}
	return certStamp, keyStamp, &c, nil
}

// GetCertificate is a [tls.Config.GetCertificate]: it returns the current
// pair, first reading the files again when a second has passed since the
// last look and either file changed (its modification time, its size, or
// the file itself, replaced by a rename).
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) < certCheckInterval {
		return r.cert, nil
	}
	r.checked = time.Now()
	cs, err1 := stampOf(r.certFile)
	ks, err2 := stampOf(r.keyFile)
	if err1 != nil || err2 != nil {
		// Mid-renewal, a file may be missing for a moment: keep the pair,
		// and look again on a later handshake.
		return r.cert, nil
	}
	if cs.same(r.certStamp) && ks.same(r.keyStamp) {
		return r.cert, nil
	}
	cs, ks, cert, err := r.load()
	// Remember the stamps even on failure, so that a bad pair is reported
	// once, and read again when either file changes once more (a renewal
	// that writes the key after the certificate).
	r.certStamp, r.keyStamp = cs, ks
	if err != nil {
		r.logger.Warn("tls: certificate reload failed; still serving the previous certificate", "err", err,
			"subject", r.cert.Leaf.Subject.String(), "not_after", r.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		return r.cert, nil
	}
	r.cert = cert
	r.logger.Info("tls: certificate reloaded", "cert", r.certFile, "subject", cert.Leaf.Subject.String(),
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339), "serial", cert.Leaf.SerialNumber.Text(16))
	return cert, nil
}

// leaf returns the certificate being served.
func (r *certReloader) leaf() *x509.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert.Leaf
}

// clientTLSConfig returns the TLS configuration of send: with caFile, only
// the certificates in that PEM bundle are trusted (a private CA, without
// the system's); with insecure, nothing is verified.
func clientTLSConfig(caFile string, insecure bool) (*tls.Config, error) {
	switch {
	case caFile != "" && insecure:
		return nil, errors.New("give --cacert or --insecure, not both")
	case insecure:
		return &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}, nil //nolint:gosec // --insecure, asked for, with a warning
	case caFile == "":
		return nil, nil // the system's roots
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cacert %s holds no PEM certificate (a -----BEGIN CERTIFICATE----- block)", caFile)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// explainTLSError returns err, a failed request, as one line that says
// what to do when it is a certificate that did not verify, without the
// layers of TLS wording; the original error stays reachable through
// errors.Is and errors.As. Other errors are returned unchanged.
func explainTLSError(err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		issuer := ""
		if unknown.Cert != nil {
			issuer = " (it is issued by " + escapeControls(unknown.Cert.Issuer.String()) + ")"
		}
		return &certError{msg: "the server's certificate is not signed by a trusted CA: pass --cacert FILE with your CA" + issuer, err: err}
	case errors.As(err, &hostname):
		return &certError{msg: fmt.Sprintf("the server's certificate is not valid for the host %s: call the URL with a name or address the certificate lists, or give the server a certificate for %s", hostname.Host, hostname.Host), err: err}
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return &certError{msg: "the server's certificate has expired or is not valid yet (or this machine's clock is wrong): renew it on the server", err: err}
	case errors.As(err, &invalid):
		return &certError{msg: "the server's certificate does not verify: " + invalid.Error(), err: err}
	}
	return err
}

// certError is a certificate that did not verify, told in one line.
type certError struct {
	msg string
	err error
}

func (e *certError) Error() string { return e.msg }
func (e *certError) Unwrap() error { return e.err }

// demoCertificate returns a throwaway CA and a certificate for 127.0.0.1
// and localhost that it signed, made in memory for one run of demo.
func demoCertificate(now time.Time) (*x509.CertPool, *tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hookguard demo CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
