package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// peerMsg waits for the peer's message with body in gab's events.
func peerMsg(t *testing.T, a *running, from int, body string) (chat.MessageReceived, int) {
	t.Helper()
	ev, i := a.r.waitFrom(t, from, "the message "+body, xmpptest.RoundTrip, is(func(e chat.MessageReceived) bool { return e.Body == body }))
	return ev.(chat.MessageReceived), i
}

// sendAndWait sends a message from gab and returns it as sent.
func sendAndWait(t *testing.T, a *running, cmd chat.SendMessage) chat.MessageSent {
	t.Helper()
	id := a.c.Do(cmd)
	ev := a.r.wait(t, "our message "+cmd.Body, is(func(e chat.MessageSent) bool { return e.CommandID == id })).(chat.MessageSent)
	a.r.wait(t, "its answer", is(func(e chat.CommandDone) bool { return e.ID == id }))
	return ev
}

// fails runs a command and returns the reason it failed.
func (rc *running) fails(t *testing.T, cmd chat.Command) error {
	t.Helper()
	id := rc.c.Do(cmd)
	ev := rc.r.wait(t, fmt.Sprintf("outcome of %T", cmd), answerOf(id))
	f, ok := ev.(chat.CommandFailed)
	if !ok {
		t.Fatalf("%T succeeded; it should have failed", cmd)
	}
	return f.Err
}

func reactionsOn(id int64) func(chat.Event) bool {
	return is(func(e chat.ReactionsChanged) bool { return e.StoreID == id })
}

// In a chat, against a slixmpp peer sending as slixmpp clients do: a
// reply each way (with the fallback quote cut out here and put in for
// the peer), reactions each way (changed, removed), retraction each way,
// a forged retraction and moderation refused, hostile elements dropped
// with the session going on, files, and the store keeping it all across
// a restart and bringing what happened meanwhile through the archive.
func TestChatMessageActions(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	path := filepath.Join(t.TempDir(), "history.db")
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	p := srv.StartPeer(t, "peer", "pw")
	conv := chat.ChatWith("peer@localhost")

	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "lunch at noon?", "id": "p1"})
	in, _ := peerMsg(t, a, 0, "lunch at noon?")

	// gab replies: the peer reads the reply and the quote as a fallback.
	mark := p.Mark()
	sent := sendAndWait(t, a, chat.SendMessage{Conv: conv, Body: "yes", ReplyTo: in.StoreID})
	if sent.Reply == nil || sent.Reply.StoreID != in.StoreID || sent.Reply.ID != "p1" || sent.Reply.Quote != "lunch at noon?" {
		t.Fatalf("sent reply %+v", sent.Reply)
	}
	got := p.WaitFrom(t, mark, xmpptest.RoundTrip, "gab's reply", func(e xmpptest.PeerEvent) bool { return e.Get("event") == "reply" })
	if got.Get("target") != "p1" || got.Get("to") != "peer@localhost" || got.Get("stripped") != "yes" ||
		got.Get("body") != "> peer@localhost: lunch at noon?\nyes" || got["fallback"] != true {
		t.Fatalf("the peer read %v", got)
	}

	// The peer replies to ours: the quote is cut, the reply resolved.
	p.Must(t, map[string]any{"cmd": "reply", "to": "alice@localhost", "id": sent.ID, "reply_to": "alice@localhost", "quote": "alice: yes", "body": "great"})
	rep, _ := peerMsg(t, a, 0, "great")
	if rep.Reply == nil || rep.Reply.StoreID != sent.StoreID || rep.Reply.Quote != "yes" || rep.Reply.ID != sent.ID {
		t.Fatalf("received reply %+v", rep.Reply)
	}

	// Reactions: the peer's set, changed, then removed.
	for _, tc := range []struct {
		values []any
		want   []chat.Reaction
	}{
		{[]any{"👍", "😀"}, []chat.Reaction{{Emoji: "👍", Count: 1}, {Emoji: "😀", Count: 1}}},
		{[]any{"❤"}, []chat.Reaction{{Emoji: "❤", Count: 1}}},
		{[]any{}, []chat.Reaction{}},
	} {
		from := len(a.r.snapshot())
		p.Must(t, map[string]any{"cmd": "react", "to": "alice@localhost", "id": sent.ID, "values": tc.values})
		ev, _ := a.r.waitFrom(t, from, "the peer's reactions", xmpptest.RoundTrip, reactionsOn(sent.StoreID))
		if r := ev.(chat.ReactionsChanged).Reactions; len(r) != len(tc.want) || (len(r) > 0 && !reflect.DeepEqual(r, tc.want)) {
			t.Fatalf("reactions %v, want %v", r, tc.want)
		}
	}
	// Ours on the peer's message.
	mark = p.Mark()
	a.do(t, chat.SendReaction{Conv: conv, StoreID: in.StoreID, Emojis: []string{"🎉"}})
	own := a.r.wait(t, "our reaction", reactionsOn(in.StoreID)).(chat.ReactionsChanged)
	if !reflect.DeepEqual(own.Reactions, []chat.Reaction{{Emoji: "🎉", Count: 1, Own: true}}) {
		t.Fatalf("our reaction: %+v", own)
	}
	if r := p.WaitFrom(t, mark, xmpptest.RoundTrip, "gab's reaction", func(e xmpptest.PeerEvent) bool { return e.Get("event") == "reactions" }); r.Get("target") != "p1" || r.Get("values") != "[🎉]" {
		t.Fatalf("the peer read %v", r)
	}

	// A forged retraction (the peer names our message) and a moderation
	// in a chat are refused and noted; nothing changes.
	keep := sendAndWait(t, a, chat.SendMessage{Conv: conv, Body: "keep me"})
	from := len(a.r.snapshot())
	p.Must(t, map[string]any{"cmd": "retract", "to": "alice@localhost", "id": keep.ID})
	ref := a.r.wait(t, "the forged retraction refused", is(func(e chat.ActionRefused) bool { return e.Conv == conv })).(chat.ActionRefused)
	if !strings.Contains(ref.What, "did not write") || !strings.HasPrefix(ref.From, p.JID+"/") {
		t.Fatalf("refusal %+v", ref)
	}
	p.Must(t, map[string]any{"cmd": "raw", "xml": `<message to='alice@localhost' type='chat'><apply-to xmlns='urn:xmpp:fasten:0' id='` + keep.ID + `'><moderated xmlns='urn:xmpp:message-moderate:0' by='x'><retract xmlns='urn:xmpp:message-retract:0'/></moderated></apply-to></message>`})
	a.r.waitFrom(t, from, "the forged moderation refused", xmpptest.RoundTrip, is(func(e chat.ActionRefused) bool { return strings.Contains(e.What, "moderation") }))

	// Hostile elements: dropped, and the session goes on.
	var flood strings.Builder
	for i := 0; i < 100; i++ {
		flood.WriteString("<reaction>" + string(rune(0x1F600+i)) + "</reaction>")
	}
	for _, x := range []string{
		`<message to='alice@localhost' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='` + keep.ID + `'>` + flood.String() + `</reactions></message>`,
		`<message to='alice@localhost' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='` + keep.ID + `'><reaction>` + strings.Repeat("😀", 200) + `</reaction></reactions></message>`,
		// A reaction of "ours" forged in a carbon, to take a place in the tally.
		`<message to='alice@localhost' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@localhost/x' to='peer@localhost' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='p1'><reaction>💩</reaction></reactions></message></forwarded></sent></message>`,
		`<message to='alice@localhost' type='chat'><body>&gt; q` + "\n" + `huge range</body><reply xmlns='urn:xmpp:reply:0' id='p1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='4294967296000'/></fallback></message>`,
		`<message to='alice@localhost' type='chat'><body>nested junk</body><reply xmlns='urn:xmpp:reply:0' id='p1'><reply xmlns='urn:xmpp:reply:0' id='x'><b><c/></b></reply></reply><fallback xmlns='urn:xmpp:feature-fallback:0' for='urn:xmpp:reply:0'><body start='-5' end='x'><fallback/></body></fallback></message>`,
	} {
		p.Must(t, map[string]any{"cmd": "raw", "xml": x})
	}
	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "sentinel 1"})
	huge, i := peerMsg(t, a, from, "> q\nhuge range")
	nested, _ := peerMsg(t, a, i, "nested junk")
	peerMsg(t, a, i, "sentinel 1")
	if huge.Reply == nil || huge.Reply.StoreID != in.StoreID || nested.Reply == nil || nested.Reply.StoreID != in.StoreID {
		t.Fatalf("hostile replies: %+v / %+v", huge.Reply, nested.Reply)
	}
	notices, forged := 0, 0
	for _, ev := range a.r.snapshot()[from:] {
		switch e := ev.(type) {
		case chat.Notice:
			if strings.Contains(e.Text, "reactions") {
				notices++
			}
			if strings.Contains(e.Text, "forged carbon") {
				forged++
			}
		case chat.ReactionsChanged, chat.MessageRetracted:
			t.Fatalf("a forged or hostile action was applied: %+v", e)
		}
	}
	if notices != 2 || forged != 1 {
		t.Fatalf("%d notices of hostile reaction sets, want 2; %d of a forged carbon, want 1", notices, forged)
	}

	// Retraction each way.
	mark = p.Mark()
	a.do(t, chat.RetractMessage{Conv: conv, StoreID: sent.StoreID})
	a.r.wait(t, "our retraction", is(func(e chat.MessageRetracted) bool { return e.StoreID == sent.StoreID }))
	if r := p.WaitFrom(t, mark, xmpptest.RoundTrip, "gab's retraction", func(e xmpptest.PeerEvent) bool { return e.Get("event") == "retract" }); r.Get("target") != sent.ID || r["v1"] != true || r["v0"] != true || r["fallback"] != true || r.Get("body") == "" {
		t.Fatalf("the peer read %v", r)
	}
	if err := a.fails(t, chat.RetractMessage{Conv: conv, StoreID: in.StoreID}); !strings.Contains(err.Error(), "only your own") {
		t.Fatalf("retracting the peer's message: %v", err)
	}
	p.Must(t, map[string]any{"cmd": "retract", "to": "alice@localhost", "id": "p1"})
	a.r.wait(t, "the peer's retraction", is(func(e chat.MessageRetracted) bool { return e.StoreID == in.StoreID && !e.Moderated }))

	// Files: out-of-band with a size, and a bare URL.
	p.Must(t, map[string]any{"cmd": "oob", "to": "alice@localhost", "url": "https://files.localhost/x/report%202026.pdf", "desc": "52341"})
	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "https://files.localhost/y/cat.jpg"})
	oob, _ := peerMsg(t, a, 0, "https://files.localhost/x/report%202026.pdf")
	bare, _ := peerMsg(t, a, 0, "https://files.localhost/y/cat.jpg")
	if oob.File == nil || oob.File.Name != "report 2026.pdf" || oob.File.Size != 52341 || bare.File == nil || bare.File.Name != "cat.jpg" || bare.File.Size != -1 {
		t.Fatalf("files: %+v / %+v", oob.File, bare.File)
	}

	// While gab is away the peer reacts and retracts; the archive brings
	// both at the next start, applied to the reopened store.
	a.stop()
	store.Close()
	p.Must(t, map[string]any{"cmd": "react", "to": "alice@localhost", "id": keep.ID, "values": []any{"👀"}})
	p.Must(t, map[string]any{"cmd": "retract", "to": "alice@localhost", "id": rep.ID})
	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "asked while away", "id": "p20"})
	p.Must(t, map[string]any{"cmd": "reply", "to": "alice@localhost", "id": "p20", "reply_to": "peer@localhost", "quote": "peer: asked while away", "body": "and answered"})
	store, err = history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a2 := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	a2.r.wait(t, "the reaction from the archive", is(func(e chat.ReactionsChanged) bool {
		return e.StoreID == keep.StoreID && reflect.DeepEqual(e.Reactions, []chat.Reaction{{Emoji: "👀", Count: 1}})
	}))
	a2.r.wait(t, "the retraction from the archive", is(func(e chat.MessageRetracted) bool { return e.StoreID == rep.StoreID }))
	// A reply and the message it answers in one page of the archive.
	asked, _ := peerMsg(t, a2, 0, "asked while away")
	answered, _ := peerMsg(t, a2, 0, "and answered")
	if answered.Reply == nil || answered.Reply.StoreID != asked.StoreID || asked.StoreID == 0 || answered.Reply.Quote != "asked while away" {
		t.Fatalf("a reply caught up with its message: %+v (message row %d)", answered.Reply, asked.StoreID)
	}

	// The history read back shows the same conversation.
	id := a2.c.Do(chat.LoadHistory{Conv: conv})
	page := a2.r.wait(t, "the history", is(func(e chat.HistoryLoaded) bool { return e.Conv == conv })).(chat.HistoryLoaded)
	a2.r.wait(t, "its answer", answerOf(id))
	rows := map[int64]chat.StoredMessage{}
	for _, m := range page.Messages {
		rows[m.StoreID] = m
	}
	if m := rows[in.StoreID]; m.Retracted == nil || m.Body != "" || len(m.Reactions) != 0 {
		t.Errorf("the peer's retracted message: %+v", m)
	}
	if m := rows[sent.StoreID]; m.Retracted == nil || m.Body != "" || m.Reply != nil {
		t.Errorf("our retracted reply: %+v", m)
	}
	if m := rows[rep.StoreID]; m.Retracted == nil {
		t.Errorf("the reply retracted while away: %+v", m)
	}
	if m := rows[keep.StoreID]; m.Body != "keep me" || m.Retracted != nil || !reflect.DeepEqual(m.Reactions, []chat.Reaction{{Emoji: "👀", Count: 1}}) {
		t.Errorf("the message kept: %+v", m)
	}
	if m := rows[huge.StoreID]; m.Reply == nil || m.Reply.StoreID != in.StoreID {
		t.Errorf("a reply read back: %+v", m)
	}
	if m := rows[oob.StoreID]; m.File == nil || *m.File != *oob.File {
		t.Errorf("a file read back: %+v", m)
	}
	if n, _ := store.Edits(context.Background(), in.StoreID); len(n) != 0 {
		t.Errorf("edits kept for a tombstone")
	}
}

// groupchatOf waits for the peer to see a room message with body.
func groupchatOf(t *testing.T, p *xmpptest.Peer, mark int, body string) xmpptest.PeerEvent {
	t.Helper()
	return p.WaitFrom(t, mark, xmpptest.RoundTrip, "the room message "+body, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "groupchat" && e.Get("body") == body
	})
}

// In a room on Prosody (occupant-ids, mod_muc_moderation), with slixmpp
// occupants: replies and reactions each way (ours applied once, though the
// room reflects them), retraction each way, a forged retraction,
// reaction from the room and moderation refused, moderation by a
// moderator peer and by gab as the room's owner, gab refused where it
// is no moderator, and what happened while gab was away brought by the
// room's archive.
func TestRoomMessageActions(t *testing.T) {
	srv := mucServer(t, "alice", "ada", "bob")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada") // the owner: a moderator
	bob := srv.StartPeer(t, "bob", "pw")
	bob.Join(t, tea, "bob")
	path := filepath.Join(t.TempDir(), "history.db")
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joined := joinRoom(t, a, tea, "alice", "")
	conv := chat.RoomConv(tea)

	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "hello all"})
	hello, _ := peerMsg(t, a, 0, "hello all")
	if hello.ArchiveID == "" || hello.OccupantID == "" {
		t.Fatalf("room message without ids: %+v", hello)
	}

	// gab replies: naming ada's message by the room's stanza-id.
	mark := ada.Mark()
	sent := sendAndWait(t, a, chat.SendMessage{Conv: conv, Body: "hi ada", ReplyTo: hello.StoreID})
	got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "gab's reply", func(e xmpptest.PeerEvent) bool { return e.Get("event") == "reply" })
	if got.Get("target") != hello.ArchiveID || got.Get("to") != tea+"/ada" || got.Get("stripped") != "hi ada" || got.Get("body") != "> ada: hello all\nhi ada" {
		t.Fatalf("ada read %v", got)
	}
	ours := groupchatOf(t, ada, mark, "> ada: hello all\nhi ada")
	a.r.wait(t, "our reply reflected", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryReceived }))

	// ada replies to ours, by the stanza-id the room gave it.
	ada.Must(t, map[string]any{"cmd": "reply", "type": "groupchat", "to": tea, "id": ours.Get("stanza_id"), "reply_to": tea + "/alice", "quote": "alice: hi ada", "body": "welcome"})
	rep, _ := peerMsg(t, a, 0, "welcome")
	if rep.Reply == nil || rep.Reply.StoreID != sent.StoreID || rep.Reply.Quote != "hi ada" || rep.Reply.Author != "alice" {
		t.Fatalf("ada's reply %+v", rep.Reply)
	}

	// Reactions by occupant: ada's, replaced; bob's beside them; ours,
	// applied once although the room reflects it.
	react := func(p *xmpptest.Peer, id string, values ...any) {
		p.Must(t, map[string]any{"cmd": "react", "type": "groupchat", "to": tea, "id": id, "values": values})
	}
	from := len(a.r.snapshot())
	react(ada, ours.Get("stanza_id"), "👍")
	a.r.waitFrom(t, from, "ada's reaction", xmpptest.RoundTrip, reactionsOn(sent.StoreID))
	from = len(a.r.snapshot())
	react(bob, ours.Get("stanza_id"), "👍", "😂")
	a.r.waitFrom(t, from, "bob's reaction", xmpptest.RoundTrip, reactionsOn(sent.StoreID))
	from = len(a.r.snapshot())
	react(ada, ours.Get("stanza_id"), "❤")
	ev, _ := a.r.waitFrom(t, from, "ada's new reaction", xmpptest.RoundTrip, reactionsOn(sent.StoreID))
	if r := ev.(chat.ReactionsChanged).Reactions; !reflect.DeepEqual(r, []chat.Reaction{{Emoji: "👍", Count: 1}, {Emoji: "😂", Count: 1}, {Emoji: "❤", Count: 1}}) {
		t.Fatalf("tally %+v", r)
	}
	mark = ada.Mark()
	from = len(a.r.snapshot())
	a.do(t, chat.SendReaction{Conv: conv, StoreID: hello.StoreID, Emojis: []string{"🎉"}})
	r := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "gab's reaction", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "reactions" && e.Get("from") == tea+"/alice"
	})
	if r.Get("target") != hello.ArchiveID || r.Get("occupant_id") != joined.Self.OccupantID {
		t.Fatalf("ada read %v", r)
	}
	// The reflection has come back to gab once ada has it; a sentinel
	// after it shows it changed nothing.
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "sentinel 1"})
	_, end := peerMsg(t, a, from, "sentinel 1")
	n := 0
	for _, ev := range a.r.snapshot()[from:end] {
		if e, ok := ev.(chat.ReactionsChanged); ok && e.StoreID == hello.StoreID {
			n++
			if !reflect.DeepEqual(e.Reactions, []chat.Reaction{{Emoji: "🎉", Count: 1, Own: true}}) {
				t.Fatalf("our reaction: %+v", e)
			}
		}
	}
	if n != 1 {
		t.Fatalf("our reaction applied %d times", n)
	}

	// Forgeries: bob retracts ada's message; bob announces a moderation;
	// the refusals are noted and nothing changes.
	from = len(a.r.snapshot())
	bob.Must(t, map[string]any{"cmd": "retract", "type": "groupchat", "to": tea, "id": hello.ArchiveID})
	a.r.waitFrom(t, from, "bob's retraction refused", xmpptest.RoundTrip, is(func(e chat.ActionRefused) bool {
		return e.Conv == conv && e.From == tea+"/bob" && strings.Contains(e.What, "did not write")
	}))
	bob.Must(t, map[string]any{"cmd": "raw", "xml": `<message to='` + tea + `' type='groupchat'><apply-to xmlns='urn:xmpp:fasten:0' id='` + hello.ArchiveID + `'><moderated xmlns='urn:xmpp:message-moderate:0' by='` + tea + `/ada'><retract xmlns='urn:xmpp:message-retract:0'/></moderated></apply-to></message>`})
	a.r.waitFrom(t, from, "bob's moderation refused", xmpptest.RoundTrip, is(func(e chat.ActionRefused) bool {
		return e.From == tea+"/bob" && strings.Contains(e.What, "moderation")
	}))
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "sentinel 2"})
	_, end = peerMsg(t, a, from, "sentinel 2")
	for _, ev := range a.r.snapshot()[from:end] {
		if e, ok := ev.(chat.MessageRetracted); ok {
			t.Fatalf("a forgery was applied: %+v", e)
		}
	}

	// Retraction each way.
	mark = ada.Mark()
	a.do(t, chat.RetractMessage{Conv: conv, StoreID: sent.StoreID})
	a.r.wait(t, "our retraction", is(func(e chat.MessageRetracted) bool { return e.StoreID == sent.StoreID }))
	// (bob's forged retraction above may reach ada after the mark.)
	if r := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "gab's retraction", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "retract" && e.Get("from") == tea+"/alice"
	}); r.Get("target") != ours.Get("stanza_id") || r["v1"] != true || r["v0"] != true {
		t.Fatalf("ada read %v", r)
	}
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "oops"})
	oops, _ := peerMsg(t, a, 0, "oops")
	bob.Must(t, map[string]any{"cmd": "retract", "type": "groupchat", "to": tea, "id": oops.ArchiveID})
	a.r.wait(t, "bob's own retraction", is(func(e chat.MessageRetracted) bool { return e.StoreID == oops.StoreID && !e.Moderated }))

	// Moderation by ada, a moderator: announced by the room.
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "spam spam"})
	spam, _ := peerMsg(t, a, 0, "spam spam")
	ada.Must(t, map[string]any{"cmd": "moderate", "room": tea, "stanza_id": spam.ArchiveID, "reason": "no spam"})
	mod := a.r.wait(t, "the moderation", is(func(e chat.MessageRetracted) bool { return e.StoreID == spam.StoreID })).(chat.MessageRetracted)
	if !mod.Moderated || mod.By != tea+"/ada" || mod.Reason != "no spam" {
		t.Fatalf("moderation %+v", mod)
	}
	// gab is no moderator here: the room refuses, and says why.
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "not yours to remove"})
	other, _ := peerMsg(t, a, 0, "not yours to remove")
	if err := a.fails(t, chat.ModerateMessage{Conv: conv, StoreID: other.StoreID}); !strings.Contains(err.Error(), "not a moderator") {
		t.Fatalf("moderating as a participant: %v", err)
	}

	// gab as the owner of a room of its own moderates bob's message.
	den := xmpptest.Room("den")
	joinRoom(t, a, den, "alice", "")
	// The room is locked until its instant configuration, which gab sends
	// after the join: a message reflected after it says it is open.
	opened := sendAndWait(t, a, chat.SendMessage{Conv: chat.RoomConv(den), Body: "the den is open"})
	a.r.wait(t, "the den open", is(func(e chat.DeliveryChanged) bool { return e.ID == opened.ID && e.State == chat.DeliveryReceived }))
	bob.Join(t, den, "bob")
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": den, "body": "rude words"})
	rude, _ := peerMsg(t, a, 0, "rude words")
	mark = bob.Mark()
	a.do(t, chat.ModerateMessage{Conv: chat.RoomConv(den), StoreID: rude.StoreID, Reason: "be nice"})
	byUs := a.r.wait(t, "our moderation announced", is(func(e chat.MessageRetracted) bool { return e.StoreID == rude.StoreID })).(chat.MessageRetracted)
	if !byUs.Moderated || byUs.By != den+"/alice" || byUs.Reason != "be nice" {
		t.Fatalf("our moderation %+v", byUs)
	}
	if m := bob.WaitFrom(t, mark, xmpptest.RoundTrip, "the moderation", func(e xmpptest.PeerEvent) bool { return e.Get("event") == "moderated" }); m.Get("target") != rude.ArchiveID || m.Get("reason") != "be nice" {
		t.Fatalf("bob read %v", m)
	}

	// Away: ada reacts to the welcome and moderates bob's other message;
	// the room's archive brings both at the next join.
	a.stop()
	store.Close()
	react(ada, rep.ArchiveID, "🙂")
	ada.Must(t, map[string]any{"cmd": "moderate", "room": tea, "stanza_id": other.ArchiveID})
	store, err = history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a2 := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a2, tea, "alice", "")
	a2.r.wait(t, "the reaction from the room's archive", is(func(e chat.ReactionsChanged) bool {
		return e.StoreID == rep.StoreID && reflect.DeepEqual(e.Reactions, []chat.Reaction{{Emoji: "🙂", Count: 1}})
	}))
	a2.r.wait(t, "the moderation from the room's archive", is(func(e chat.MessageRetracted) bool { return e.StoreID == other.StoreID && e.Moderated }))

	rows := map[int64]history.Message{}
	for _, m := range roomRows(t, store, tea) {
		rows[m.ID] = m
	}
	for _, id := range []int64{sent.StoreID, oops.StoreID, spam.StoreID, other.StoreID} {
		if m := rows[id]; m.Retracted == nil || m.Body != "" {
			t.Errorf("not a tombstone: %+v", m)
		}
	}
	if m := rows[spam.StoreID]; !m.Retracted.Moderated || m.Retracted.Reason != "no spam" {
		t.Errorf("the moderation kept: %+v", m.Retracted)
	}
	if m := rows[hello.StoreID]; !reflect.DeepEqual(m.Reactions, []history.Reaction{{Emoji: "🎉", Count: 1, Own: true}}) {
		t.Errorf("our reaction kept: %+v", m.Reactions)
	}
	if m := rows[rep.StoreID]; m.Reply.ID != ours.Get("stanza_id") || m.Body != "welcome" {
		t.Errorf("the reply kept: %+v", m)
	}
}

// A reply written offline waits in the outbox across a restart and goes
// out as a reply, with its quote: the outbox rebuilds it from the store.
func TestReplyWrittenOfflineSurvivesARestart(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	path := filepath.Join(t.TempDir(), "alice.db")
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	q := &history.Message{Peer: "bob@localhost", Direction: history.In, From: "bob@localhost/gab", To: "alice@localhost/gab", Body: "question\nmore", StanzaID: "b1"}
	if err := store.Append([]*history.Message{q}); err != nil {
		t.Fatal(err)
	}
	sent := queueOffline(t, srv, store, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "answer", ReplyTo: q.ID})
	if sent.Body != "answer" || sent.Reply == nil || sent.Reply.StoreID != q.ID || sent.Reply.Quote != "question" {
		t.Fatalf("queued %+v (reply %+v)", sent, sent.Reply)
	}
	b := startAgain(t, srv, path)
	got := b.r.wait(t, "the reply from the last run", is(func(e chat.MessageReceived) bool { return e.Reply != nil })).(chat.MessageReceived)
	if got.Body != "answer" || got.Reply.ID != "b1" || got.Reply.To != "bob@localhost" || got.Reply.Quote != "bob@localhost: question" || got.Reply.Author != "bob@localhost" {
		t.Fatalf("bob got %q with %+v", got.Body, got.Reply)
	}
}

// Our reaction and retraction from another of our devices reach this one
// as carbons and are applied, as ours, once.
func TestActionsFromOurOtherDevice(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	a := start(t, account(t, srv, "alice", "pw", "desk"), chat.Options{Store: openStore(t)})
	phone := start(t, account(t, srv, "alice", "pw", "phone"), chat.Options{Store: openStore(t)})
	p := srv.StartPeer(t, "peer", "pw")
	conv := chat.ChatWith("peer@localhost")
	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "to both", "id": "p9"})
	inA, _ := peerMsg(t, a, 0, "to both")
	inPhone, _ := peerMsg(t, phone, 0, "to both")

	phone.do(t, chat.SendReaction{Conv: conv, StoreID: inPhone.StoreID, Emojis: []string{"👍"}})
	ev := a.r.wait(t, "our reaction from the phone", reactionsOn(inA.StoreID)).(chat.ReactionsChanged)
	if !reflect.DeepEqual(ev.Reactions, []chat.Reaction{{Emoji: "👍", Count: 1, Own: true}}) {
		t.Fatalf("reaction from our other device: %+v", ev)
	}

	// The phone's message comes as a sent carbon; its retraction too.
	phone.do(t, chat.SendMessage{Conv: conv, Body: "sent from the phone"})
	mine := a.r.wait(t, "the phone's message", is(func(e chat.CarbonSent) bool { return e.Body == "sent from the phone" })).(chat.CarbonSent)
	row := phone.r.wait(t, "the phone's own copy", is(func(e chat.MessageSent) bool { return e.Body == "sent from the phone" })).(chat.MessageSent)
	from := len(a.r.snapshot())
	phone.do(t, chat.RetractMessage{Conv: conv, StoreID: row.StoreID})
	a.r.wait(t, "our retraction from the phone", is(func(e chat.MessageRetracted) bool { return e.StoreID == mine.StoreID }))
	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "sentinel"})
	_, end := peerMsg(t, a, from, "sentinel")
	for _, e := range a.r.snapshot()[from:end] {
		if r, ok := e.(chat.ActionRefused); ok {
			t.Fatalf("our own retraction refused: %+v", r)
		}
	}
}

// Rooms that give no occupant-ids (ejabberd 23.01): reactions are keyed,
// and retractions judged, by nick.
func TestRoomActionsByNickEjabberd(t *testing.T) {
	srv := ejabberdRooms(t, "alice", "ada", "bob")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	bob := srv.StartPeer(t, "bob", "pw")
	bob.Join(t, tea, "bob")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t)})
	joinRoom(t, a, tea, "alice", "")
	conv := chat.RoomConv(tea)

	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "hello all"})
	hello, _ := peerMsg(t, a, 0, "hello all")
	if hello.ArchiveID == "" || hello.OccupantID != "" {
		t.Fatalf("room message ids: %+v", hello)
	}
	mark := ada.Mark()
	sent := sendAndWait(t, a, chat.SendMessage{Conv: conv, Body: "hi ada", ReplyTo: hello.StoreID})
	if got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "gab's reply", func(e xmpptest.PeerEvent) bool { return e.Get("event") == "reply" }); got.Get("target") != hello.ArchiveID || got.Get("stripped") != "hi ada" {
		t.Fatalf("ada read %v", got)
	}
	ours := groupchatOf(t, ada, mark, "> ada: hello all\nhi ada")
	a.r.wait(t, "our reply reflected", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryReceived }))

	from := len(a.r.snapshot())
	ada.Must(t, map[string]any{"cmd": "react", "type": "groupchat", "to": tea, "id": ours.Get("stanza_id"), "values": []any{"👍"}})
	bob.Must(t, map[string]any{"cmd": "react", "type": "groupchat", "to": tea, "id": ours.Get("stanza_id"), "values": []any{"👍"}})
	a.r.waitFrom(t, from, "two reactions by nick", xmpptest.RoundTrip, is(func(e chat.ReactionsChanged) bool {
		return e.StoreID == sent.StoreID && reflect.DeepEqual(e.Reactions, []chat.Reaction{{Emoji: "👍", Count: 2}})
	}))

	bob.Must(t, map[string]any{"cmd": "retract", "type": "groupchat", "to": tea, "id": hello.ArchiveID})
	a.r.waitFrom(t, from, "bob's retraction of ada's message refused", xmpptest.RoundTrip, is(func(e chat.ActionRefused) bool { return e.From == tea+"/bob" }))
	ada.Must(t, map[string]any{"cmd": "retract", "type": "groupchat", "to": tea, "id": hello.ArchiveID})
	a.r.waitFrom(t, from, "ada's own retraction", xmpptest.RoundTrip, is(func(e chat.MessageRetracted) bool { return e.StoreID == hello.StoreID }))
}

// A file message of ours left unsent by the last run goes out in this one
// with its out-of-band element: the outbox reads the file from the store.
func TestFileMessageFromTheLastRunKeepsItsLink(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	store := openStore(t)
	url := "https://upload.example/abc/report%202026.pdf"
	left := &history.Message{Peer: "bob@localhost", Direction: history.Out, From: "alice@localhost/gab", To: "bob@localhost", Body: url,
		StanzaID: "f1", OriginID: "f1", State: history.StatePending, Time: time.Now(),
		File: history.File{URL: url, Name: "report 2026.pdf", Size: 1234}}
	if err := store.Append([]*history.Message{left}); err != nil {
		t.Fatal(err)
	}
	bob := srv.StartPeer(t, "bob", "pw")
	start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	got, ok := bob.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "message" && e.Get("body") == url })
	if !ok {
		t.Fatalf("bob never got the file message: %v", bob.Events())
	}
	if got.Get("oob") != url {
		t.Fatalf("the file message went out without its out-of-band link: %v", got)
	}
}
