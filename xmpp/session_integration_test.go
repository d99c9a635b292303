package xmpp_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

func config(t *testing.T, srv *xmpptest.Server, user, pass string) xmpp.Config {
	return xmpp.Config{
		JID:      jid.MustParse(user + "@" + xmpptest.Domain),
		Password: pass,
		Resource: "test",
		Server:   srv.Addr(),
		RootCAs:  srv.CertPool(t),
	}
}

func dial(t *testing.T, cfg xmpp.Config) *xmpp.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	s, err := xmpp.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", cfg.JID, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConnectVerifiedSelfSigned(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	start := time.Now()
	s := dial(t, config(t, srv, "alice", "pw"))
	t.Logf("STARTTLS + SASL %s + bind in %v", s.Mechanism(), time.Since(start))
	if got := s.JID(); got.Bare().String() != "alice@localhost" || got.Resourcepart() != "test" {
		t.Fatalf("bound %s", got)
	}
	if !strings.HasPrefix(s.Mechanism(), "SCRAM-") {
		t.Errorf("authenticated with %s, want a SCRAM mechanism", s.Mechanism())
	}
	// The session works: a roster get is answered by our own account.
	go func() {
		for {
			if _, err := s.Next(nil); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	res, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E("jabber:iq:roster", "query")))
	if err != nil || res.Child("jabber:iq:roster", "query") == nil {
		t.Fatalf("roster get: %v %v", res, err)
	}
}

func TestWrongCAFailsWithTLSError(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	cfg := config(t, srv, "alice", "pw")
	cfg.RootCAs = x509.NewCertPool() // trusts nothing
	_, err := xmpp.Dial(context.Background(), cfg)
	var te *xmpp.TLSError
	if !errors.As(err, &te) {
		t.Fatalf("want a TLS error, got %v", err)
	}
	if te.Cert == nil || !strings.Contains(err.Error(), "TLS") || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("TLS error should name the presented certificate: %v", err)
	}
}

func TestDirectTLSAgainstStartTLSPortFails(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	cfg := config(t, srv, "alice", "pw")
	cfg.DirectTLS = true
	cfg.NegotiateTimeout = 3 * time.Second
	if _, err := xmpp.Dial(context.Background(), cfg); err == nil {
		t.Fatal("direct TLS to a plain-text port succeeded")
	}
}

func TestWrongPasswordGivesSASLCondition(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	_, err := xmpp.Dial(context.Background(), config(t, srv, "alice", "wrong"))
	var se *xmpp.SASLError
	if !errors.As(err, &se) || se.Condition != "not-authorized" {
		t.Fatalf("want SASL not-authorized, got %v", err)
	}
}

func TestSilentServerCannotHangNegotiation(t *testing.T) {
	l := listenSilent(t)
	cfg := xmpp.Config{JID: jid.MustParse("a@localhost"), Password: "x", Server: l, NegotiateTimeout: 500 * time.Millisecond}
	start := time.Now()
	_, err := xmpp.Dial(context.Background(), cfg)
	if err == nil {
		t.Fatal("negotiation with a silent server succeeded")
	}
	if d := time.Since(start); d > xmpptest.Timeout(5*time.Second) {
		t.Fatalf("negotiation took %v despite a 500ms deadline", d)
	}
}

func TestIQResultMatchedByIDAndSender(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "mallory", "eve"} {
		srv.Register(t, u, "pw")
	}
	alice := dial(t, config(t, srv, "alice", "pw"))
	mallory := dial(t, config(t, srv, "mallory", "pw"))
	eve := dial(t, config(t, srv, "eve", "pw"))
	drops := make(chan error, 10)
	go func() {
		for {
			if _, err := alice.Next(func(err error) { drops <- err }); err != nil {
				return
			}
		}
	}()
	go func() {
		for {
			if _, err := eve.Next(nil); err != nil {
				return
			}
		}
	}()
	type answer struct {
		el  *xmpp.Element
		err error
	}
	got := make(chan answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
		defer cancel()
		el, err := alice.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get", "id", "fixed-1", "to", "mallory@localhost/test").Add(xmpp.E("urn:example:q", "q")))
		got <- answer{el, err}
	}()
	// Mallory receives the request...
	req, err := mallory.Next(nil)
	if err != nil || req.Get("id") != "fixed-1" {
		t.Fatalf("mallory got %v, %v", req, err)
	}
	// ...eve guesses the id and answers first: that is not an answer.
	eve.Send(xmpp.E(xmpp.NSClient, "iq", "type", "result", "id", "fixed-1", "to", "alice@localhost/test").Add(xmpp.E("urn:example:q", "q", "forged", "yes")))
	select {
	case err := <-drops:
		if !strings.Contains(err.Error(), "nobody asked for") {
			t.Fatalf("drop reason: %v", err)
		}
	case a := <-got:
		t.Fatalf("a forged result was taken as the answer: %v %v", a.el, a.err)
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("the forged result never arrived")
	}
	mallory.Send(xmpp.ResultReply(req))
	select {
	case a := <-got:
		if a.err != nil || a.el.Get("from") != "mallory@localhost/test" {
			t.Fatalf("answer %v %v", a.el, a.err)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("the real answer never arrived")
	}
}

func TestPingAnsweredAndUnknownIQPassedUp(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	alice := dial(t, config(t, srv, "alice", "pw"))
	bob := dial(t, config(t, srv, "bob", "pw"))
	go func() {
		for {
			if _, err := bob.Next(nil); err != nil {
				return
			}
		}
	}()
	passed := make(chan *xmpp.Element, 1)
	go func() {
		for {
			el, err := alice.Next(nil)
			if err != nil {
				return
			}
			passed <- el
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	if _, err := bob.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", "alice@localhost/test").Add(xmpp.E(xmpp.NSPing, "ping"))); err != nil {
		t.Fatalf("ping: %v", err)
	}
	select {
	case el := <-passed:
		t.Fatalf("a ping was passed up: %v", el)
	default:
	}
	go bob.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", "alice@localhost/test").Add(xmpp.E("urn:x", "q")))
	select {
	case el := <-passed:
		if !el.Is(xmpp.NSClient, "iq") || el.Child("urn:x", "q") == nil {
			t.Fatalf("passed up %v", el)
		}
	case <-ctx.Done():
		t.Fatal("unknown IQ not passed up")
	}
}

func TestDirectTLS(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	cfg := config(t, srv, "alice", "pw")
	cfg.Server, cfg.DirectTLS = srv.TLSAddr(), true
	s := dial(t, cfg)
	if s.JID().Bare().String() != "alice@localhost" {
		t.Fatalf("bound %s", s.JID())
	}
}

// A server that stops reading (SIGSTOP) must not make Close hang behind a
// sender stuck on the full socket.
func TestCloseDoesNotWaitForAStuckWriter(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	cfg := config(t, srv, "alice", "pw")
	limit := xmpptest.Timeout(xmpptest.RoundTrip)
	cfg.WriteTimeout = 4 * limit // far longer than Close may take
	s := dial(t, cfg)
	srv.Pause()
	defer srv.Resume()
	stuck := make(chan struct{})
	go func() {
		defer close(stuck)
		big := xmpp.E(xmpp.NSClient, "message", "to", "bob@localhost").Add(xmpp.E(xmpp.NSClient, "body").WithText(strings.Repeat("x", 64<<10)))
		for i := 0; i < 1000; i++ {
			if s.Send(big) != nil {
				return
			}
		}
	}()
	// Once the socket buffers are full, the sender waits to write.
	deadline := time.Now().Add(limit)
	for !blockedWriting("TestCloseDoesNotWaitForAStuckWriter") {
		if time.Now().After(deadline) {
			t.Fatal("the sender never got stuck on the full socket")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > limit {
		t.Fatalf("Close took %v", d)
	}
	select {
	case <-stuck:
	case <-time.After(limit):
		t.Fatal("the stuck sender was never released")
	}
}

// blockedWriting reports whether a goroutine started by the test named is
// waiting for a socket to take what it writes.
func blockedWriting(test string) bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "waitWrite") && strings.Contains(g, "."+test+".func") {
			return true
		}
	}
	return false
}

// A request's callback may close the session when it learns the session is
// closing; that must not deadlock.
func TestCloseFromARequestCallback(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	s := dial(t, config(t, srv, "alice", "pw"))
	srv.Pause() // nobody answers
	defer srv.Resume()
	called := make(chan error, 1)
	err := s.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E("jabber:iq:roster", "query")), time.Minute, func(_ *xmpp.Element, err error) {
		s.Close()
		called <- err
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case err := <-called:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("callback got %v", err)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("callback never ran")
	}
	select {
	case <-closed:
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("Close deadlocked")
	}
}

// The XML log shows the stream but never the authentication.
func TestXMLLogRedactsAuthentication(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "s3cret-pass")
	var log strings.Builder
	cfg := config(t, srv, "alice", "s3cret-pass")
	cfg.Tap = xmpp.NewTap(&log, "work")
	s := dial(t, cfg)
	s.Close()
	out := log.String()
	for _, want := range []string{"work SEND <?xml version='1.0'?><stream:stream", "work RECV", "authenticating with SCRAM-", "bytes redacted]", "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\">"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, secret := range []string{"s3cret-pass", "czNjcmV0LXBhc3M=", "<auth", "<challenge", "<response", "<success"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
}
