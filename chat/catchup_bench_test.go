package chat_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// BenchmarkCatchUp: an account's archive holds GAB_CATCHUP_N messages
// (default 50,000) from 50 contacts, sent while it was offline; gab
// catches up on all of them into a fresh store (launch until the catch-up
// says it is done: everything stored), against a bare client that logs in
// and reads the same archive pages one after another and does nothing
// with them. Both ask for pages of 100; the server gives at most
// GAB_CATCHUP_MAX a page (its max_archive_query_results, default
// Prosody's 50). Reported: messages a second of each.
func BenchmarkCatchUp(b *testing.B) {
	n := envInt("GAB_CATCHUP_N", 50000)
	extra := ""
	if m := os.Getenv("GAB_CATCHUP_MAX"); m != "" {
		extra = "max_archive_query_results = " + m
	}
	srv := memoryServer(b, xmpptest.Options{Extra: extra, SQLArchive: true})
	srv.Register(b, "alice", "pw")
	var senders []string
	for i := range 50 {
		senders = append(senders, fmt.Sprintf("c%02d", i))
		srv.Register(b, senders[i], "pw")
	}
	began := time.Now()
	fillArchive(b, srv, senders, n)
	b.Logf("%d archived messages in %v", n, time.Since(began).Round(time.Millisecond))

	b.Run("bare", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			got := bareCatchUp(b, srv, "alice")
			if got != n {
				b.Fatalf("the bare client read %d of %d", got, n)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msg/s")
		}
	})
	b.Run("gab", func(b *testing.B) {
		for i := range b.N {
			b.StopTimer()
			store, err := history.Open(filepath.Join(b.TempDir(), fmt.Sprint("h", i, ".db")))
			if err != nil {
				b.Fatal(err)
			}
			if err := store.SetMeta(context.Background(), "mam_last", "^"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			gabCatchUp(b, srv, store)
			took := time.Since(start)
			b.StopTimer()
			if got, _ := store.Count(context.Background()); got != n {
				b.Fatalf("gab stored %d of %d", got, n)
			}
			store.Close()
			b.ReportMetric(float64(n)/took.Seconds(), "msg/s")
			b.StartTimer()
		}
	})
}

// memoryServer starts Prosody with its data in memory (/dev/shm, where
// there is one): SQLite on disk syncs every message the server archives,
// and filling an archive of 50,000 would take minutes.
func memoryServer(tb testing.TB, opts xmpptest.Options) *xmpptest.Server {
	tb.Helper()
	xmpptest.Require(tb)
	dir, err := os.MkdirTemp("/dev/shm", "gab-bench-")
	if err != nil {
		dir = tb.TempDir()
	} else {
		tb.Cleanup(func() { os.RemoveAll(dir) })
	}
	srv, err := xmpptest.NewServer(dir, opts)
	if srv != nil {
		tb.Cleanup(srv.Stop)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// fillArchive has the senders send n messages in all to alice, round
// robin, and returns once the server has taken them all.
func fillArchive(tb testing.TB, srv *xmpptest.Server, senders []string, n int) {
	tb.Helper()
	raws := make([]*xmpptest.Raw, len(senders))
	for i, s := range senders {
		r, err := xmpptest.LoginRaw(srv, s, "pw", "fill")
		if err != nil {
			tb.Fatal(err)
		}
		defer r.Close()
		raws[i] = r
	}
	for i := range n {
		k := i % len(senders)
		if err := raws[k].Send(fmt.Sprintf(`<message to='alice@localhost' type='chat' id='m%d'><body>message %06d from %s</body></message>`, i, i, senders[k])); err != nil {
			tb.Fatal(err)
		}
	}
	for _, r := range raws {
		if _, err := r.IQ(`<iq type='get' id='filled'><ping xmlns='urn:xmpp:ping'/></iq>`, "filled"); err != nil {
			tb.Fatal(err)
		}
	}
}

// bareCatchUp logs in as user and reads the whole archive in pages of 100,
// one after another, and returns how many messages it read.
func bareCatchUp(tb testing.TB, srv *xmpptest.Server, user string) int {
	tb.Helper()
	pool, err := xmpp.RootPool(mustRead(tb, srv.CAFile))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := xmpp.Dial(context.Background(), xmpp.Config{JID: jid.MustParse(user + "@localhost"), Password: "pw", Resource: "bare",
		Server: srv.Addr(), RootCAs: pool, StreamManagement: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	got := 0
	go func() {
		for {
			el, err := s.Next(nil)
			if err != nil {
				return
			}
			if el.Is(xmpp.NSClient, "message") && el.Child(chat.NSMAM, "result") != nil {
				got++ // read here, before the page's answer is
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	after := ""
	for {
		set := xmpp.E(chat.NSRSM, "set").Add(xmpp.E(chat.NSRSM, "max").WithText("100"))
		if after != "" {
			set.Add(xmpp.E(chat.NSRSM, "after").WithText(after))
		}
		res, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "set").Add(xmpp.E(chat.NSMAM, "query", "queryid", "q").Add(set)))
		if err != nil {
			tb.Fatal(err)
		}
		fin := res.Child(chat.NSMAM, "fin")
		if fin.Get("complete") == "true" {
			return got
		}
		after = fin.Child(chat.NSRSM, "set").ChildText(chat.NSRSM, "last")
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// gabCatchUp runs a client for alice with store until its catch-up is
// done.
func gabCatchUp(tb testing.TB, srv *xmpptest.Server, store *history.Store) {
	tb.Helper()
	acct := &config.Account{Name: "alice", JID: jid.MustParse("alice@localhost"), Password: "pw", Resource: "gab",
		Server: srv.Addr(), TLS: config.TLSStartTLS, CAFile: srv.CAFile, Status: "online", Enabled: true}
	c := chat.New(acct, chat.Options{Store: store, Version: "bench"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	limit := time.After(30 * time.Minute)
	start := time.Now()
	var first time.Time
	for {
		select {
		case ev := <-c.Events():
			if _, ok := ev.(chat.CatchUpProgress); ok && first.IsZero() {
				first = time.Now()
			}
			if p, ok := ev.(chat.CatchUpProgress); ok && p.Done {
				tb.Logf("gab: first progress after %v, done after %v", first.Sub(start), time.Since(start))
				cancel()
				for range c.Events() {
				}
				<-done
				return
			}
		case <-limit:
			tb.Fatal("no end of the catch-up")
		}
	}
}
