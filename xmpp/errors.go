package xmpp

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrStreamClosed is returned by Next when the server closed the stream with
// </stream:stream>.
var ErrStreamClosed = errors.New("server closed the stream")

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

func (e *TLSError) Error() string {
	s := "TLS: " + e.Err.Error()
	if e.Cert != nil {
		sum := sha256.Sum256(e.Cert.Raw)
		s += fmt.Sprintf(" [server presented %q issued by %q, SHA-256 %s]",
			e.Cert.Subject.String(), e.Cert.Issuer.String(), hex.EncodeToString(sum[:]))
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
