package chat

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gab-chat/gab/config"
	"mellium.im/xmpp/jid"
)

// The pinned certificate is written readable by the user only, even over
// a temporary file a crash left behind with another mode.
func TestPinFileIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example.net"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pin := filepath.Join(t.TempDir(), "a.pin.pem")
	if err := os.WriteFile(pin+".new", []byte("left over"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := New(&config.Account{JID: jid.MustParse("a@example.net")}, Options{PinFile: pin})
	if err := c.pin(der); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(pin)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("pin file mode %04o, want 0600", st.Mode().Perm())
	}
	if cert, err := c.pinned(); err != nil || !cert.Equal(mustParse(t, der)) {
		t.Fatalf("pinned: %v %v", cert, err)
	}
	left, _ := filepath.Glob(pin + ".new?*")
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
