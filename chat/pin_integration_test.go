package chat_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// runClient runs a client until the test ends, without waiting for a roster.
func runClient(t *testing.T, c *chat.Client) *recorder {
	r := newRecorder(c.Events())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func TestTrustOnFirstUseThenRefuseAChange(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	pin := filepath.Join(t.TempDir(), "alice.pin.pem")
	acct := account(t, srv, "alice", "pw", "gab")
	acct.CAFile = "" // only the system's roots: the test server's certificate is unknown
	c := chat.New(acct, chat.Options{PinFile: pin})
	r := runClient(t, c)
	d := r.wait(t, "the untrusted certificate", is(func(e chat.Disconnected) bool { return e.Final })).(chat.Disconnected)
	var te *xmpp.TLSError
	if !errors.As(d.Err, &te) || !te.Untrusted() || te.Cert == nil {
		t.Fatalf("disconnect: %v", d.Err)
	}
	// The user compares the fingerprint and trusts it.
	c.Do(chat.TrustCertificate{DER: te.Cert.Raw})
	r.wait(t, "connected with the pinned certificate", is[chat.RosterReset](nil))
	if st, err := os.Stat(pin); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("pin file: %v %v", st, err)
	}

	// Another server, another certificate, same pin: refused loudly.
	other := xmpptest.Start(t, xmpptest.Options{})
	other.Register(t, "alice", "pw")
	acct2 := account(t, other, "alice", "pw", "gab")
	acct2.CAFile = other.CAFile // even a certificate trusted otherwise
	c2 := chat.New(acct2, chat.Options{PinFile: pin})
	r2 := runClient(t, c2)
	d2 := r2.wait(t, "the refusal", is(func(e chat.Disconnected) bool { return e.Final })).(chat.Disconnected)
	var changed *xmpp.CertChangedError
	if !errors.As(d2.Err, &changed) || !strings.Contains(d2.Err.Error(), "CHANGED") {
		t.Fatalf("a changed certificate was not refused loudly: %v", d2.Err)
	}
	// And it stays offline: a command given now cannot be carried out.
	id := c2.Do(chat.Block{JID: "mallory@localhost"})
	ev := r2.wait(t, "the outcome of a command given after the refusal", is(func(e chat.CommandFailed) bool { return e.ID == id }))
	if f := ev.(chat.CommandFailed); !errors.Is(f.Err, chat.ErrNotConnected) {
		t.Fatalf("a command after the refusal: %v", f.Err)
	}
	for _, e := range r2.snapshot() {
		if _, ok := e.(chat.Connected); ok {
			t.Fatal("connected despite the changed certificate")
		}
	}
}
