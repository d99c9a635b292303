package chat

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"mellium.im/xmpp/jid"
)

// Each element of acting on one message, as other clients send it
// (slixmpp's forms included, with their fallback bodies), translates to
// the one event it means; hostile ones to a notice or to a plain message.
func TestTranslateMessageActions(t *testing.T) {
	now := testSelf.Now()
	roomSelf := testSelf
	roomSelf.Room = func(bare string) (RoomSelf, bool) {
		return RoomSelf{Nick: "alice", OccupantID: "occ-alice"}, bare == "room@conf.localhost"
	}
	bob := func(k actionKind) actionIn {
		return actionIn{Kind: k, Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Time: now}
	}
	var flood strings.Builder
	for i := 0; i < maxReactions+1; i++ {
		flood.WriteString("<reaction>" + string(rune(0x1F600+i)) + "</reaction>")
	}
	cases := []struct {
		name string
		self Self
		xml  string
		want []Event
	}{
		{"reaction (slixmpp)", testSelf,
			`<message from='bob@localhost/pc' to='alice@localhost/gab' type='chat' id='r1'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍</reaction><reaction>❤️</reaction><reaction>👍</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>`,
			[]Event{func() actionIn { a := bob(actReact); a.Target, a.Emojis = "m1", []string{"👍", "❤️"}; return a }()}},
		{"reactions removed", testSelf,
			`<message from='bob@localhost/pc' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'/></message>`,
			[]Event{func() actionIn { a := bob(actReact); a.Target = "m1"; return a }()}},
		{"retraction :1 with its fallback body", testSelf,
			`<message from='bob@localhost/pc' type='chat' id='x'><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>This person attempted to retract a previous message</body></message>`,
			[]Event{func() actionIn { a := bob(actRetract); a.Target = "m1"; return a }()}},
		{"retraction :0 (slixmpp, fastening)", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body>This person attempted to retract a previous message, but your client does not support it.</body><fallback xmlns='urn:xmpp:fallback:0'/><apply-to xmlns='urn:xmpp:fasten:0' id='m1'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to><store xmlns='urn:xmpp:hints'/></message>`,
			[]Event{func() actionIn { a := bob(actRetract); a.Target = "m1"; return a }()}},
		{"another fastening is a message", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body>hi</body><apply-to xmlns='urn:xmpp:fasten:0' id='m1'><other xmlns='urn:x'/></apply-to></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "hi", Time: now}}},
		{"moderation :0 from the room (Prosody)", roomSelf,
			`<message from='room@conf.localhost' type='groupchat' id='a1'><apply-to xmlns='urn:xmpp:fasten:0' id='S1'><moderated xmlns='urn:xmpp:message-moderate:0' by='room@conf.localhost/mod'><retract xmlns='urn:xmpp:message-retract:0'/><reason>spam</reason></moderated></apply-to></message>`,
			[]Event{actionIn{Kind: actModerate, Conv: RoomConv("room@conf.localhost"), From: "room@conf.localhost", Bare: "room@conf.localhost", Target: "S1", By: "room@conf.localhost/mod", Reason: "spam", Time: now}}},
		{"moderation :1 from the room", roomSelf,
			`<message from='room@conf.localhost' type='groupchat'><retract xmlns='urn:xmpp:message-retract:1' id='S1'><moderated xmlns='urn:xmpp:message-moderate:1' by='room@conf.localhost/mod'><occupant-id xmlns='urn:xmpp:occupant-id:0' id='o9'/></moderated><reason>off topic</reason></retract></message>`,
			[]Event{actionIn{Kind: actModerate, Conv: RoomConv("room@conf.localhost"), From: "room@conf.localhost", Bare: "room@conf.localhost", Target: "S1", By: "room@conf.localhost/mod", Reason: "off topic", Time: now}}},
		{"moderation claimed by an occupant (judged by the client)", roomSelf,
			`<message from='room@conf.localhost/mallory' type='groupchat'><occupant-id xmlns='urn:xmpp:occupant-id:0' id='om'/><apply-to xmlns='urn:xmpp:fasten:0' id='S1'><moderated xmlns='urn:xmpp:message-moderate:0' by='room@conf.localhost/mod'><retract xmlns='urn:xmpp:message-retract:0'/></moderated></apply-to></message>`,
			[]Event{actionIn{Kind: actModerate, Conv: RoomConv("room@conf.localhost"), From: "room@conf.localhost/mallory", Bare: "room@conf.localhost", Nick: "mallory", OccupantID: "om", Target: "S1", By: "room@conf.localhost/mod", Time: now}}},
		{"room reaction by occupant-id", roomSelf,
			`<message from='room@conf.localhost/bob' type='groupchat'><occupant-id xmlns='urn:xmpp:occupant-id:0' id='ob'/><reactions xmlns='urn:xmpp:reactions:0' id='S1'><reaction>🎉</reaction></reactions></message>`,
			[]Event{actionIn{Kind: actReact, Conv: RoomConv("room@conf.localhost"), From: "room@conf.localhost/bob", Bare: "room@conf.localhost", Nick: "bob", OccupantID: "ob", Target: "S1", Emojis: []string{"🎉"}, Time: now}}},
		{"our reaction from another device (sent carbon)", testSelf,
			`<message from='alice@localhost' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@localhost/phone' to='bob@localhost' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍</reaction></reactions></message></forwarded></sent></message>`,
			[]Event{actionIn{Kind: actReact, Conv: ChatWith("bob@localhost"), From: "alice@localhost/gab", Bare: "alice@localhost", Outgoing: true, Target: "m1", Emojis: []string{"👍"}, Time: now}}},
		{"reply with slixmpp's fallback", testSelf,
			`<message from='bob@localhost/pc' type='chat' id='m2'><body>> Alice wrote:
> lunch at noon?
yes, see you</body><reply xmlns='urn:xmpp:reply:0' to='alice@localhost' id='m1'/><fallback xmlns='urn:xmpp:feature-fallback:0' for='urn:xmpp:reply:0'><body start='0' end='32'/></fallback></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), ID: "m2", From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "yes, see you", Time: now,
				Reply: &ReplyInfo{ID: "m1", To: "alice@localhost", Quote: "lunch at noon?"}}}},
		{"reply with the current fallback namespace, in code points", testSelf,
			`<message from='bob@localhost/pc' type='chat' id='m2'><body>> Ånne: ünïcode ✓
ok</body><reply xmlns='urn:xmpp:reply:0' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='18'/></fallback></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), ID: "m2", From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "ok", Time: now,
				Reply: &ReplyInfo{ID: "m1", Quote: "Ånne: ünïcode ✓"}}}},
		{"reply whose range runs out of the body", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body>short</body><reply xmlns='urn:xmpp:reply:0' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='99999999999999999999'/><body start='3' end='2'/><body start='-1' end='3'/></fallback></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "short", Time: now, Reply: &ReplyInfo{ID: "m1"}}}},
		{"reply whose range is the whole body keeps it", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body>> all quote</body><reply xmlns='urn:xmpp:reply:0' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='11'/></fallback></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "> all quote", Time: now, Reply: &ReplyInfo{ID: "m1", Quote: "all quote"}}}},
		{"a fallback for something else is not cut", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body>> x
y</body><reply xmlns='urn:xmpp:reply:0' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:other'><body start='0' end='4'/></fallback></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "> x\ny", Time: now, Reply: &ReplyInfo{ID: "m1"}}}},
		{"a correction of a reply shows no quote", testSelf,
			`<message from='bob@localhost/pc' type='chat' id='m3'><body>> q
fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='m2'/><reply xmlns='urn:xmpp:reply:0' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='4'/></fallback></message>`,
			[]Event{MessageCorrected{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", ReplaceID: "m2", NewID: "m3", Body: "fixed",
				AsMessage: MessageReceived{Conv: ChatWith("bob@localhost"), ID: "m3", From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "fixed", Time: now, Reply: &ReplyInfo{ID: "m1", Quote: "q"}}}}},
		{"out-of-band file with its size", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body>https://up.localhost/abc/r%C3%A9sum%C3%A9.pdf</body><x xmlns='jabber:x:oob'><url>https://up.localhost/abc/r%C3%A9sum%C3%A9.pdf</url><desc>52341</desc></x></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "https://up.localhost/abc/r%C3%A9sum%C3%A9.pdf", Time: now,
				File: &FileInfo{URL: "https://up.localhost/abc/r%C3%A9sum%C3%A9.pdf", Name: "résumé.pdf", Size: 52341}}}},
		{"a bare https URL is a file of unknown size", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body> https://h.localhost/x/cat.jpg </body></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: " https://h.localhost/x/cat.jpg ", Time: now,
				File: &FileInfo{URL: "https://h.localhost/x/cat.jpg", Name: "cat.jpg", Size: -1}}}},
		{"a URL with words, or without a path, or not https, is no file", testSelf,
			`<message from='bob@localhost/pc' type='chat'><body>https://h.localhost/</body><x xmlns='jabber:x:oob'><url>javascript:alert(1)</url></x></message>`,
			[]Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "https://h.localhost/", Time: now}}},
		{"too many reactions", testSelf,
			`<message from='bob@localhost/pc' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'>` + flood.String() + `</reactions></message>`,
			[]Event{Notice{Text: "dropped a set of more than 32 reactions from bob@localhost/pc"}}},
		{"a reaction that is no emoji", testSelf,
			`<message from='bob@localhost/pc' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>‮evil</reaction></reactions></message>`,
			[]Event{Notice{Text: "dropped reactions that are not emojis (too long, or holding control characters) from bob@localhost/pc"}}},
		{"a reaction with a direction mark", testSelf,
			`<message from='bob@localhost/pc' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍&#x200F;</reaction></reactions></message>`,
			[]Event{Notice{Text: "dropped reactions that are not emojis (too long, or holding control characters) from bob@localhost/pc"}}},
		{"a reaction naming nothing", testSelf,
			`<message from='bob@localhost/pc' type='chat'><reactions xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions></message>`,
			[]Event{Notice{Text: "dropped a reaction or retraction that names no valid message id from bob@localhost/pc"}}},
		{"nested junk inside a reaction set", testSelf,
			`<message from='bob@localhost/pc' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction><b>👍</b>😀</reaction><junk><reaction>🙃</reaction></junk><reaction xmlns='urn:other'>🤡</reaction></reactions></message>`,
			[]Event{func() actionIn { a := bob(actReact); a.Target, a.Emojis = "m1", []string{"😀"}; return a }()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := Translate(tc.self, parse(t, tc.xml))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// Archive results carry actions too: a result that is a reaction or a
// retraction is that action, not a message.
func TestTranslateArchivedActions(t *testing.T) {
	el := parse(t, `<message to='alice@localhost/gab'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='A9'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-01T10:00:00Z'/><message xmlns='jabber:client' from='bob@localhost/pc' to='alice@localhost' type='chat'><body>This person attempted to retract a previous message</body><retract xmlns='urn:xmpp:message-retract:1' id='m1'/></message></forwarded></result></message>`)
	got, _ := Translate(testSelf, el)
	if len(got) != 1 {
		t.Fatalf("got %#v", got)
	}
	a, ok := got[0].(MessageArchived)
	if !ok || a.Action == nil || a.Action.Kind != actRetract || a.Action.Target != "m1" || a.Action.Bare != "bob@localhost" || a.Body != "" && a.Reply != nil {
		t.Fatalf("got %#v (action %#v)", got[0], a.Action)
	}
	el = parse(t, `<message to='alice@localhost/gab'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='A10'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@localhost/pc' to='alice@localhost' type='chat' id='m3'><body>> q
answer</body><reply xmlns='urn:xmpp:reply:0' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='4'/></fallback></message></forwarded></result></message>`)
	got, _ = Translate(testSelf, el)
	a, ok = got[0].(MessageArchived)
	if !ok || a.Action != nil || a.Body != "answer" || a.Reply == nil || a.Reply.ID != "m1" || a.Reply.Quote != "q" {
		t.Fatalf("archived reply: %#v", got)
	}
}

// A reply to a message not stored names its author as the sender wrote
// it: the nick in a room, the bare JID elsewhere.
func TestFallbackAuthor(t *testing.T) {
	for _, tc := range []struct {
		conv Conv
		to   string
		want string
	}{
		{RoomConv("r@conf"), "r@conf/ann", "ann"},
		{ChatWith("bob@x"), "bob@x/phone", "bob@x"},
		{ChatWith("bob@x"), "", ""},
		{ChatWith("bob@x"), "@@", ""},
	} {
		if got := fallbackAuthor(tc.conv, tc.to); got != tc.want {
			t.Errorf("fallbackAuthor(%v, %q) = %q, want %q", tc.conv, tc.to, got, tc.want)
		}
	}
}

// Who may retract a stored message: its author — the peer in a chat,
// the same occupant-id in a room, the same nick where the room gives no
// ids — and we ours; reactions are keyed by the same identity.
func TestMayRetractAndReactorKey(t *testing.T) {
	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{})
	c.rooms["ids@conf"] = &mucRoom{nick: "alice", occupantID: "occ-me"}
	c.rooms["noids@conf"] = &mucRoom{nick: "alice"}
	in := func(kind, peer, nick, occ string) history.Message {
		return history.Message{Kind: kind, Peer: peer, Direction: history.In, Nick: nick, OccupantID: occ}
	}
	out := func(kind, peer string) history.Message {
		return history.Message{Kind: kind, Peer: peer, Direction: history.Out}
	}
	room := func(r, nick, occ string) actionIn {
		return actionIn{Kind: actRetract, Conv: RoomConv(r), From: r + "/" + nick, Nick: nick, OccupantID: occ}
	}
	chatA := actionIn{Kind: actRetract, Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost"}
	ours := chatA
	ours.Outgoing, ours.From, ours.Bare = true, "alice@localhost/phone", "alice@localhost"
	for _, tc := range []struct {
		name string
		a    actionIn
		m    history.Message
		want bool
		key  string
		own  bool
	}{
		{"the peer retracts its own", chatA, in("chat", "bob@localhost", "", ""), true, "bob@localhost", false},
		{"the peer retracts ours", chatA, out("chat", "bob@localhost"), false, "bob@localhost", false},
		{"our other device retracts ours", ours, out("chat", "bob@localhost"), true, "alice@localhost", true},
		{"our other device retracts the peer's", ours, in("chat", "bob@localhost", "", ""), false, "alice@localhost", true},
		{"same occupant-id, new nick", room("ids@conf", "bobby", "occ-bob"), in("room", "ids@conf", "bob", "occ-bob"), true, "occ:occ-bob", false},
		{"same nick, another occupant", room("ids@conf", "bob", "occ-eve"), in("room", "ids@conf", "bob", "occ-bob"), false, "occ:occ-eve", false},
		{"no ids: same nick", room("noids@conf", "bob", ""), in("room", "noids@conf", "bob", ""), true, "jid:noids@conf/bob", false},
		{"no ids: another nick", room("noids@conf", "eve", ""), in("room", "noids@conf", "bob", ""), false, "jid:noids@conf/eve", false},
		{"ids appear: the message had none", room("ids@conf", "bob", "occ-bob"), in("room", "ids@conf", "bob", ""), false, "occ:occ-bob", false},
		{"we retract ours in a room", room("ids@conf", "alice", "occ-me"), out("room", "ids@conf"), true, "occ:occ-me", true},
		{"an occupant with our old nick retracts ours", room("ids@conf", "alice", "occ-eve"), out("room", "ids@conf"), false, "occ:occ-eve", false},
		{"we may not retract another's in a room", room("ids@conf", "alice", "occ-me"), in("room", "ids@conf", "bob", "occ-bob"), false, "occ:occ-me", true},
	} {
		if got := c.mayRetract(tc.a, tc.m); got != tc.want {
			t.Errorf("%s: mayRetract = %v, want %v", tc.name, got, tc.want)
		}
		if key, own := c.reactorKey(tc.a); key != tc.key || own != tc.own {
			t.Errorf("%s: reactorKey = %q %v, want %q %v", tc.name, key, own, tc.key, tc.own)
		}
	}
}

// What gab reads is advertised (disco#info, and so the caps hash): both
// retraction generations, replies with their fallback, reactions,
// moderation announcements and out-of-band files.
func TestActionFeaturesAdvertised(t *testing.T) {
	_, reply := Translate(testSelf, fixture(t, "disco-get.xml"))
	s := reply.String()
	for _, f := range []string{NSReply, NSFallback, NSReactions, NSRetract, NSRetract0, NSModerate, NSModerate0, NSOOB} {
		if !strings.Contains(s, `<feature var="`+f+`"/>`) {
			t.Errorf("disco#info lacks %s: %s", f, s)
		}
	}
}

// A shared file's name is the last segment of its URL's path, decoded: a
// line break, escape or direction override encoded in the URL does not
// become part of the name shown (where "invoice.pdf%0A.exe" would read
// "invoice.pdf").
func TestFileNameHoldsNoControls(t *testing.T) {
	for url, want := range map[string]string{
		"https://h.localhost/a/invoice.pdf%0A.exe":     "invoice.pdf\ufffd.exe",
		"https://h.localhost/a/x%1b%5d8%3b%3by.pdf":    "x\ufffd]8;;y.pdf",
		"https://h.localhost/a/%E2%80%AEfdp.exe":       "\ufffdfdp.exe",
		"https://h.localhost/a/%C2%9B31mred.png":       "\ufffd31mred.png",
		"https://h.localhost/a/report%202026.pdf":      "report 2026.pdf",
		"https://h.localhost/a/%F0%9F%91%8D-thumb.jpg": "👍-thumb.jpg",
	} {
		f := fileAt(url, true)
		if f == nil || f.Name != want || f.URL != url {
			t.Errorf("fileAt(%q) = %+v, want the name %q", url, f, want)
		}
	}
}
