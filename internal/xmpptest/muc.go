package xmpptest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// MUCService is the group chat service of a server started with
// Options{MUC: true}.
const MUCService = "conference." + Domain

// MUCService returns the JID of the server's group chat service.
func (s *Server) MUCService() string { return MUCService }

// Room returns the JID of the room named name on the group chat service.
func Room(name string) string { return name + "@" + MUCService }

// mucConfig is the part of the configuration that Options.MUC adds after
// the virtual host: XEP-0402 bookmarks on the host, and the MUC component.
func mucConfig(o Options) string {
	if !o.MUC {
		return ""
	}
	return `modules_enabled = { "bookmarks" }

Component "` + MUCService + `" "muc"
modules_enabled = { "muc_mam"; "muc_moderation" }
restrict_room_creation = "local"
muc_log_by_default = true
max_archive_query_results = 1000
`
}

// RoomConfig is what a room owner sets in the configuration form
// (XEP-0045 §10.2). Zero fields are left as the server has them; Fields
// sets any other form field by its var.
type RoomConfig struct {
	MembersOnly bool
	Password    string // also makes the room password-protected
	Persistent  bool
	Moderated   bool
	Whois       string // "anyone" (non-anonymous) or "moderators"
	MAM         *bool  // room archive on or off
	MaxUsers    int    // not offered by Prosody 0.12: asking for it is an error
	Name        string
	Fields      map[string]any
}

func (c RoomConfig) command() map[string]any {
	m := map[string]any{}
	if c.MembersOnly {
		m["members_only"] = true
	}
	if c.Password != "" {
		m["password"] = c.Password
	}
	if c.Persistent {
		m["persistent"] = true
	}
	if c.Moderated {
		m["moderated"] = true
	}
	if c.Whois != "" {
		m["whois"] = c.Whois
	}
	if c.MAM != nil {
		m["mam"] = *c.MAM
	}
	if c.MaxUsers != 0 {
		m["max_users"] = c.MaxUsers
	}
	if c.Name != "" {
		m["name"] = c.Name
	}
	if len(c.Fields) > 0 {
		m["fields"] = c.Fields
	}
	return m
}

var peerTags atomic.Int64

// Do gives the peer one command and waits until it has carried it out: for
// commands that ask the server (join, kick, ban, role, affiliation,
// configure) until the server has answered. It returns the error the peer
// reported (a refused join says "join refused: CONDITION", a refused iq
// names the condition), and fails the test when the peer does not answer.
func (p *Peer) Do(t testing.TB, cmd map[string]any) error {
	t.Helper()
	tag := fmt.Sprintf("t%d", peerTags.Add(1))
	c := make(map[string]any, len(cmd)+1)
	for k, v := range cmd {
		c[k] = v
	}
	c["tag"] = tag
	p.Send(t, c)
	ev := p.WaitFor(t, RoundTrip, fmt.Sprintf("the end of %v", cmd), func(e PeerEvent) bool {
		return e.Get("event") == "done" && e.Get("tag") == tag
	})
	if msg := ev.Get("error"); msg != "" {
		return fmt.Errorf("peer %s: %v: %s", p.JID, cmd["cmd"], msg)
	}
	return nil
}

// Must is Do that fails the test on an error.
func (p *Peer) Must(t testing.TB, cmd map[string]any) {
	t.Helper()
	if err := p.Do(t, cmd); err != nil {
		t.Fatal(err)
	}
}

// Join enters room as nick and returns the self-presence. A room that does
// not exist yet is created and opened as an instant room (default
// configuration).
func (p *Peer) Join(t testing.TB, room, nick string) PeerEvent {
	t.Helper()
	mark := p.Mark()
	p.Must(t, map[string]any{"cmd": "join", "room": room, "nick": nick})
	return p.selfPresence(t, mark, room)
}

// CreateRoom creates room as its owner with nick, configured as cfg (the
// room must not exist yet), and returns the self-presence.
func (p *Peer) CreateRoom(t testing.TB, room, nick string, cfg RoomConfig) PeerEvent {
	t.Helper()
	mark := p.Mark()
	p.Must(t, map[string]any{"cmd": "join", "room": room, "nick": nick, "config": cfg.command()})
	self := p.selfPresence(t, mark, room)
	if !HasCode(self, 201) {
		t.Fatalf("peer %s: %s already existed: %v", p.JID, room, self)
	}
	return self
}

// Configure submits cfg as the owner of room.
func (p *Peer) Configure(t testing.TB, room string, cfg RoomConfig) error {
	t.Helper()
	return p.Do(t, map[string]any{"cmd": "configure", "room": room, "config": cfg.command()})
}

func (p *Peer) selfPresence(t testing.TB, mark int, room string) PeerEvent {
	t.Helper()
	return p.WaitFrom(t, mark, RoundTrip, "the self-presence from "+room, func(e PeerEvent) bool {
		return e.Get("event") == "occupant" && e.Get("room") == room && e["self"] == true && e.Get("type") == "available"
	})
}

// HasCode reports whether an occupant event carries the MUC status code.
func HasCode(e PeerEvent, code int) bool {
	codes, _ := e["codes"].([]any)
	for _, c := range codes {
		if n, ok := c.(float64); ok && int(n) == code {
			return true
		}
	}
	return false
}

// Mark is the number of events reported so far, for WaitFrom.
func (p *Peer) Mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

// WaitFrom returns the first event after mark (from Mark) matching ok,
// and fails the test, naming what, when none comes within Timeout(d).
func (p *Peer) WaitFrom(t testing.TB, mark int, d time.Duration, what string, ok func(PeerEvent) bool) PeerEvent {
	t.Helper()
	e, found := p.waitFrom(mark, d, ok)
	if !found {
		t.Fatalf("peer %s: no %s within %v; events: %v", p.JID, what, Timeout(d), p.Events()[min(mark, len(p.Events())):])
	}
	return e
}

// WaitFor is WaitFrom over every event reported since the peer started.
func (p *Peer) WaitFor(t testing.TB, d time.Duration, what string, ok func(PeerEvent) bool) PeerEvent {
	t.Helper()
	return p.WaitFrom(t, 0, d, what, ok)
}

// JoinRoom sends a raw join presence to room/nick, with extra inside its
// <x xmlns='http://jabber.org/protocol/muc'/> (a <password/>, a
// <history/>), and reads until the self-presence (status 110) has ended.
// It returns everything read, the other occupants' presence included. A
// refusal is an error that holds the error presence. A new room (status
// 201 in the self-presence) stays locked until configured: see
// UnlockRoom. For a caller that did not call Discard.
func (r *Raw) JoinRoom(room, nick, extra string) (string, error) {
	join := `<presence to='` + room + `/` + nick + `'><x xmlns='http://jabber.org/protocol/muc'>` + extra + `</x></presence>`
	if err := r.Send(join); err != nil {
		return "", err
	}
	r.conn.SetReadDeadline(time.Now().Add(Timeout(RoundTrip)))
	defer r.conn.SetReadDeadline(time.Time{})
	got, err := readUntil(r.in, "code='110'/>", "type='error'")
	if err != nil && strings.HasPrefix(err.Error(), "refused") {
		rest, _ := readUntil(r.in, "</presence>")
		return got + rest, fmt.Errorf("join %s/%s refused: %s", room, nick, got[strings.LastIndex(got, "<presence"):]+rest)
	}
	if err != nil {
		return got, err
	}
	rest, err := readUntil(r.in, "</presence>")
	return got + rest, err
}

// UnlockRoom opens a room just created by JoinRoom as an instant room
// (XEP-0045 §10.1.2: an empty submitted form).
func (r *Raw) UnlockRoom(room string) error {
	_, err := r.IQ(`<iq type='set' id='unlock' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`, "unlock")
	return err
}

// IQ sends iq, whose id attribute is id, and reads until the answer with
// that id has ended. It returns everything read (stanzas that came first
// included); an answer of type error is an error that holds it.
func (r *Raw) IQ(iq, id string) (string, error) {
	if err := r.Send(iq); err != nil {
		return "", err
	}
	r.conn.SetReadDeadline(time.Now().Add(Timeout(RoundTrip)))
	defer r.conn.SetReadDeadline(time.Time{})
	var all strings.Builder
	for {
		got, err := readUntil(r.in, "id='"+id+"'")
		all.WriteString(got)
		if err != nil {
			return all.String(), err
		}
		start := strings.LastIndex(got, "<")
		if !strings.HasPrefix(got[start:], "<iq") {
			continue // the id of something else, such as a MAM result's queryid
		}
		head, err := readUntil(r.in, ">")
		all.WriteString(head)
		if err != nil {
			return all.String(), err
		}
		answer := got[start:] + head
		if !strings.HasSuffix(head, "/>") {
			body, err := readUntil(r.in, "</iq>")
			all.WriteString(body)
			answer += body
			if err != nil {
				return all.String(), err
			}
		}
		if strings.Contains(got[start:]+head, "type='error'") {
			return all.String(), fmt.Errorf("iq %s refused: %s", id, answer)
		}
		return all.String(), nil
	}
}

// MAMQuery asks to's archive (a room JID for a room's archive) for
// messages (XEP-0313, urn:xmpp:mam:2) with queryid id; form is put inside
// the query (a data form, an RSM <set/>), "" for all. It returns the text
// of the result messages and the final answer with its <fin/>.
func (r *Raw) MAMQuery(to, id, form string) (string, error) {
	return r.IQ(`<iq type='set' id='`+id+`' to='`+to+`'><query xmlns='urn:xmpp:mam:2' queryid='`+id+`'>`+form+`</query></iq>`, id)
}
