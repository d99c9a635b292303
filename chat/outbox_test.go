package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

func TestOutboxStatesOnlyMoveForward(t *testing.T) {
	o := newOutbox(nil)
	o.add(&outgoing{id: "m", to: "b@x"}, "a@x")
	steps := []struct {
		state string
		ok    bool
	}{
		{DeliveryUnacked, true},
		{DeliveryPending, false},
		{DeliveryReceived, true}, // the peer's receipt before the server's ack
		{DeliverySent, false},    // the late ack changes nothing
		{DeliveryUnacked, false},
		{DeliveryFailed, true},
		{DeliveryReceived, false}, // failed is final
	}
	for i, s := range steps {
		if _, ok := o.set("m", s.state); ok != s.ok {
			t.Fatalf("step %d: set(%s) = %v, want %v", i, s.state, ok, s.ok)
		}
	}
	if _, ok := o.set("unknown", DeliverySent); ok {
		t.Fatal("an unknown id was accepted")
	}
	if len(o.unsent(false)) != 0 {
		t.Fatal("a settled message is still unsent")
	}
}

// A message retracted while it waits in the outbox (not yet sent, or
// not yet confirmed) is not sent again: its retraction went out after it.
func TestRetractedMessageLeavesTheOutbox(t *testing.T) {
	o := newOutbox(nil)
	o.add(&outgoing{id: "m1", to: "b@x"}, "a@x")
	o.add(&outgoing{id: "m2", to: "b@x"}, "a@x")
	o.set("m1", DeliveryUnacked)
	o.drop("m1")
	if un := o.unsent(false); len(un) != 1 || un[0].id != "m2" {
		t.Fatalf("unsent after a retraction: %+v", un)
	}
	if _, ok := o.set("m1", DeliverySent); ok {
		t.Fatal("a retracted message still has a delivery state to change")
	}
}

// flakyStore is an outbox store whose first read fails.
type flakyStore struct {
	mu    sync.Mutex
	reads int
	msgs  []history.Message
}

func (f *flakyStore) Unsent(context.Context) ([]history.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.reads == 1 {
		return nil, errors.New("database is locked")
	}
	return f.msgs, nil
}
func (f *flakyStore) Commit(history.Batch) error                     { return nil }
func (f *flakyStore) SetState(context.Context, string, string) error { return nil }

// A failing read of the outbox at start is reported, and the messages it
// holds are not lost: the next connection reads them again.
func TestOutboxReadFailureIsReportedAndRetried(t *testing.T) {
	store := &flakyStore{msgs: []history.Message{{ID: 7, Peer: "b@x", Direction: history.Out, Body: "left from before", OriginID: "o1", State: history.StatePending}}}
	acct := &config.Account{JID: jid.MustParse("a@example.net"), Password: "pw", Status: "online"}
	c := New(acct, Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		Dial: func(context.Context, xmpp.Config) (*xmpp.Session, error) { return nil, errors.New("no network") }})
	c.out = newOutbox(store)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	notices, attempts := 0, 0
	deadline := time.After(xmpptest.Timeout(xmpptest.Local))
	for attempts < 2 {
		select {
		case ev := <-c.Events():
			switch e := ev.(type) {
			case Notice:
				if strings.Contains(e.Text, "database is locked") && strings.Contains(e.Text, "kept") {
					notices++
				}
			case Disconnected, Retrying: // the first failed attempt, then the next ones
				attempts++
			}
		case <-deadline:
			t.Fatalf("only %d connection attempts", attempts)
		}
	}
	if notices != 1 {
		t.Fatalf("the failed read was reported %d times, want once", notices)
	}
	got := c.out.unsent(false)
	if len(got) != 1 || got[0].id != "o1" || got[0].body != "left from before" {
		t.Fatalf("outbox after the retry: %+v", got)
	}
}

// What a dying session had on the wire, unconfirmed, is given up when the
// server said it was too big, or when sessions keep dying with it: twice
// for a message over RFC 6120's 10,000 bytes, three times for any. A
// reconnection the user asked for does not count.
func TestMessagesThatKeepKillingTheSessionAreGivenUp(t *testing.T) {
	reset := fmt.Errorf("write failed: %w", syscall.ECONNRESET)
	rounds := func(o *outbox, errs ...error) (gaveUp []undeliverable, after int) {
		for i, err := range errs {
			o.newSession(true)
			for _, m := range o.unsent(false) {
				o.claim(m)
			}
			if gaveUp = o.lost(err); len(gaveUp) > 0 {
				return gaveUp, i + 1
			}
		}
		return nil, 0
	}
	cases := []struct {
		name  string
		size  int
		errs  []error
		after int
	}{
		{"small, connection lost", 500, []error{reset, reset, reset, reset}, 3},
		{"big, connection lost", 20000, []error{reset, reset, reset}, 2},
		{"big, refused by the server", 20000, []error{&xmpp.StreamError{Condition: "policy-violation", Text: "XML stanza is too big"}}, 1},
		{"small, policy violation", 500, []error{&xmpp.StreamError{Condition: "policy-violation"}, reset, reset}, 3},
		{"big, the user reconnects", 20000, []error{errReconnect, errReconnect, errReconnect}, 0},
	}
	// Connection attempts that fail before a session starts do not count:
	// only sessions that had the message on the wire.
	o := newOutbox(nil)
	o.add(&outgoing{id: "m", to: "b@x", body: "x", size: 20000}, "a@x")
	o.newSession(true)
	o.claim(o.unsent(false)[0])
	for i := 0; i < 5; i++ {
		if gaveUp := o.lost(reset); len(gaveUp) > 0 {
			t.Fatalf("given up after one session and %d failed dials", i)
		}
	}
	for _, c := range cases {
		o := newOutbox(nil)
		o.add(&outgoing{id: "m", to: "b@x", body: "x", size: c.size}, "a@x")
		gaveUp, after := rounds(o, c.errs...)
		if after != c.after || (after > 0 && (len(gaveUp) != 1 || gaveUp[0].id != "m")) {
			t.Errorf("%s: given up after %d sessions (%v), want %d", c.name, after, gaveUp, c.after)
		}
	}
}

// An error about a message we sent counts only from the recipient or a
// server on the way (RFC 6120 §8.3).
func TestBounceFrom(t *testing.T) {
	self := Self{JID: jid.MustParse("alice@example.org/gab")}
	for _, c := range []struct {
		from string
		want bool
	}{
		{"carol@example.net", true},
		{"carol@example.net/phone", true},
		{"example.net", true},       // the recipient's server
		{"example.org", true},       // our own server
		{"alice@example.org", true}, // our server, for our account (no from)
		{"bob@example.net", false},
		{"bob@example.net/carol", false},
		{"alice@example.org/phone", false}, // another of our clients
		{"example.net/x", false},
		{"other.example", false},
		{"carol@other.example", false},
	} {
		if got := bounceFrom(self, jid.MustParse(c.from), "carol@example.net"); got != c.want {
			t.Errorf("error from %s about a message to carol@example.net: accepted %v, want %v", c.from, got, c.want)
		}
	}
}
