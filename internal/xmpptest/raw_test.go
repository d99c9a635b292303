package xmpptest

import (
	"strings"
	"testing"
	"time"
)

func TestRawClient(t *testing.T) {
	srv := Start(t, Options{NoMAM: true})
	srv.Register(t, "raw", "pw")
	if r, err := LoginRaw(srv, "raw", "wrong", "x"); err == nil || !strings.Contains(err.Error(), "authenticate: refused") {
		if r != nil {
			r.Close()
		}
		t.Fatalf("a wrong password: %v, want an authentication error", err)
	}
	r, err := LoginRaw(srv, "raw", "pw", "x")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadUntil(`id='p1'`)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := r.ReadUntil(">")
	if answer := got[strings.LastIndex(got, "<iq"):] + rest; err != nil || !strings.Contains(answer, "type='result'") {
		t.Fatalf("the answer to a ping: %q (%v)", answer, err)
	}
	// The server ends a stream that is not XML; Done says so.
	r.Discard()
	r.Send(`<<<`)
	select {
	case <-r.Done():
	case <-time.After(Timeout(RoundTrip)):
		t.Fatal("the server kept a stream that sent broken XML")
	}
}
