package xmpp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"mellium.im/xmpp/jid"
)

// BenchmarkAuthorityVouches is the extra work a login with a pinned
// certificate does: verifying it once more against the system's roots
// alone, to know whether only the pin vouches for it.
func BenchmarkAuthorityVouches(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	cfg := Config{JID: jid.MustParse("a@localhost"), Pinned: cert}
	cs := tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	if cfg.authorityVouches(cs) {
		b.Fatal("a self-signed certificate verified through the system's roots")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg.authorityVouches(cs)
	}
}
