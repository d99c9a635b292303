package xmpp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// bigRoster is n contacts whose JIDs are 60 characters long, each with a
// name and a group: 50,000 of them make a roster result of about 8 MB.
func bigRoster(n int) []xmpptest.RosterEntry {
	entries := make([]xmpptest.RosterEntry, n)
	for i := range entries {
		local := fmt.Sprintf("big%dc%05d", n, i+1)
		local += strings.Repeat("x", 60-len("@localhost")-len(local))
		entries[i] = xmpptest.RosterEntry{
			JID:          local + "@localhost",
			Name:         fmt.Sprintf("Contact %05d", i+1),
			Subscription: "both",
			Groups:       []string{fmt.Sprintf("Group %02d", i%50)},
		}
	}
	return entries
}

// startBigRoster runs Prosody with alice holding a roster of n contacts.
func startBigRoster(tb testing.TB, n int) *xmpptest.Server {
	srv := xmpptest.Start(tb, xmpptest.Options{NoMAM: true})
	srv.Register(tb, "alice", "pw")
	srv.Stop() // Prosody caches rosters: the file is written while it is down
	if err := srv.WriteRoster("alice", bigRoster(n)); err != nil {
		tb.Fatal(err)
	}
	if err := srv.Run(); err != nil {
		tb.Fatal(err)
	}
	return srv
}

// fetchRoster logs in and gets the whole roster with default limits.
func fetchRoster(tb testing.TB, srv *xmpptest.Server) (*xmpp.Element, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := xmpp.Dial(ctx, xmpp.Config{JID: mustJID("alice@localhost"), Password: "pw", Resource: "big",
		Server: srv.Addr(), RootCAs: srv.CertPool(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	var dropped []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := s.Next(func(err error) { dropped = append(dropped, err) }); err != nil {
				return
			}
		}
	}()
	res, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E("jabber:iq:roster", "query")))
	s.Close()
	<-done
	if err != nil {
		tb.Fatalf("roster get: %v (dropped: %v)", err, dropped)
	}
	var size int
	for _, it := range res.Child("jabber:iq:roster", "query").Children {
		size += len(it.Get("jid"))
	}
	return res, size
}

// A roster far past the 1 MiB cap on what peers send loads in full: it is
// our own server answering our own request.
func TestBigRosterLoads(t *testing.T) {
	const n = 50000
	srv := startBigRoster(t, n)
	start := time.Now()
	res, _ := fetchRoster(t, srv)
	items := res.Child("jabber:iq:roster", "query").Children
	if len(items) != n {
		t.Fatalf("got %d roster items, want %d", len(items), n)
	}
	if got := items[0].Get("jid"); len(got) != 60 || !strings.HasPrefix(got, "big50000c") {
		t.Errorf("first item %q", got)
	}
	t.Logf("%d contacts in %v", len(items), time.Since(start))
}

// BenchmarkBigRoster50k logs in and loads a 50,000-contact roster (60-char
// JIDs, a name and a group each) from Prosody: the server's time to send it
// included, after its first load (Prosody caches the roster).
func BenchmarkBigRoster50k(b *testing.B) {
	srv := startBigRoster(b, 50000)
	fetchRoster(b, srv) // Prosody's first load from disk is not ours
	b.ReportAllocs()
	for b.Loop() {
		fetchRoster(b, srv)
	}
}

func mustJID(s string) jid.JID { return jid.MustParse(s) }
