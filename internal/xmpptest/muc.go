// Group chat (XEP-0045) on the test server: Options{MUC: true}.
//
// What Options.MUC adds to Prosody 0.12.3 (Debian, with Debian's
// prosody-modules, which installs into Prosody's own module directory, so
// no plugin_paths is needed):
//
//   - on the VirtualHost, mod_bookmarks (XEP-0402 with XEP-0048
//     compatibility; it depends on mod_pep, which is loaded anyway);
//   - Component "conference.localhost" "muc" (MUCService) with muc_mam
//     (room archives) and muc_moderation (XEP-0425, from prosody-modules),
//     room creation for local users only (restrict_room_creation =
//     "local"), every room archived unless its owner turns it off
//     (muc_log_by_default), MAM pages of up to 1000.
//
// Facts checked against that server (the tests in muc_test.go hold them):
//
//   - Certificates: the component needs none of its own (s2s is off and
//     clients only connect to localhost); Prosody loads the global one for
//     it. The harness's certificate names conference.localhost anyway.
//     `certificates = DIR` stops the "Error indexing certificate
//     directory" error Prosody logged at every start.
//   - Prosody logs nothing at info level when a module loads; a module that
//     fails logs an error. The room tests fail on any error line, and check
//     each module through disco#info: urn:xmpp:mam:2 on a room (only while
//     its archiving is on), urn:xmpp:message-moderate:0 on a room,
//     urn:xmpp:bookmarks:1#compat and #compat-pep on the account.
//   - Occupant ids (XEP-0421) are built into mod_muc 0.12.3
//     (muc/occupant_id.lib.lua) and on by default (option muc_occupant_id,
//     default true): nothing to enable. <occupant-id
//     xmlns='urn:xmpp:occupant-id:0' id='…'/> is in every occupant
//     presence (self, others, unavailable, the 303 of a nick change), every
//     groupchat message (live, join history, MAM copies) and private
//     messages through the room. The id is base64(HMAC-SHA256(bare JID,
//     a salt per room)): the same across nick changes, leaving and
//     rejoining (and, by that formula, for every session of one account).
//     One a client puts in its message is replaced by the real one.
//   - Stanza ids (XEP-0359) come from muc_mam: every groupchat message,
//     reflection included, has <stanza-id by='ROOM JID'/>; without muc_mam
//     there is none. The sender's reflection keeps its id and origin-id
//     and has the same stanza-id as everyone else's copy.
//   - A new room: the creator's self-presence has 110 and 201, affiliation
//     owner, role moderator; the room stays locked (muc/lock.lib.lua) until
//     the owner submits the configuration form (an empty submitted form makes it an instant
//     room; Join and UnlockRoom do that).
//   - After the self-presence (and the history) comes the room's subject,
//     an empty <subject/> from the bare room JID even in a new room: the
//     sign that a join is complete.
//   - History on joining comes from the archive: each message with
//     <delay from='ROOM JID'/> and its stanza-id; <history
//     maxstanzas='N'/> is honoured.
//   - The archive (XEP-0313, iq to the room JID): an open room's archive
//     may be read by anyone, occupant or not. A result's id is the
//     stanza-id the live message had; the archived copy carries no
//     stanza-id but keeps origin-id and occupant-id. The <fin/> has
//     complete='true' and an RSM count.
//   - Refusals of a join: wrong or missing password not-authorized,
//     members-only registration-required, nick in use conflict (type
//     cancel; a nick change to a nick in use gets the same error from the
//     new occupant JID), banned forbidden. A participant kicking gets
//     not-allowed.
//   - Kick: the others get unavailable with 307 and the reason; the kicked
//     gets 110 and 307. Ban: 301. Nick change: unavailable with 303 and
//     <item nick='NEW'/>, then available from the new occupant JID.
//   - The configuration form of 0.12.3 has no muc#roomconfig_maxusers and
//     no muc#roomconfig_passwordprotectedroom: setting
//     muc#roomconfig_roomsecret alone protects a room. whois anyone shows
//     every occupant's real JID to all; in a moderated room a newcomer is a
//     visitor until given voice, and a visitor's groupchat message comes
//     back as a message error (forbidden) from the bare room JID, with the
//     message's id.
//   - A mediated invitation (XEP-0045 §7.8.2) from a semi-anonymous room
//     names the inviter by occupant JID (room/nick), not by real JID, and
//     carries the room password. A direct invitation (XEP-0249) comes from
//     the inviter's full JID.
//   - Moderation (mod_muc_moderation, XEP-0425 in its
//     urn:xmpp:message-moderate:0 version): a moderator sends the room
//     <iq type='set'><apply-to xmlns='urn:xmpp:fasten:0' id=STANZA-ID>
//     <moderate xmlns='urn:xmpp:message-moderate:0'><retract
//     xmlns='urn:xmpp:message-retract:0'/><reason/></moderate></apply-to>;
//     anyone else gets forbidden. Every occupant then gets a groupchat
//     message from the bare room JID with <apply-to id=STANZA-ID>
//     <moderated by='ROOM/NICK'><retract/><reason/></moderated>, which is
//     archived too; the archive's copy of the message becomes a tombstone
//     (same result id, no body, <moderated><retracted stamp=…/>).
//   - Bookmarks: a XEP-0402 item published with the publish-options the
//     XEP asks for is read back from PEP as published, and XEP-0048
//     private storage (jabber:iq:private, storage:bookmarks) shows it as a
//     <conference jid=… name=… autojoin=…><nick/><password/>. A XEP-0048
//     write replaces the whole set in PEP (items it lacks are gone).
//   - Prosody writes attributes in an order that changes from one run to
//     the next, and sends the other occupants' presence in no fixed order:
//     tests parse XML rather than compare text.
//
// The slixmpp peer (peer.py, slixmpp 1.8.3) speaks for rooms through
// Peer.Do with these commands (each answered by a "done" event carrying the
// command's tag and, when it failed, "error"):
//
//	join        room, nick, password?, maxstanzas?, config? — creates the
//	            room if new: configured as config, else an instant room
//	leave       room, status?
//	groupchat   room, body, id?, origin_id?, replace? (XEP-0308 id)
//	nick        room, nick
//	subject     room, subject
//	kick        room, nick, reason?        (role none)
//	ban         room, jid, reason?         (affiliation outcast)
//	role        room, nick, role, reason?
//	affiliation room, jid, affiliation, reason?
//	configure   room, config (RoomConfig's keys; unknown to the form: error)
//	invite      room, to, reason?          (mediated)
//	direct_invite room, to, password?, reason?
//	muc_pm      room, nick, body
//	muc_state   room, state                (a chat state to the room)
//	moderate    room, stanza_id, reason?   (XEP-0425 retraction, moderators)
//	raw         xml                        (sent as it is)
//
// and reports these events:
//
//	groupchat      room, nick, body, id, origin_id, stanza_id, stanza_id_by, oob,
//	               occupant_id, delay, delay_from, replace, subject, state
//	subject        the same, for a message with a subject and no body
//	muc_chatstate  room, nick, state (a groupchat chat state without body)
//	moderated      room, target (the stanza-id), by, retract, reason, id,
//	               stanza_id (the announcement's own)
//	occupant       room, nick, type (available/unavailable), role,
//	               affiliation, jid (when visible), codes, self, new_nick,
//	               reason, actor, occupant_id
//	muc_join_error room, nick, condition, type, text
//	muc_message_error room, nick, id, condition, text
//	muc_pm         room, nick, body, id, occupant_id
//	invite         kind (mediated/direct), room, from, reason, password
//
// Slixmpp 1.8.3 quirks the peer works around: its "message" event fires
// only for messages with a body (a subject or a chat state alone does not
// reach it), xep_0045's presence events fire only for rooms joined through
// its own join_muc_wait, and join_muc_wait prints to stdout. The peer
// keeps its own list of rooms and handlers for every presence and message.

package xmpptest

import (
	"fmt"
	"os/exec"
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
	return `modules_enabled = { "bookmarks"; "admin_shell" }

Component "` + MUCService + `" "muc"
modules_enabled = { "muc_mam"; "muc_moderation" }
restrict_room_creation = "local"
muc_log_by_default = true
max_archive_query_results = 1000
`
}

// Shell runs one command of Prosody's admin shell (mod_admin_shell, on with
// Options.MUC) and returns what it printed; a line starting with ">" is
// Lua run inside the server. Tests use it to do to a room what no client
// can, such as making it forget everyone without a word (as a room whose
// host restarted does).
func (s *Server) Shell(line string) (string, error) {
	out, err := exec.Command("prosodyctl", "--config", s.Config, "shell", line).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("prosodyctl shell %q: %v: %s", line, err, out)
	}
	return string(out), nil
}

// ForgetRoom makes the group chat service drop room at once, telling no
// occupant: to them it is as if the room's host restarted.
func (s *Server) ForgetRoom(room string) error {
	out, err := s.Shell(`>local m = prosody.hosts["` + MUCService + `"].modules.muc; local r = m.get_room_from_jid("` + room + `"); if not r then return "no such room" end; m.forget_room(r); return "forgotten"`)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "forgotten") {
		return fmt.Errorf("forget %s: %s", room, out)
	}
	return nil
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
		evs := p.Events()
		t.Fatalf("peer %s: no %s within %v; events: %v", p.JID, what, Timeout(d), evs[min(mark, len(evs)):])
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
