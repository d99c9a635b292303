package xmpptest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// Raw is a client logged in to a test server that writes text exactly as
// it is given: it plays a peer that sends what gab never would, or sends
// fast. It has its own few lines of protocol (STARTTLS, SASL PLAIN,
// resource binding) and nothing more.
type Raw struct {
	conn *tls.Conn
	in   *bufio.Reader
	done chan struct{}
}

// DialRaw logs user in with password pw and resource; what the server
// sends is read and dropped, and the connection closes when the test ends.
func DialRaw(t testing.TB, srv XMPPServer, user, pw, resource string) *Raw {
	t.Helper()
	r, err := LoginRaw(srv, user, pw, resource)
	if err != nil {
		t.Fatalf("raw login as %s: %v", user, err)
	}
	r.Discard()
	t.Cleanup(func() {
		r.Close()
		<-r.done
	})
	return r
}

// LoginRaw logs user in with password pw and resource. Nothing reads what
// the server sends until the caller calls Discard or ReadUntil: left
// unread, the socket's buffers fill up. The caller closes it.
func LoginRaw(srv XMPPServer, user, pw, resource string) (*Raw, error) {
	pem, err := os.ReadFile(srv.CertFile())
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", srv.CertFile())
	}
	plain, err := net.DialTimeout("tcp", srv.Addr(), Timeout(RoundTrip))
	if err != nil {
		return nil, err
	}
	plain.SetDeadline(time.Now().Add(Timeout(RoundTrip)))
	const header = `<?xml version='1.0'?><stream:stream to='` + Domain + `' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
	if err := exchange(plain, bufio.NewReader(plain), header+`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, "<proceed"); err != nil {
		plain.Close()
		return nil, fmt.Errorf("starttls: %w", err)
	}
	r := &Raw{conn: tls.Client(plain, &tls.Config{ServerName: Domain, RootCAs: roots}), done: make(chan struct{})}
	r.in = bufio.NewReader(r.conn)
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pw))
	if err := exchange(r.conn, r.in, header+`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>`+auth+`</auth>`, "<success"); err != nil {
		r.conn.Close()
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if err := exchange(r.conn, r.in, header+`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>`+resource+`</resource></bind></iq>`, "</bind></iq>"); err != nil {
		r.conn.Close()
		return nil, fmt.Errorf("bind: %w", err)
	}
	r.conn.SetDeadline(time.Time{})
	return r, nil
}

// exchange writes out, then reads until want has arrived, failing on
// anything that looks like a refusal.
func exchange(w io.Writer, in *bufio.Reader, out, want string) error {
	if _, err := io.WriteString(w, out); err != nil {
		return err
	}
	_, err := readUntil(in, want, "<failure", "<stream:error", "type='error'", `type="error"`)
	return err
}

// readUntil reads until the text ends with want, or with one of bad.
func readUntil(in *bufio.Reader, want string, bad ...string) (string, error) {
	var got strings.Builder
	for {
		c, err := in.ReadByte()
		if err != nil {
			return got.String(), fmt.Errorf("%w after %q", err, got.String())
		}
		got.WriteByte(c)
		s := got.String()
		if strings.HasSuffix(s, want) {
			return s, nil
		}
		for _, b := range bad {
			if strings.HasSuffix(s, b) {
				return s, fmt.Errorf("refused: %q", s)
			}
		}
	}
}

// Send writes xml as it is.
func (r *Raw) Send(xml string) error {
	_, err := io.WriteString(r.conn, xml)
	return err
}

// ReadUntil reads the text the server sends until it ends with want, for
// a caller that did not call Discard, and returns it. It gives up after
// Timeout(RoundTrip).
func (r *Raw) ReadUntil(want string) (string, error) {
	r.conn.SetReadDeadline(time.Now().Add(Timeout(RoundTrip)))
	defer r.conn.SetReadDeadline(time.Time{})
	return readUntil(r.in, want)
}

// Discard reads and drops whatever the server sends, until the
// connection ends; Done is closed then.
func (r *Raw) Discard() {
	go func() {
		defer close(r.done)
		io.Copy(io.Discard, r.in)
	}()
}

// Done is closed when the server has closed the connection (or Close
// has), once Discard is reading.
func (r *Raw) Done() <-chan struct{} { return r.done }

// Close ends the stream and the connection.
func (r *Raw) Close() error {
	r.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(r.conn, "</stream:stream>")
	return r.conn.Close()
}
