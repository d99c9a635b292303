package xmpp

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrStreamClosed is returned by Next when the server closed the stream with
// </stream:stream>.
var ErrStreamClosed = errors.New("server closed the stream")

// ErrConnectionClosed is returned by Next when the connection ended without
// the stream being closed: the server went away, or something between.
var ErrConnectionClosed = errors.New("the connection was closed")

// StreamError is a stream-level error sent by the server (RFC 6120 §4.9). It
// ends the session.
type StreamError struct {
	Condition string // e.g. "conflict", "system-shutdown", "see-other-host"
	Text      string
	Data      string // the condition's text, such as see-other-host's address
}

func (e *StreamError) Error() string {
	s := "stream error: " + e.Condition
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return s
}

// SASLError is an authentication failure (RFC 6120 §6.5). It is final: the
// same credentials will fail again, so callers must not retry in a loop.
type SASLError struct {
	Condition string // e.g. "not-authorized"
	Text      string
}

func (e *SASLError) Error() string {
	s := "authentication failed: " + e.Condition
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return s
}

// TLSError wraps a failure to establish or verify TLS. Cert is the server's
// leaf certificate when one was presented.
type TLSError struct {
	Err  error
	Cert *x509.Certificate
}

// Untrusted reports a certificate that failed only because no trusted
// authority signed it: the case where the user may choose to pin it.
func (e *TLSError) Untrusted() bool {
	var ua x509.UnknownAuthorityError
	var ch *CertChangedError
	return e.Cert != nil && errors.As(e.Err, &ua) && !errors.As(e.Err, &ch)
}

// CertChangedError: the server presented another certificate than the one
// pinned for the account.
type CertChangedError struct {
	Pinned, Got *x509.Certificate
}

func (e *CertChangedError) Error() string {
	got := "none"
	if e.Got != nil {
		got = Fingerprint(e.Got)
	}
	return fmt.Sprintf("the server's certificate CHANGED since you trusted it (pinned SHA-256 %s, now %s); refusing to connect", Fingerprint(e.Pinned), got)
}

// Fingerprint is a certificate's SHA-256 as colon-separated hex pairs.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

func (e *TLSError) Error() string {
	s := "TLS: " + e.Err.Error()
	var ch *CertChangedError
	if e.Cert != nil && !errors.As(e.Err, &ch) {
		s += fmt.Sprintf(" [server presented %q issued by %q, SHA-256 %s]",
			e.Cert.Subject.String(), e.Cert.Issuer.String(), Fingerprint(e.Cert))
	}
	return s
}

func (e *TLSError) Unwrap() error { return e.Err }

// StanzaError is the <error/> of a stanza of type "error" (RFC 6120 §8.3).
type StanzaError struct {
	Type      string // cancel, continue, modify, auth, wait
	Condition string // e.g. "service-unavailable"
	Text      string
	By        string
}

func (e *StanzaError) Error() string {
	s := e.Condition
	if s == "" {
		s = "undefined-condition"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// ParseStanzaError reads the <error/> child of an error stanza. It never
// returns nil for a stanza of type error, even a malformed one.
func ParseStanzaError(st *Element) *StanzaError {
	e := &StanzaError{}
	errEl := st.Child(st.Name.Space, "error")
	if errEl == nil {
		errEl = st.Child(NSClient, "error")
	}
	if errEl == nil {
		return e
	}
	e.Type = errEl.Get("type")
	e.By = errEl.Get("by")
	for _, c := range errEl.ChildrenIn(NSStanzas) {
		if c.Name.Local == "text" {
			e.Text = c.Text
		} else if e.Condition == "" {
			e.Condition = c.Name.Local
		}
	}
	return e
}

// DroppedError reports a stanza the reader skipped because it broke the
// limits. It is not fatal: the session goes on.
type DroppedError struct {
	Name   string // the stanza's element name
	Space  string // and namespace
	Reason string
}

func (e *DroppedError) Error() string {
	return fmt.Sprintf("dropped a <%s/> stanza: %s", e.Name, e.Reason)
}
