package chat_test

import (
	"context"
	"fmt"
	"github.com/gab-chat/gab/history"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"mellium.im/xmpp/jid"
)

// recorder collects a client's events so tests can wait for them.
type recorder struct {
	mu     sync.Mutex
	cond   *sync.Cond
	events []chat.Event
	closed bool
}

func newRecorder(ch <-chan chat.Event) *recorder {
	r := &recorder{}
	r.cond = sync.NewCond(&r.mu)
	go func() {
		for ev := range ch {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.cond.Broadcast()
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.closed = true
		r.cond.Broadcast()
		r.mu.Unlock()
	}()
	return r
}

// waitFrom returns the first event since index `from` matching ok, and its
// index, waiting up to xmpptest.Timeout(d) for it.
func (r *recorder) waitFrom(t *testing.T, from int, what string, d time.Duration, ok func(chat.Event) bool) (chat.Event, int) {
	t.Helper()
	d = xmpptest.Timeout(d)
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() { r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() })
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for i := from; i < len(r.events); i++ {
			if ok(r.events[i]) {
				return r.events[i], i
			}
		}
		if r.closed || time.Now().After(deadline) {
			t.Fatalf("no %s within %v; events: %s", what, d, summary(r.events))
		}
		r.cond.Wait()
	}
}

func (r *recorder) wait(t *testing.T, what string, ok func(chat.Event) bool) chat.Event {
	t.Helper()
	ev, _ := r.waitFrom(t, 0, what, xmpptest.RoundTrip, ok)
	return ev
}

// waitSeries waits for n events in order, the i-th matching ok(i, e). A
// flood takes as long as it takes on a busy machine: only a stall, no next
// event within the limit, fails.
func (r *recorder) waitSeries(t *testing.T, what string, n int, ok func(int, chat.Event) bool) {
	t.Helper()
	from := 0
	for i := 0; i < n; i++ {
		_, j := r.waitFrom(t, from, fmt.Sprintf("%s %d of %d", what, i+1, n), xmpptest.RoundTrip, func(e chat.Event) bool { return ok(i, e) })
		from = j + 1
	}
}

func (r *recorder) snapshot() []chat.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chat.Event(nil), r.events...)
}

func summary(evs []chat.Event) string {
	s := ""
	for i, e := range evs {
		if i > 40 {
			return s + fmt.Sprintf(" ... (%d more)", len(evs)-i)
		}
		s += fmt.Sprintf("\n  %T %+v", e, e)
	}
	return s
}

type running struct {
	c    *chat.Client
	r    *recorder
	stop func()
}

func account(t *testing.T, srv xmpptest.XMPPServer, user, pass, resource string) *config.Account {
	return &config.Account{
		Name: user, JID: jid.MustParse(user + "@" + xmpptest.Domain), Password: pass, Resource: resource,
		Server: srv.Addr(), TLS: config.TLSStartTLS, CAFile: srv.CertFile(), Status: "online", Enabled: true,
	}
}

// start runs a client until the test ends and waits for its roster from
// the server (not the one saved by an earlier client with the same store).
func start(t *testing.T, acct *config.Account, opts chat.Options) *running {
	t.Helper()
	opts.Version = "test"
	c := chat.New(acct, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	r := newRecorder(c.Events())
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
			buf := make([]byte, 1<<20)
			t.Errorf("client %s did not stop within %v:\n%s", acct.JID, xmpptest.Timeout(xmpptest.RoundTrip), buf[:runtime.Stack(buf, true)])
		}
	}
	t.Cleanup(stop)
	r.wait(t, "roster", func(e chat.Event) bool { r, ok := e.(chat.RosterReset); return ok && !r.Cached })
	return &running{c: c, r: r, stop: stop}
}

// failedAttempt matches a failed attempt to connect that will be retried:
// the Disconnected that starts an outage, or a Retrying after it.
func failedAttempt(e chat.Event) bool {
	switch e := e.(type) {
	case chat.Disconnected:
		return e.Err != nil && !e.Final && e.RetryIn > 0
	case chat.Retrying:
		return e.Err != nil
	}
	return false
}

func is[T chat.Event](f func(T) bool) func(chat.Event) bool {
	return func(e chat.Event) bool {
		v, ok := e.(T)
		return ok && (f == nil || f(v))
	}
}

// answerOf matches the final answer of command id.
func answerOf(id uint64) func(chat.Event) bool {
	return func(e chat.Event) bool {
		switch v := e.(type) {
		case chat.CommandDone:
			return v.ID == id
		case chat.CommandFailed:
			return v.ID == id
		}
		return false
	}
}

// do runs a command and waits for its outcome.
func (rc *running) do(t *testing.T, cmd chat.Command) {
	t.Helper()
	id := rc.c.Do(cmd)
	ev := rc.r.wait(t, fmt.Sprintf("outcome of %T", cmd), answerOf(id))
	if f, ok := ev.(chat.CommandFailed); ok {
		t.Fatalf("%T failed: %v", cmd, f.Err)
	}
}

// befriend writes rosters in which a and b see each other's presence
// (subscription both), before either logs in.
// aliceAndPeer starts Prosody with alice and peer (and the other users
// named) registered, alice and peer in each other's roster, a client for
// alice and a slixmpp client for peer.
func aliceAndPeer(t *testing.T, others ...string) (*xmpptest.Server, *running, *xmpptest.Peer) {
	t.Helper()
	return aliceAndPeerWith(t, chat.Options{}, others...)
}

// aliceAndPeerWith is aliceAndPeer with alice's client given opts.
func aliceAndPeerWith(t *testing.T, opts chat.Options, others ...string) (*xmpptest.Server, *running, *xmpptest.Peer) {
	t.Helper()
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range append([]string{"alice", "peer"}, others...) {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	a := start(t, account(t, srv, "alice", "pw", "gab"), opts)
	return srv, a, srv.StartPeer(t, "peer", "pw")
}

func befriend(t *testing.T, srv *xmpptest.Server, a, b string) {
	t.Helper()
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		if err := srv.WriteRoster(pair[0], []xmpptest.RosterEntry{{JID: pair[1] + "@localhost", Subscription: "both"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// openStore opens a fresh history database for the test.
func openStore(t *testing.T) *history.Store {
	t.Helper()
	store, err := history.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// retryWindow returns once a client with the reconnect delays of opts,
// pointed at a port that accepts connections and drops them at once, has
// failed n times and retried: a window of n-1 reconnect delays, as long as
// it takes on this machine however busy it is. A client that must not
// reconnect by itself, run with the same delays, would have dialled again
// within it.
func retryWindow(t *testing.T, opts chat.Options, n int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	defer func() { l.Close(); <-accepted }()
	c := chat.New(&config.Account{
		Name: "metronome", JID: jid.MustParse("metronome@" + xmpptest.Domain), Password: "pw", Resource: "gab",
		Server: l.Addr().String(), TLS: config.TLSStartTLS, Status: "online", Enabled: true,
	}, chat.Options{MinBackoff: opts.MinBackoff, MaxBackoff: opts.MaxBackoff})
	r := newRecorder(c.Events())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	from := 0
	for k := 1; k <= n; k++ {
		_, i := r.waitFrom(t, from, fmt.Sprintf("failed attempt %d of a client that retries", k), xmpptest.RoundTrip, failedAttempt)
		from = i + 1
	}
}
