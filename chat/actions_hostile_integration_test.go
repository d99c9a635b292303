package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// A removed message stays removed, and nothing else keeps its text: a
// correction its author sends of it afterwards does not put the text back
// into the tombstone (it is shown as a new message, as any correction
// that may not correct), and the quote of a reply to it — stored before
// the removal, or sent after it — is dropped.
func TestRemovedMessageTextDoesNotComeBack(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	store, err := history.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	p := srv.StartPeer(t, "peer", "pw")
	conv := chat.ChatWith("peer@localhost")
	ctx := context.Background()

	// A correction of the retracted message.
	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "words to take back", "id": "s1"})
	gone, _ := peerMsg(t, a, 0, "words to take back")
	p.Must(t, map[string]any{"cmd": "retract", "to": "alice@localhost", "id": "s1"})
	a.r.wait(t, "the retraction", is(func(e chat.MessageRetracted) bool { return e.StoreID == gone.StoreID }))
	from := len(a.r.snapshot())
	p.Must(t, map[string]any{"cmd": "raw", "xml": `<message to='alice@localhost' type='chat' id='s2'><body>words to take back, again</body><replace xmlns='urn:xmpp:message-correct:0' id='s1'/></message>`})
	again, _ := peerMsg(t, a, from, "words to take back, again")
	if !strings.Contains(again.Note, "removed message") {
		t.Errorf("the correction of a removed message is shown without its note: %+v", again)
	}
	for _, ev := range a.r.snapshot()[from:] {
		if e, ok := ev.(chat.MessageCorrected); ok {
			t.Errorf("a removed message was corrected: %+v", e)
		}
	}
	if m, _, _ := store.Get(ctx, gone.StoreID); m.Body != "" || m.Retracted == nil {
		t.Errorf("the tombstone holds text again: %+v", m)
	}
	if e, _ := store.Edits(ctx, gone.StoreID); len(e) != 0 {
		t.Errorf("edits kept for a tombstone: %+v", e)
	}

	// A reply to a message, then the message retracted.
	p.Must(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "meet at the old mill", "id": "s3"})
	said, _ := peerMsg(t, a, 0, "meet at the old mill")
	p.Must(t, map[string]any{"cmd": "reply", "to": "alice@localhost", "id": "s3", "reply_to": "peer@localhost", "quote": "peer: meet at the old mill", "body": "see you there"})
	rep, _ := peerMsg(t, a, 0, "see you there")
	if rep.Reply == nil || rep.Reply.StoreID != said.StoreID || rep.Reply.Quote != "meet at the old mill" {
		t.Fatalf("the reply: %+v", rep.Reply)
	}
	p.Must(t, map[string]any{"cmd": "retract", "to": "alice@localhost", "id": "s3"})
	a.r.wait(t, "the retraction", is(func(e chat.MessageRetracted) bool { return e.StoreID == said.StoreID }))
	// A reply to it after the retraction, quoting it.
	p.Must(t, map[string]any{"cmd": "reply", "to": "alice@localhost", "id": "s3", "reply_to": "peer@localhost", "quote": "peer: meet at the old mill", "body": "still on?"})
	late, _ := peerMsg(t, a, 0, "still on?")
	if late.Reply == nil || late.Reply.StoreID != said.StoreID || late.Reply.Quote != "" {
		t.Errorf("a reply to a removed message quotes it: %+v", late.Reply)
	}
	if m, _, _ := store.Get(ctx, rep.StoreID); m.Reply.Quote != "" {
		t.Errorf("the stored reply keeps the removed message's text: %q", m.Reply.Quote)
	}
	if m, _, _ := store.Get(ctx, late.StoreID); m.Reply.Quote != "" {
		t.Errorf("the stored late reply keeps the removed message's text: %q", m.Reply.Quote)
	}
	id := a.c.Do(chat.LoadHistory{Conv: conv})
	page := a.r.wait(t, "the history", is(func(e chat.HistoryLoaded) bool { return e.Conv == conv })).(chat.HistoryLoaded)
	a.r.wait(t, "its answer", answerOf(id))
	for _, m := range page.Messages {
		if (m.StoreID == rep.StoreID || m.StoreID == late.StoreID) && (m.Reply == nil || m.Reply.Quote != "") {
			t.Errorf("a reply read back quotes the removed message: %+v", m.Reply)
		}
	}
}

// In a room, a message a moderator removed stays removed when its author
// then sends a correction of it: the correction is a new message, which
// the moderator can remove in turn; and a reply quoting the removed
// message keeps nothing of it.
func TestRoomModeratedMessageStaysRemoved(t *testing.T) {
	srv := mucServer(t, "alice", "ada", "bob")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada") // the owner: a moderator
	bob := srv.StartPeer(t, "bob", "pw")
	bob.Join(t, tea, "bob")
	store, err := history.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	ctx := context.Background()

	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "rude words", "id": "rw1"})
	rude, _ := peerMsg(t, a, 0, "rude words")
	ada.Must(t, map[string]any{"cmd": "reply", "type": "groupchat", "to": tea, "id": rude.ArchiveID, "reply_to": tea + "/bob", "quote": "bob: rude words", "body": "please don't"})
	rep, _ := peerMsg(t, a, 0, "please don't")
	if rep.Reply == nil || rep.Reply.StoreID != rude.StoreID || rep.Reply.Quote != "rude words" {
		t.Fatalf("ada's reply: %+v", rep.Reply)
	}
	ada.Must(t, map[string]any{"cmd": "moderate", "room": tea, "stanza_id": rude.ArchiveID, "reason": "no"})
	a.r.wait(t, "the moderation", is(func(e chat.MessageRetracted) bool { return e.StoreID == rude.StoreID && e.Moderated }))
	from := len(a.r.snapshot())
	bob.Must(t, map[string]any{"cmd": "raw", "xml": `<message to='` + tea + `' type='groupchat' id='rw2'><body>rude words, again</body><replace xmlns='urn:xmpp:message-correct:0' id='rw1'/></message>`})
	again, _ := peerMsg(t, a, from, "rude words, again")
	if !strings.Contains(again.Note, "removed message") || again.StoreID == rude.StoreID {
		t.Errorf("the correction of a moderated message: %+v", again)
	}
	for _, ev := range a.r.snapshot()[from:] {
		if e, ok := ev.(chat.MessageCorrected); ok {
			t.Errorf("a moderated message was corrected: %+v", e)
		}
	}
	if m, _, _ := store.Get(ctx, rude.StoreID); m.Body != "" || m.Retracted == nil || !m.Retracted.Moderated {
		t.Errorf("the tombstone: %+v", m)
	}
	if m, _, _ := store.Get(ctx, rep.StoreID); m.Reply.Quote != "" {
		t.Errorf("the reply keeps the moderated text: %q", m.Reply.Quote)
	}
}

// Paging back into a room's archive brings a message after its retraction
// (the newer page comes first): the retraction, kept from the newer page,
// is applied to it when it comes, so the removed text does not come back.
func TestRoomPagingBackBringsRetractedMessageRemoved(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	mark := ada.Mark()
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "take this back"})
	said := groupchatOf(t, ada, mark, "take this back")
	for i := 1; i <= 104; i++ {
		ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": fmt.Sprintf("m%d", i)})
	}
	ada.Must(t, map[string]any{"cmd": "retract", "type": "groupchat", "to": tea, "id": said.Get("stanza_id")})
	mark = ada.Mark()
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "last"})
	groupchatOf(t, ada, mark, "last")

	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	a.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea }))
	rows := roomRows(t, store, tea)
	if len(rows) == 0 || strings.HasPrefix(rows[0].Body, "take") {
		t.Fatalf("the catch-up stored %d rows, from %+v", len(rows), rows)
	}
	id := a.c.Do(chat.LoadHistory{Conv: chat.RoomConv(tea), Before: rows[0].ID, Limit: 50})
	page := a.r.wait(t, "the older page", is(func(e chat.HistoryLoaded) bool { return e.Conv == chat.RoomConv(tea) })).(chat.HistoryLoaded)
	a.r.wait(t, "the page's answer", answerOf(id))
	for _, m := range page.Messages {
		if strings.Contains(m.Body, "take this back") {
			t.Errorf("the retracted text came back: %+v", m)
		}
	}
	found := false
	for _, m := range roomRows(t, store, tea) {
		if m.ArchiveID == said.Get("stanza_id") {
			found = true
			if m.Body != "" || m.Retracted == nil {
				t.Errorf("the retracted message paged back: %+v", m)
			}
		}
	}
	if !found {
		t.Fatalf("the retracted message was not paged back (%d messages in the page)", len(page.Messages))
	}
}
