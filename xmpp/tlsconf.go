package xmpp

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
)

// tlsConfig verifies the server as domain (RFC 6125: the certificate must
// name the XMPP domain, not the SRV target) against the system roots plus
// any extra roots configured. Verification is never turned off.
//
// A pinned certificate (trust on first use) is trusted as a root of its own
// — verification still runs, names and dates included — and once pinned it
// is the only certificate accepted: any other is refused, even one a public
// authority signed.
func (cfg *Config) tlsConfig(domain string, direct bool) (*tls.Config, error) {
	c := &tls.Config{
		ServerName: domain,
		RootCAs:    cfg.RootCAs,
		MinVersion: tls.VersionTLS12,
		MaxVersion: cfg.TLSMaxVersion,
	}
	if c.RootCAs == nil && len(cfg.ExtraRoots) > 0 {
		pool, err := RootPool(cfg.ExtraRoots)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if pin := cfg.Pinned; pin != nil {
		pool := x509.NewCertPool()
		if c.RootCAs != nil {
			pool = c.RootCAs.Clone()
		}
		pool.AddCert(pin)
		c.RootCAs = pool
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, pin.Raw) {
				var got *x509.Certificate
				if len(cs.PeerCertificates) > 0 {
					got = cs.PeerCertificates[0]
				}
				return &CertChangedError{Pinned: pin, Got: got}
			}
			return nil
		}
	}
	if direct {
		c.NextProtos = []string{"xmpp-client"} // XEP-0368 ALPN
	}
	return c, nil
}

// authorityVouches reports whether the certificate the server presented
// verifies through the roots alone — the system's, RootCAs, ExtraRoots —
// without the pin: whether an authority vouches for it.
func (cfg *Config) authorityVouches(cs tls.ConnectionState) bool {
	if len(cs.PeerCertificates) == 0 {
		return false
	}
	roots := cfg.RootCAs
	if roots == nil {
		var err error
		if roots, err = RootPool(cfg.ExtraRoots); err != nil {
			return false
		}
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, DNSName: cfg.JID.Domainpart(),
	})
	return err == nil
}

// WarmUp loads the system's root certificates in the background. Loading
// them takes tens of milliseconds (Debian keeps a bundle and a directory of
// the same certificates); started at launch, it overlaps with everything
// else gab does before its first connection needs them.
func WarmUp() {
	go x509.SystemCertPool()
}

// RootPool returns the system roots with the PEM certificates in extra
// added; extra may be nil.
func RootPool(extra []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if len(extra) > 0 && !pool.AppendCertsFromPEM(extra) {
		return nil, errNoPEM
	}
	return pool, nil
}
