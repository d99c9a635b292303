package chat_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// uploadServer starts Prosody with the upload service (limit bytes), alice
// and a slixmpp peer befriended, and a client for alice with opts.
func uploadServer(t *testing.T, limit int64, opts chat.Options) (*xmpptest.Server, *running, *xmpptest.Peer) {
	t.Helper()
	srv := xmpptest.Start(t, xmpptest.Options{Upload: true, UploadLimit: limit, MUC: true})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	a := start(t, account(t, srv, "alice", "pw", "gab"), opts)
	return srv, a, srv.StartPeer(t, "peer", "pw")
}

// randomFile writes n random bytes to a file named name in a temp dir.
func randomFile(t testing.TB, name string, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// fetch GETs url trusting only the test server's certificate.
func fetch(t *testing.T, srv *xmpptest.Server, url string) []byte {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(t)}}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func progressOf(id uint64) func(chat.Event) bool {
	return is(func(p chat.UploadProgress) bool { return p.CommandID == id })
}

// TestUploadFileInChat uploads 5 MB into a chat: progress comes in a few
// steps, never backwards, ending at the total; the message that follows
// carries the URL as body and in an out-of-band element, which the peer
// gets; the file fetched back is the same bytes; the message is stored.
func TestUploadFileInChat(t *testing.T) {
	store := openStore(t)
	var log xmlLog
	srv, a, peer := uploadServer(t, 10<<20, chat.Options{Store: store, XMLLog: xmpp.NewTap(&log, "alice")})
	path, data := randomFile(t, "holiday photo.jpg", 5<<20)
	conv := chat.ChatWith("peer@localhost")
	t0 := time.Now()
	id := a.c.Do(chat.UploadFile{Conv: conv, Path: path})
	ans, at := a.r.waitFrom(t, 0, "the upload's answer", 4*xmpptest.RoundTrip, answerOf(id))
	took := time.Since(t0)
	if f, ok := ans.(chat.CommandFailed); ok {
		t.Fatalf("upload failed: %v", f.Err)
	}
	var progress []chat.UploadProgress
	var sent *chat.MessageSent
	answers := 0
	for i, ev := range a.r.snapshot() {
		switch e := ev.(type) {
		case chat.UploadProgress:
			if e.CommandID == id {
				if e.Conv != conv || e.Name != "holiday photo.jpg" || e.Total != int64(len(data)) {
					t.Fatalf("progress event %+v", e)
				}
				progress = append(progress, e)
			}
		case chat.MessageSent:
			if e.CommandID == id {
				if i > at {
					t.Fatalf("the message came after the command's answer")
				}
				sent = &e
			}
		case chat.CommandDone, chat.CommandFailed:
			if answerOf(id)(ev) {
				answers++
			}
		}
	}
	if answers != 1 {
		t.Fatalf("%d answers to the upload", answers)
	}
	if len(progress) < 4 {
		t.Fatalf("only %d progress events: %+v", len(progress), progress)
	}
	// At most ten a second (and the first and the last): never one per write.
	if most := int(took/(100*time.Millisecond)) + 2; len(progress) > most {
		t.Fatalf("%d progress events in %v", len(progress), took)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].Sent < progress[i-1].Sent || progress[i-1].Done {
			t.Fatalf("progress went back or went on after done: %+v", progress)
		}
	}
	last := progress[len(progress)-1]
	if !last.Done || last.Err != nil || last.Sent != last.Total || last.URL == "" {
		t.Fatalf("last progress %+v", last)
	}
	if progress[len(progress)-2].Rate <= 0 {
		t.Fatalf("no rate in %+v", progress[len(progress)-2])
	}
	if sent == nil || sent.Body != last.URL || sent.File == nil || sent.File.URL != last.URL ||
		sent.File.Name != "holiday photo.jpg" || sent.File.Size != int64(len(data)) || sent.File.Type != "image/jpeg" || sent.StoreID == 0 {
		t.Fatalf("message sent: %+v (file %+v)", sent, sent.File)
	}
	got := peer.WaitFor(t, xmpptest.RoundTrip, "the file's message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == last.URL
	})
	if got.Get("oob") != last.URL {
		t.Fatalf("the peer got no out-of-band URL: %v", got)
	}
	if !bytes.Equal(fetch(t, srv, last.URL), data) {
		t.Fatal("the file fetched back differs from the one uploaded")
	}
	if all := strings.Join(log.lines(), "\n"); !strings.Contains(all, `<request xmlns="urn:xmpp:http:upload:0"`) {
		t.Fatalf("no slot request in the log (the test over the limit looks for it):\n%s", all)
	}
	rows, _, err := store.Before(context.Background(), history.Conv{Kind: history.KindChat, Peer: "peer@localhost"}, 0, 10)
	if err != nil || len(rows) != 1 || rows[0].Body != last.URL {
		t.Fatalf("stored: %v %+v", err, rows)
	}
}

// heldBody is an upload body that stops after n bytes until released: an
// upload held mid-way, to be cancelled there.
type heldBody struct {
	r       io.Reader
	n       int64
	reached chan struct{}
	release chan struct{}
	once    sync.Once
	closing sync.Once
	// resume: once released, the rest is read (else the read fails).
	resume bool
}

// Close releases a held read, as closing a file or pipe does.
func (g *heldBody) Close() error {
	g.closing.Do(func() { close(g.release) })
	return nil
}

func (g *heldBody) Read(b []byte) (int, error) {
	if g.n <= 0 {
		g.once.Do(func() { close(g.reached) })
		<-g.release
		if !g.resume {
			return 0, io.ErrUnexpectedEOF
		}
		g.n = 1 << 62
	}
	if int64(len(b)) > g.n {
		b = b[:g.n]
	}
	n, err := g.r.Read(b)
	g.n -= int64(n)
	return n, err
}

// TestUploadCancelled cancels an upload held after 1 MB: the upload ends
// cancelled at once (while its body is still held), with one failed
// answer, and no message is sent.
func TestUploadCancelled(t *testing.T) {
	g := &heldBody{n: 1 << 20, reached: make(chan struct{}), release: make(chan struct{})}
	defer g.Close()
	_, a, _ := uploadServer(t, 10<<20, chat.Options{UploadBody: func(r io.Reader) io.Reader { g.r = r; return g }})
	path, _ := randomFile(t, "big.bin", 5<<20)
	id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: path})
	select {
	case <-g.reached:
	case <-a.r.closedOrFailed(t, id):
		t.Fatal("the upload ended before it was held")
	}
	cancelID := a.c.Do(chat.CancelUpload{Upload: id})
	if ev := a.r.wait(t, "the cancel's answer", answerOf(cancelID)); !is[chat.CommandDone](nil)(ev) {
		t.Fatalf("cancel: %+v", ev)
	}
	ev := a.r.wait(t, "the upload's answer", answerOf(id))
	f, ok := ev.(chat.CommandFailed)
	if !ok || f.Err.Error() != "upload of big.bin cancelled" || !errors.Is(f.Err, chat.ErrUploadCancelled) {
		t.Fatalf("upload answer: %+v", ev)
	}
	p := a.r.wait(t, "the last progress", is(func(p chat.UploadProgress) bool { return p.CommandID == id && p.Done })).(chat.UploadProgress)
	if !p.Cancelled || p.Err == nil {
		t.Fatalf("last progress %+v", p)
	}
	// Cancelling it again: it is no longer under way.
	again := a.c.Do(chat.CancelUpload{Upload: id})
	if ev := a.r.wait(t, "the second cancel's answer", answerOf(again)); !is[chat.CommandFailed](nil)(ev) {
		t.Fatalf("second cancel: %+v", ev)
	}
	for _, ev := range a.r.snapshot() {
		if m, ok := ev.(chat.MessageSent); ok {
			t.Fatalf("a message was sent: %+v", m)
		}
	}
}

// closedOrFailed is a channel closed when the command id is answered
// (for a select beside what the test waits for).
func (r *recorder) closedOrFailed(t *testing.T, id uint64) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for {
			for _, ev := range r.events {
				if answerOf(id)(ev) {
					close(ch)
					return
				}
			}
			if r.closed {
				return
			}
			r.cond.Wait()
		}
	}()
	return ch
}

// TestUploadOverLimitRefused: a file bigger than the service's limit is
// refused naming both sizes, and no slot is asked for: the raw stream,
// read after a message sent later has gone out, holds no slot request.
func TestUploadOverLimitRefused(t *testing.T) {
	var log xmlLog
	_, a, peer := uploadServer(t, 1<<20, chat.Options{XMLLog: xmpp.NewTap(&log, "alice")})
	path, _ := randomFile(t, "big.bin", 2<<20)
	id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: path})
	ev := a.r.wait(t, "the upload's answer", answerOf(id))
	f, ok := ev.(chat.CommandFailed)
	if !ok || !strings.Contains(f.Err.Error(), "2.1 MB") || !strings.Contains(f.Err.Error(), "1.0 MB") {
		t.Fatalf("upload answer: %+v", ev)
	}
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "sentinel"})
	peer.WaitFor(t, xmpptest.RoundTrip, "the sentinel", func(e xmpptest.PeerEvent) bool { return e.Get("body") == "sentinel" })
	all := strings.Join(log.lines(), "\n")
	if !strings.Contains(all, "sentinel") || !strings.Contains(all, "disco#info") {
		t.Fatalf("the log lacks the sentinel or the service's discovery:\n%s", all)
	}
	if strings.Contains(all, `<request xmlns="urn:xmpp:http:upload:0"`) {
		t.Fatalf("a slot was asked for:\n%s", all)
	}
}

// TestUploadFileInRoom: an upload into a room reaches its occupants with
// the out-of-band URL.
func TestUploadFileInRoom(t *testing.T) {
	srv, a, peer := uploadServer(t, 10<<20, chat.Options{})
	room := xmpptest.Room("files")
	peer.Join(t, room, "peer")
	joinRoom(t, a, room, "alice", "")
	path, data := randomFile(t, "notes.txt", 200<<10)
	id := a.c.Do(chat.UploadFile{Conv: chat.RoomConv(room), Path: path})
	ans, _ := a.r.waitFrom(t, 0, "the upload's answer", 2*xmpptest.RoundTrip, answerOf(id))
	if f, ok := ans.(chat.CommandFailed); ok {
		t.Fatalf("upload failed: %v", f.Err)
	}
	sent := a.r.wait(t, "the message", is(func(m chat.MessageSent) bool { return m.CommandID == id })).(chat.MessageSent)
	if sent.File == nil || sent.File.Type != "text/plain" {
		t.Fatalf("message sent %+v", sent)
	}
	got := peer.WaitFor(t, xmpptest.RoundTrip, "the file in the room", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "groupchat" && e.Get("room") == room && e.Get("body") == sent.Body
	})
	if got.Get("oob") != sent.Body || got.Get("nick") != "alice" {
		t.Fatalf("the peer got %v", got)
	}
	if !bytes.Equal(fetch(t, srv, sent.Body), data) {
		t.Fatal("the file fetched back differs")
	}
}

// TestUploadOutsideRoomRefused: a room we are not in is refused before
// anything is asked.
func TestUploadOutsideRoomRefused(t *testing.T) {
	_, a, _ := uploadServer(t, 10<<20, chat.Options{})
	path, _ := randomFile(t, "a.bin", 10)
	id := a.c.Do(chat.UploadFile{Conv: chat.RoomConv(xmpptest.Room("nowhere")), Path: path})
	if f, ok := a.r.wait(t, "the answer", answerOf(id)).(chat.CommandFailed); !ok || !strings.Contains(f.Err.Error(), "/join") {
		t.Fatalf("answer: %+v", f)
	}
	missing := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: filepath.Join(t.TempDir(), "nope")})
	if f, ok := a.r.wait(t, "the answer", answerOf(missing)).(chat.CommandFailed); !ok || !strings.Contains(f.Err.Error(), "no such file") {
		t.Fatalf("answer: %+v", f)
	}
	// Each refusal, like a failure on the way, ends with the upload's last
	// progress, so that its conversation says so (not only the status line).
	for _, tc := range []struct {
		id   uint64
		conv chat.Conv
		name string
	}{{id, chat.RoomConv(xmpptest.Room("nowhere")), "a.bin"}, {missing, chat.ChatWith("peer@localhost"), "nope"}} {
		ev, at := a.r.waitFrom(t, 0, "the refused upload's last progress", xmpptest.Local, is(func(p chat.UploadProgress) bool { return p.CommandID == tc.id }))
		_, ans := a.r.waitFrom(t, 0, "the answer", xmpptest.Local, answerOf(tc.id))
		if p := ev.(chat.UploadProgress); !p.Done || p.Err == nil || p.Conv != tc.conv || p.Name != tc.name || at > ans {
			t.Fatalf("progress %+v at %d, answer at %d", p, at, ans)
		}
	}
}

// TestIncomingOOBFile: a peer's message sharing a file (body and
// out-of-band URL, as Conversations sends it) reaches gab as a message
// whose body is the URL.
func TestIncomingOOBFile(t *testing.T) {
	_, a, peer := uploadServer(t, 10<<20, chat.Options{})
	url := "https://upload.example/abc/cat.png"
	peer.Send(t, map[string]any{"cmd": "raw", "xml": `<message to='alice@localhost' type='chat' id='f1'><body>` + url + `</body><x xmlns='jabber:x:oob'><url>` + url + `</url></x></message>`})
	m := a.r.wait(t, "the file message", is(func(m chat.MessageReceived) bool { return m.ID == "f1" })).(chat.MessageReceived)
	if m.Body != url {
		t.Fatalf("received %+v", m)
	}
	if m.File != nil && m.File.URL != url {
		t.Fatalf("file %+v", m.File)
	}
}

// TestUploadSurvivesLostConnection: the connection to the server is lost
// while the file is being sent (the upload goes over HTTPS, not through
// it): the upload finishes, the message with the link waits in the outbox
// while offline (the command's one answer is done), and goes out once
// connected again.
func TestUploadSurvivesLostConnection(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{Upload: true})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	proxy := xmpptest.StartProxy(t, srv.Addr())
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = proxy.Addr()
	g := &heldBody{n: 1 << 20, reached: make(chan struct{}), release: make(chan struct{}), resume: true}
	defer g.Close()
	a := start(t, acct, chat.Options{Store: openStore(t), MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		UploadBody: func(r io.Reader) io.Reader { g.r = r; return g }})
	peer := srv.StartPeer(t, "peer", "pw")
	path, data := randomFile(t, "report.pdf", 3<<20)
	id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: path})
	select {
	case <-g.reached:
	case <-a.r.closedOrFailed(t, id):
		t.Fatal("the upload ended before it was held")
	}
	mark := len(a.r.snapshot())
	proxy.Refuse()
	a.r.waitFrom(t, mark, "the lost connection", xmpptest.RoundTrip, is(func(d chat.Disconnected) bool { return d.Err != nil }))
	g.Close() // the rest of the file goes
	ans, at := a.r.waitFrom(t, 0, "the upload's answer", 2*xmpptest.RoundTrip, answerOf(id))
	if f, ok := ans.(chat.CommandFailed); ok {
		t.Fatalf("upload failed: %v", f.Err)
	}
	sent, sentAt := a.r.waitFrom(t, 0, "the message", xmpptest.RoundTrip, is(func(m chat.MessageSent) bool { return m.CommandID == id }))
	m := sent.(chat.MessageSent)
	if sentAt > at || m.State != chat.DeliveryPending || m.File == nil {
		t.Fatalf("message %+v at %d, answer at %d", m, sentAt, at)
	}
	for _, ev := range a.r.snapshot()[mark:at] {
		if _, ok := ev.(chat.Connected); ok {
			t.Fatal("connected again before the upload finished: the outbox was not tried offline")
		}
	}
	proxy.Allow(t)
	got := peer.WaitFor(t, 2*xmpptest.RoundTrip, "the link", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == m.Body
	})
	if got.Get("oob") != m.Body {
		t.Fatalf("peer got %v", got)
	}
	if !bytes.Equal(fetch(t, srv, m.Body), data) {
		t.Fatal("the file fetched back differs")
	}
}

// TestUploadEndsWithClient: stopping the client ends an upload under way
// (its goroutine is the client's: the client waits for it), and the upload
// gets its last event before the events end.
func TestUploadEndsWithClient(t *testing.T) {
	g := &heldBody{n: 1 << 20, reached: make(chan struct{}), release: make(chan struct{})}
	defer g.Close()
	_, a, _ := uploadServer(t, 10<<20, chat.Options{UploadBody: func(r io.Reader) io.Reader { g.r = r; return g }})
	path, _ := randomFile(t, "big.bin", 5<<20)
	id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: path})
	<-g.reached
	a.stop() // fails the test if Run does not return, which waits for the upload's goroutine
	select {
	case <-g.release:
	default:
		t.Fatal("the held body was not closed")
	}
	last := a.r.wait(t, "the last progress", is(func(p chat.UploadProgress) bool { return p.CommandID == id && p.Done })).(chat.UploadProgress)
	if last.Err == nil {
		t.Fatalf("last progress %+v", last)
	}
}

// TestUploadTrustsThePinnedCertificate: an account that trusts its
// server only through the certificate pinned for it (no ca_file) uploads
// to a service that presents that certificate; without it, the upload
// service's certificate would be unknown.
func TestUploadTrustsThePinnedCertificate(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{Upload: true})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	pem, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pin := filepath.Join(t.TempDir(), "alice.pin.pem")
	if err := os.WriteFile(pin, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	acct := account(t, srv, "alice", "pw", "gab")
	acct.CAFile = ""
	a := start(t, acct, chat.Options{PinFile: pin})
	path, data := randomFile(t, "pinned.bin", 64<<10)
	id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: path})
	if f, ok := a.r.wait(t, "the upload's answer", answerOf(id)).(chat.CommandFailed); ok {
		t.Fatalf("upload failed: %v", f.Err)
	}
	sent := a.r.wait(t, "the message", is(func(m chat.MessageSent) bool { return m.CommandID == id })).(chat.MessageSent)
	if !bytes.Equal(fetch(t, srv, sent.Body), data) {
		t.Fatal("the file fetched back differs")
	}
}

// TestUploadCancelledWhileAskingForService: an upload shows (and can be
// cancelled) from the start, not only once the file goes: with the server
// silent, its first progress comes at once, and a cancel ends it long
// before the server's answer time.
func TestUploadCancelledWhileAskingForService(t *testing.T) {
	srv, a, _ := uploadServer(t, 10<<20, chat.Options{IQTimeout: 10 * time.Minute})
	path, _ := randomFile(t, "a.bin", 1000)
	srv.Pause()
	defer srv.Resume()
	id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: path})
	first := a.r.wait(t, "the upload's first progress", progressOf(id)).(chat.UploadProgress)
	if first.Done || first.Total != 1000 || first.Name != "a.bin" {
		t.Fatalf("first progress %+v", first)
	}
	cancel := a.c.Do(chat.CancelUpload{Upload: id})
	if _, ok := a.r.wait(t, "the cancel's answer", answerOf(cancel)).(chat.CommandDone); !ok {
		t.Fatal("the cancel was refused")
	}
	last := a.r.wait(t, "the upload's last progress", is(func(p chat.UploadProgress) bool { return p.CommandID == id && p.Done })).(chat.UploadProgress)
	if !last.Cancelled {
		t.Fatalf("last progress %+v", last)
	}
	if f, ok := a.r.wait(t, "the upload's answer", answerOf(id)).(chat.CommandFailed); !ok || !errors.Is(f.Err, chat.ErrUploadCancelled) {
		t.Fatalf("answer %+v", f)
	}
}

// TestUploadWithoutServiceAsksAgain: a server without an upload service
// is asked again at the next /upload, not taken at its word for the
// session: one lookup that went unanswered would otherwise hide a service
// until the next connection.
func TestUploadWithoutServiceAsksAgain(t *testing.T) {
	var log xmlLog
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{XMLLog: xmpp.NewTap(&log, "alice")})
	path, _ := randomFile(t, "f.bin", 1000)
	queries := func() int {
		n := 0
		for _, l := range log.lines() {
			if strings.Contains(l, "disco#items") && strings.Contains(l, `type="get"`) {
				n++
			}
		}
		return n
	}
	for i := 0; i < 2; i++ {
		before := queries()
		id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("bob@localhost"), Path: path})
		f, ok := a.r.wait(t, "the upload's answer", answerOf(id)).(chat.CommandFailed)
		if !ok || !strings.Contains(f.Err.Error(), "no file upload service") {
			t.Fatalf("upload %d: %+v", i+1, f)
		}
		if queries() == before {
			t.Fatalf("upload %d did not ask the server for its services:\n%s", i+1, strings.Join(log.lines(), "\n"))
		}
	}
}
