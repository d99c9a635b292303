package chat_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// Through a real server: a contact learns gab's version, a stranger who
// knows the full JID gets service-unavailable; and without a resource in
// the account file the full JID is not "…/gab" but has a random suffix, so
// strangers cannot guess it to probe it.
func TestVersionToContactsOnlyAndRandomResource(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	for _, u := range []string{"alice", "bob", "mallory"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "bob")
	a := start(t, account(t, srv, "alice", "pw", ""), chat.Options{})
	full := a.r.wait(t, "connected", is[chat.Connected](nil)).(chat.Connected).JID
	if !regexp.MustCompile(`^alice@localhost/gab\.[a-z2-7]{8}$`).MatchString(full) {
		t.Fatalf("full JID %q, want alice@localhost/gab. and 8 random characters", full)
	}
	ask := func(user string) (*xmpp.Element, error) {
		s := bareSession(t, srv, user)
		ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
		defer cancel()
		return s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", full).Add(xmpp.E("jabber:iq:version", "query")))
	}
	res, err := ask("bob")
	if err != nil || res.Child("jabber:iq:version", "query").ChildText("jabber:iq:version", "name") != "gab" {
		t.Fatalf("a contact asked: %v %v", res, err)
	}
	res, err = ask("mallory")
	var se *xmpp.StanzaError
	if !errors.As(err, &se) || se.Condition != "service-unavailable" {
		t.Fatalf("a stranger asked: %v %v, want service-unavailable", res, err)
	}
	if res != nil && strings.Contains(res.String(), "<name>gab</name>") {
		t.Fatalf("a stranger was told: %s", res)
	}
}
