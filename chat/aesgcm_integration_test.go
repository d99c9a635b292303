package chat_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// aesgcmPair starts Prosody with its upload service, alice's client with
// OMEMO (its device published, a store, the stream logged) and the
// python-omemo peer with a device of version ("0.3" or "2").
func aesgcmPair(t *testing.T, version string) (*xmpptest.Server, *history.Store, *running, *xmpptest.Peer, *xmlLog) {
	t.Helper()
	srv := xmpptest.Start(t, xmpptest.Options{Upload: true})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	store := openStore(t)
	var log xmlLog
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true, XMLLog: xmpp.NewTap(&log, "alice")})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	peer := srv.StartPeer(t, "peer", "pw")
	peer.EnableOMEMO(t, version)
	return srv, store, a, peer, &log
}

// gab shares a file in an encrypted chat: the upload service gets the
// ciphertext (16 bytes more than the file, not the file), the message is
// the aesgcm link, OMEMO-encrypted and without an out-of-band element —
// nothing on the wire names the file's URL in the clear — and the
// python-omemo peer decrypts the message, fetches the link and decrypts
// the file to the same bytes. The message is stored with its file.
func TestAESGCMFileSentToPeer(t *testing.T) {
	for _, v := range []struct {
		name string
		enc  history.Version
	}{{"0.3", history.OMEMO03}, {"2", history.OMEMO2}} {
		t.Run(v.name, func(t *testing.T) { aesgcmFileSentToPeer(t, v.name, v.enc) })
	}
}

func aesgcmFileSentToPeer(t *testing.T, version string, enc history.Version) {
	srv, store, a, peer, log := aesgcmPair(t, version)
	path, data := randomFile(t, "notes 1.pdf", 300_000)
	conv := chat.ChatWith("peer@localhost")
	id := a.c.Do(chat.UploadFile{Conv: conv, Path: path, Encrypt: true})
	ans, _ := a.r.waitFrom(t, 0, "the upload's answer", 4*xmpptest.RoundTrip, answerOf(id))
	if f, ok := ans.(chat.CommandFailed); ok {
		t.Fatalf("upload failed: %v", f.Err)
	}
	sent := a.r.wait(t, "the file's message", is(func(m chat.MessageSent) bool { return m.CommandID == id })).(chat.MessageSent)
	if sent.OMEMO == nil || sent.File == nil || sent.File.Name != "notes 1.pdf" || sent.File.Size != int64(len(data)) || sent.Body != sent.File.URL {
		t.Fatalf("sent as %+v (file %+v)", sent, sent.File)
	}
	link, err := chat.ParseAESGCM(sent.File.URL)
	if err != nil || len(link.IV) != 12 || len(link.Key) != 32 {
		t.Fatalf("the message is not an aesgcm link with a 12-byte IV: %v", err)
	}
	got := peer.WaitFor(t, xmpptest.RoundTrip, "the peer to decrypt the link", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && (e.Get("body") == sent.Body || e.Get("error") != "")
	})
	if got.Get("error") != "" {
		t.Fatalf("the peer: %v", got)
	}
	on := fetch(t, srv, link.HTTPS)
	if len(on) != len(data)+16 || bytes.Contains(on, data[:64]) {
		t.Fatalf("the service holds %d bytes for a file of %d, or the file itself", len(on), len(data))
	}
	res, err := peer.Result(t, map[string]any{"cmd": "aesgcm_fetch", "url": sent.Body})
	sum := sha256.Sum256(data)
	if err != nil || res.Get("sha256") != hex.EncodeToString(sum[:]) || res.Get("iv_size") != "12" {
		t.Fatalf("the peer fetched and decrypted: %v %v", res, err)
	}
	// On the wire: the slot asked for the ciphertext's size as bytes of no
	// type, and no stanza carries the URL or the link in the clear.
	all := strings.Join(log.lines(), "\n")
	if !strings.Contains(all, `size="300016"`) || !strings.Contains(all, `content-type="application/octet-stream"`) {
		t.Fatalf("the slot request is not for the ciphertext:\n%s", all)
	}
	for _, leak := range []string{link.HTTPS, strings.TrimPrefix(link.HTTPS, "https://"), hex.EncodeToString(link.Key), `<x xmlns="jabber:x:oob"`} {
		for _, l := range log.lines() {
			if strings.Contains(l, leak) && !strings.Contains(l, "urn:xmpp:http:upload:0") {
				t.Fatalf("%q went in the clear: %s", leak, l)
			}
		}
	}
	row, ok, err := store.Get(context.Background(), sent.StoreID)
	if err != nil || !ok || row.File.URL != sent.Body || row.Encryption != enc {
		t.Fatalf("stored as %+v (%v)", row, err)
	}
}

// The peer shares a file encrypted (its own AES-GCM, uploaded to
// Prosody) in an OMEMO message: gab shows it as the file, and FetchFile
// downloads, checks and saves the same bytes. The same link with another
// key fails its tag, and leaves nothing in the directory. A link in a
// plain-text message is no file.
func TestAESGCMFileFromPeer(t *testing.T) {
	_, _, a, peer, _ := aesgcmPair(t, "0.3")
	const peerJID = "peer@localhost"
	data := bytes.Repeat([]byte("gab encrypted files "), 5000)
	res, err := peer.Result(t, map[string]any{"cmd": "aesgcm_upload", "data": hex.EncodeToString(data), "name": "report.txt", "service": xmpptest.UploadService})
	if err != nil {
		t.Fatal(err)
	}
	linkText := res.Get("link")
	omemoSend(t, peer, "alice@localhost", linkText)
	m := a.r.wait(t, "the file's message", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.OMEMO != nil })).(chat.MessageReceived)
	if m.File == nil || m.File.Name != "report.txt" || m.File.URL != linkText {
		t.Fatalf("received as %+v (file %+v)", m, m.File)
	}
	dir := filepath.Join(t.TempDir(), "Downloads")
	id := a.c.Do(chat.FetchFile{Conv: m.Conv, URL: m.File.URL, Dir: dir})
	done := a.r.wait(t, "the download", is(func(e chat.FileFetched) bool { return e.CommandID == id })).(chat.FileFetched)
	if done.Err != nil || done.Path != filepath.Join(dir, "report.txt") || done.Size != int64(len(data)) || done.Name != "report.txt" {
		t.Fatalf("fetched: %+v", done)
	}
	if b, err := os.ReadFile(done.Path); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("saved: %v (%d bytes)", err, len(b))
	}
	if ans := a.r.wait(t, "the download's answer", answerOf(id)); ans == nil {
		t.Fatal("no answer")
	} else if _, ok := ans.(chat.CommandDone); !ok {
		t.Fatalf("answered %+v", ans)
	}

	// Another key: the tag does not match, nothing is saved.
	link, _ := chat.ParseAESGCM(linkText)
	link.Key[0] ^= 1
	bad := filepath.Join(t.TempDir(), "bad")
	id = a.c.Do(chat.FetchFile{Conv: m.Conv, URL: link.String(), Dir: bad})
	failed := a.r.wait(t, "the failed download", is(func(e chat.FileFetched) bool { return e.CommandID == id })).(chat.FileFetched)
	if failed.Err == nil || !strings.Contains(failed.Err.Error(), "does not match its key") || strings.Contains(failed.Err.Error(), hex.EncodeToString(link.Key)) {
		t.Fatalf("a wrong key: %+v", failed)
	}
	if _, ok := a.r.wait(t, "its answer", answerOf(id)).(chat.CommandFailed); !ok {
		t.Fatal("the failed download was not answered as failed")
	}
	if entries, _ := os.ReadDir(bad); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}

	// In plain text a link is text: no file, nothing fetched.
	peer.Send(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": linkText})
	plain := a.r.wait(t, "the plain-text link", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.OMEMO == nil })).(chat.MessageReceived)
	if plain.File != nil || plain.Body != linkText {
		t.Fatalf("a plain-text link: %+v (file %+v)", plain, plain.File)
	}
}

// An encrypted upload to a contact without OMEMO is refused before
// anything is uploaded or sent, and says why.
func TestAESGCMUploadRefusedWithoutDevices(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{Upload: true})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	var log xmlLog
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t), OMEMO: true, XMLLog: xmpp.NewTap(&log, "alice")})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	path, _ := randomFile(t, "secret.txt", 1000)
	id := a.c.Do(chat.UploadFile{Conv: chat.ChatWith("peer@localhost"), Path: path, Encrypt: true})
	f, ok := a.r.wait(t, "the refusal", answerOf(id)).(chat.CommandFailed)
	if !ok || !strings.Contains(f.Err.Error(), "no OMEMO device") || !strings.Contains(f.Err.Error(), "nothing uploaded") {
		t.Fatalf("answered %+v", f)
	}
	if all := strings.Join(log.lines(), "\n"); strings.Contains(all, `<request xmlns="urn:xmpp:http:upload:0"`) {
		t.Fatalf("the upload service was asked:\n%s", all)
	}
	for _, ev := range a.r.snapshot() {
		if m, ok := ev.(chat.MessageSent); ok {
			t.Fatalf("a message went: %+v", m)
		}
	}
}

// Encrypted files in an encrypted room: gab's upload goes as an aesgcm
// link encrypted to the members, which ada (python-omemo, in the room)
// decrypts, fetches and decrypts to the same bytes; ada's link in the
// room shows as a file, and FetchFile saves it.
func TestAESGCMFileInRoom(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{MUC: true, Upload: true})
	for _, u := range []string{"alice", "ada", "bob"} {
		srv.Register(t, u, "pw")
	}
	secret, ada, _, _ := omemoRoomFixture(t, srv)
	ada.Must(t, map[string]any{"cmd": "affiliation", "room": secret, "affiliation": "none", "jid": "bob@localhost"})
	a, _ := startOMEMOAlice(t, srv, openStore(t))
	joinRoom(t, a, secret, "alice", "")
	a.r.wait(t, "the room can be encrypted", is(func(e chat.RoomEncryption) bool { return e.Room == secret && e.Possible }))

	path, data := randomFile(t, "plan.txt", 50_000)
	mark := ada.Mark()
	id := a.c.Do(chat.UploadFile{Conv: chat.RoomConv(secret), Path: path, Encrypt: true})
	ans, _ := a.r.waitFrom(t, 0, "the upload's answer", 4*xmpptest.RoundTrip, answerOf(id))
	if f, ok := ans.(chat.CommandFailed); ok {
		t.Fatalf("upload failed: %v", f.Err)
	}
	sent := a.r.wait(t, "the file's message", is(func(m chat.MessageSent) bool { return m.CommandID == id })).(chat.MessageSent)
	if sent.OMEMO == nil || sent.File == nil || !chat.IsAESGCM(sent.Body) {
		t.Fatalf("sent as %+v", sent)
	}
	got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "alice's link in the room", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_groupchat" && e.Get("nick") == "alice"
	})
	if got.Get("body") != sent.Body {
		t.Fatalf("ada read %v", got)
	}
	res, err := ada.Result(t, map[string]any{"cmd": "aesgcm_fetch", "url": got.Get("body")})
	sum := sha256.Sum256(data)
	if err != nil || res.Get("sha256") != hex.EncodeToString(sum[:]) {
		t.Fatalf("ada fetched and decrypted: %v %v", res, err)
	}

	up, err := ada.Result(t, map[string]any{"cmd": "aesgcm_upload", "data": hex.EncodeToString(data[:1000]), "name": "minutes.txt", "service": xmpptest.UploadService})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := ada.Result(t, map[string]any{"cmd": "omemo_groupchat", "room": secret, "body": up.Get("link"), "version": "0.3"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("ada could not send the link: %v %v", ev, err)
	}
	m := a.r.wait(t, "ada's file", is(func(m chat.MessageReceived) bool { return m.Conv == chat.RoomConv(secret) && m.File != nil })).(chat.MessageReceived)
	if m.File.Name != "minutes.txt" || m.OMEMO == nil {
		t.Fatalf("received as %+v", m.File)
	}
	dir := t.TempDir()
	fid := a.c.Do(chat.FetchFile{Conv: m.Conv, URL: m.File.URL, Dir: dir})
	done := a.r.wait(t, "the download", is(func(e chat.FileFetched) bool { return e.CommandID == fid })).(chat.FileFetched)
	if b, err := os.ReadFile(done.Path); done.Err != nil || err != nil || !bytes.Equal(b, data[:1000]) {
		t.Fatalf("fetched %+v: %v", done, err)
	}
}
