package chat_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// The password of the accounts below, and how PLAIN carries it: neither
// may ever reach a server the client should not trust.
const trustSecret = "correct-horse-battery-staple"

var trustPlain = base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + trustSecret))

// certFor makes a certificate for localhost, signed by parent's key (or
// self-signed when parent is nil); ca makes it an authority.
func certFor(t *testing.T, name string, parent *tls.Certificate, ca bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: ca,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	signer, signKey := tmpl, any(key)
	if parent != nil {
		signer, signKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// trustServer is a fake XMPP server on loopback: STARTTLS with whatever
// certificate it holds at the moment, the SASL mechanisms it is told to
// offer, PLAIN accepted with any password, a resource bound. It keeps every
// byte it received (decrypted), so a test can tell what the client gave
// away, and the mechanisms clients chose.
type trustServer struct {
	addr  string
	cert  atomic.Pointer[tls.Certificate]
	mechs atomic.Pointer[[]string]

	mu       sync.Mutex
	received bytes.Buffer
	auths    []string // mechanism of each <auth/>
	shakes   int      // TLS handshakes completed
}

func newTrustServer(t *testing.T, cert tls.Certificate, mechs ...string) *trustServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &trustServer{addr: l.Addr().String()}
	s.cert.Store(&cert)
	s.mechs.Store(&mechs)
	var wg sync.WaitGroup
	var cmu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns = append(conns, c)
			cmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	return s
}

func (s *trustServer) snapshot() (received string, auths []string, shakes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received.String(), append([]string(nil), s.auths...), s.shakes
}

// conv reads what the client sends on one connection.
type conv struct {
	s   *trustServer
	c   net.Conn
	buf []byte
}

// upTo reads until the client has sent want (and, with end, the next
// end after it), and returns what came up to there.
func (v *conv) upTo(want, end string) (string, error) {
	tmp := make([]byte, 4096)
	for {
		if i := bytes.Index(v.buf, []byte(want)); i >= 0 {
			if j := bytes.Index(v.buf[i:], []byte(end)); j >= 0 {
				n := i + j + len(end)
				got := string(v.buf[:n])
				v.buf = v.buf[n:]
				return got, nil
			}
		}
		n, err := v.c.Read(tmp)
		v.s.mu.Lock()
		v.s.received.Write(tmp[:n])
		v.s.mu.Unlock()
		v.buf = append(v.buf, tmp[:n]...)
		if err != nil {
			return "", err
		}
	}
}

const trustHeader = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='localhost' id='%s'>`

var mechRE = regexp.MustCompile(`mechanism="([^"]+)"`)

func (s *trustServer) serve(c net.Conn) {
	v := &conv{s: s, c: c}
	if _, err := v.upTo("<stream:stream", ">"); err != nil {
		return
	}
	fmt.Fprintf(c, trustHeader+`<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`, "s1")
	if _, err := v.upTo("<starttls", ">"); err != nil {
		return
	}
	io.WriteString(c, `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*s.cert.Load()}})
	if err := tc.Handshake(); err != nil {
		return
	}
	s.mu.Lock()
	s.shakes++
	s.mu.Unlock()
	v = &conv{s: s, c: tc}
	if _, err := v.upTo("<stream:stream", ">"); err != nil {
		return
	}
	var offer strings.Builder
	for _, m := range *s.mechs.Load() {
		offer.WriteString("<mechanism>" + m + "</mechanism>")
	}
	fmt.Fprintf(tc, trustHeader+`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</mechanisms></stream:features>`, "s2", offer.String())
	auth, err := v.upTo("<auth", "</auth>")
	if err != nil {
		return
	}
	mech := ""
	if m := mechRE.FindStringSubmatch(auth); m != nil {
		mech = m[1]
	}
	s.mu.Lock()
	s.auths = append(s.auths, mech)
	s.mu.Unlock()
	if mech != "PLAIN" {
		io.WriteString(tc, `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure></stream:stream>`)
		return
	}
	io.WriteString(tc, `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`)
	if _, err := v.upTo("<stream:stream", ">"); err != nil {
		return
	}
	fmt.Fprintf(tc, trustHeader+`<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`, "s3")
	if _, err := v.upTo("<iq", "</iq>"); err != nil {
		return
	}
	io.WriteString(tc, `<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/gab</jid></bind></iq>`)
	for { // whatever else the client says is kept, never answered
		if _, err := v.upTo("\x00never", "\x00"); err != nil {
			return
		}
	}
}

// trustClient runs alice's client against srv, with its pin (and the
// marker beside it) in dir.
func trustClient(t *testing.T, srv *trustServer, caFile, dir string, allowPlain bool) (*chat.Client, *recorder, chat.Options) {
	t.Helper()
	acct := &config.Account{Name: "alice", JID: jid.MustParse("alice@localhost"), Password: trustSecret,
		Server: srv.addr, CAFile: caFile, Resource: "gab", AllowPlainWithPinned: allowPlain}
	opts := chat.Options{PinFile: filepath.Join(dir, "alice.pin.pem"), MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	c := chat.New(acct, opts)
	return c, runClient(t, c), opts
}

func writeCA(t *testing.T, ca tls.Certificate) string {
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func final(e chat.Disconnected) bool { return e.Final }

func noSecret(t *testing.T, received, when string) {
	t.Helper()
	if strings.Contains(received, trustSecret) || strings.Contains(received, trustPlain) {
		t.Fatalf("%s: the password reached the server", when)
	}
}

// A man in the middle resets the connection of an account whose server has
// a certificate an authority signed and shows a self-signed one: the
// client refuses it loudly as a possible interception, offers nothing to
// trust, and never sends the password. An account that never saw an
// authority-signed certificate is offered the same certificate to check.
func TestSelfSignedAfterAuthorityIsRefused(t *testing.T) {
	ca := certFor(t, "Test CA", nil, true)
	good := certFor(t, "localhost", &ca, false)
	fake := certFor(t, "localhost", nil, true)
	srv := newTrustServer(t, good, "PLAIN")
	dir := t.TempDir()
	c, r, opts := trustClient(t, srv, writeCA(t, ca), dir, false)
	_, i := r.waitFrom(t, 0, "the login with the authority-signed certificate", 10*time.Second, is[chat.Connected](nil))
	marker := strings.TrimSuffix(opts.PinFile, ".pin.pem") + ".ca-verified"
	st, err := os.Stat(marker)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("marker %s: %v %v", marker, st, err)
	}
	_, auths, _ := srv.snapshot()
	if len(auths) != 1 {
		t.Fatalf("auths before the attack: %v", auths)
	}

	// The attack: the connection is cut, the server shows its own.
	srv.cert.Store(&fake)
	sent, _, _ := srv.snapshot()
	c.Do(chat.Reconnect{})
	ev, _ := r.waitFrom(t, i+1, "the refusal", 10*time.Second, is(final))
	d := ev.(chat.Disconnected)
	if d.Untrusted != nil {
		t.Fatal("the intercepting certificate was offered to be trusted")
	}
	var ie *chat.InterceptionError
	if !errors.As(d.Err, &ie) {
		t.Fatalf("error %v: not an interception refusal", d.Err)
	}
	msg := d.Err.Error()
	for _, want := range []string{"NOT signed by an authority you trust", "intercepting", marker, "ca_file", xmpp.Fingerprint(fake.Leaf)} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal does not say %q: %s", want, msg)
		}
	}
	received, auths, _ := srv.snapshot()
	if len(auths) != 1 {
		t.Fatalf("the client authenticated again: %v", auths)
	}
	noSecret(t, received[len(sent):], "after the attack")
	if _, err := os.Stat(opts.PinFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a pin was written: %v", err)
	}

	// Without that history the same certificate is offered to check.
	_, r2, _ := trustClient(t, srv, "", t.TempDir(), false)
	ev, _ = r2.waitFrom(t, 0, "the offer", 10*time.Second, is(final))
	if u := ev.(chat.Disconnected).Untrusted; u == nil || !u.Equal(fake.Leaf) {
		t.Fatalf("a new account is not offered the certificate: %v", ev)
	}
}

// A pin accepts its certificate only: another self-signed certificate is a
// changed one, refused as such, and never offered to replace the pin.
func TestPinnedThenOtherSelfSigned(t *testing.T) {
	first := certFor(t, "localhost", nil, true)
	srv := newTrustServer(t, first, "SCRAM-SHA-1")
	c, r, _ := trustClient(t, srv, "", t.TempDir(), false)
	ev, i := r.waitFrom(t, 0, "the offer", 10*time.Second, is(final))
	c.Do(chat.TrustCertificate{DER: ev.(chat.Disconnected).Untrusted.Raw})
	// SCRAM is refused by the fake server: a final failure after TLS.
	ev, i = r.waitFrom(t, i+1, "the login with the pin", 10*time.Second, is(final))
	if _, _, shakes := srv.snapshot(); shakes != 1 {
		t.Fatalf("the pinned certificate was not accepted: %v", ev)
	}
	other := certFor(t, "localhost", nil, true)
	srv.cert.Store(&other)
	c.Do(chat.Reconnect{})
	ev, _ = r.waitFrom(t, i+1, "the refusal", 10*time.Second, is(final))
	d := ev.(chat.Disconnected)
	var ch *xmpp.CertChangedError
	if d.Untrusted != nil || !errors.As(d.Err, &ch) {
		t.Fatalf("another certificate after a pin: untrusted %v, error %v", d.Untrusted != nil, d.Err)
	}
}

// With a certificate only a pin vouches for, the password never goes out
// with PLAIN unless the account file allows it; SCRAM is preferred where
// offered. With a certificate an authority signed, PLAIN is used.
func TestPlainRefusedWithPinOnly(t *testing.T) {
	self := certFor(t, "localhost", nil, true)
	pinned := func(t *testing.T, srv *trustServer, allow bool) (*recorder, int) {
		c, r, _ := trustClient(t, srv, "", t.TempDir(), allow)
		ev, i := r.waitFrom(t, 0, "the offer", 10*time.Second, is(final))
		c.Do(chat.TrustCertificate{DER: ev.(chat.Disconnected).Untrusted.Raw})
		return r, i
	}
	t.Run("refused", func(t *testing.T) {
		srv := newTrustServer(t, self, "PLAIN")
		r, i := pinned(t, srv, false)
		ev, _ := r.waitFrom(t, i+1, "the refusal", 10*time.Second, is(final))
		err := ev.(chat.Disconnected).Err
		if !errors.Is(err, xmpp.ErrPlainWithPin) || !strings.Contains(err.Error(), "allow_plain_with_pinned") || ev.(chat.Disconnected).NeedPassword {
			t.Fatalf("error %v", err)
		}
		received, auths, shakes := srv.snapshot()
		if shakes != 1 || len(auths) != 0 {
			t.Fatalf("handshakes %d (want the pinned one), auths %v (want none)", shakes, auths)
		}
		noSecret(t, received, "PLAIN with a pin")
	})
	t.Run("scram preferred", func(t *testing.T) {
		srv := newTrustServer(t, self, "PLAIN", "SCRAM-SHA-1")
		r, i := pinned(t, srv, false)
		r.waitFrom(t, i+1, "the fake server's refusal", 10*time.Second, is(final))
		received, auths, _ := srv.snapshot()
		if len(auths) != 1 || auths[0] != "SCRAM-SHA-1" {
			t.Fatalf("mechanisms used: %v", auths)
		}
		noSecret(t, received, "SCRAM with a pin")
	})
	t.Run("allowed", func(t *testing.T) {
		srv := newTrustServer(t, self, "PLAIN")
		r, i := pinned(t, srv, true)
		r.waitFrom(t, i+1, "the login", 10*time.Second, is[chat.Connected](nil))
	})
	t.Run("authority", func(t *testing.T) {
		ca := certFor(t, "Test CA", nil, true)
		srv := newTrustServer(t, certFor(t, "localhost", &ca, false), "PLAIN")
		_, r, _ := trustClient(t, srv, writeCA(t, ca), t.TempDir(), false)
		r.waitFrom(t, 0, "the login", 10*time.Second, is[chat.Connected](nil))
	})
}
