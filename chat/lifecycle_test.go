package chat

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gab-chat/gab/xmpp"
)

func TestIsFinal(t *testing.T) {
	cases := []struct {
		err   error
		final bool
	}{
		{&xmpp.SASLError{Condition: "not-authorized"}, true},
		{fmt.Errorf("dial: %w", &xmpp.TLSError{Err: errors.New("x509: unknown authority")}), true},
		{&xmpp.StreamError{Condition: "conflict"}, true},
		{&xmpp.StreamError{Condition: "system-shutdown"}, false},
		{&xmpp.StreamError{Condition: "see-other-host"}, false},
		{&xmpp.StreamError{Condition: "connection-timeout"}, false},
		{xmpp.ErrStreamClosed, false},
		{errors.New("connection refused"), false},
		{fmt.Errorf("%w: boom", errPassword), true},
	}
	for _, tc := range cases {
		if got := isFinal(tc.err); got != tc.final {
			t.Errorf("isFinal(%v) = %v", tc.err, got)
		}
	}
}

func TestRedirectAddr(t *testing.T) {
	for in, want := range map[string]string{
		"example.net":           "example.net:5222",
		"example.net:5299":      "example.net:5299",
		"[2001:db8::1]:5222":    "[2001:db8::1]:5222",
		"2001:db8::1":           "[2001:db8::1]:5222",
		" other.example.net \n": "other.example.net:5222",
	} {
		if got, ok := redirectAddr(in); !ok || got != want {
			t.Errorf("redirectAddr(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := redirectAddr(""); ok {
		t.Error("empty redirect accepted")
	}
}
