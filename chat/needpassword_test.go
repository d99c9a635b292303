package chat_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// A password_command that fails leaves no password to try: the client
// stops, says so, and offers to take one typed by the user, which it then
// logs in with (here: hands to Dial) without running the command again.
func TestFailingPasswordCommandAsksForOne(t *testing.T) {
	dialed := make(chan string, 4)
	acct := &config.Account{Name: "alice", JID: jid.MustParse("alice@localhost"), PasswordCommand: "exit 3"}
	c := chat.New(acct, chat.Options{Dial: func(_ context.Context, cfg xmpp.Config) (*xmpp.Session, error) {
		dialed <- cfg.Password
		return nil, errors.New("no network here")
	}, NoReconnect: false, MinBackoff: time.Hour, MaxBackoff: time.Hour})
	r := runClient(t, c)
	ev, i := r.waitFrom(t, 0, "the failure", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Final }))
	if d := ev.(chat.Disconnected); !d.NeedPassword || d.Untrusted != nil {
		t.Fatalf("no password, no offer to type one: %+v", d)
	}
	select {
	case p := <-dialed:
		t.Fatalf("dialed with %q without a password", p)
	default:
	}
	id := c.Do(chat.UsePassword{Password: "typed"})
	r.waitFrom(t, i+1, "the answer", 10*time.Second, is(func(e chat.CommandDone) bool { return e.ID == id }))
	select {
	case p := <-dialed:
		if p != "typed" {
			t.Fatalf("dialed with %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the typed password was not used")
	}
}
