package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// OMEMO 0.3 in rooms (XEP-0384 §5.6, as Conversations does it): only in a
// room that is non-anonymous (everyone sees every occupant's real JID)
// and members-only (its members are known), as its disco#info says. A
// message is encrypted once to every device of every member — the real
// JIDs of the occupants, from their presence, and of the room's members,
// admins and owners, from its affiliation lists where the room gives
// them — and to our other devices; each member's device list is read when
// we enter and when the member does (a contact's also follows through
// PEP notifications). An encrypted message from an occupant is read in
// the session with the device of its real JID. Our own reflected message
// has no key for this device: it is recognised by its origin-id, as any
// reflection of ours, and keeps the plaintext stored when it was sent.

// roomOMEMO is what OMEMO needs of a room, kept with it (mucRoom.omemo,
// guarded by Client.state).
type roomOMEMO struct {
	// nonAnonymous, membersOnly: as the room's disco#info said.
	nonAnonymous, membersOnly bool
	// nicks maps the nick of each occupant present to its real bare JID;
	// ids an occupant-id to it, kept after the occupant left (for the
	// archive).
	nicks map[string]string
	ids   map[string]string
	// affiliated are the members, admins and owners known, from the
	// room's lists and from presences; listed says the lists were read
	// (refused says which of them the room would not give).
	affiliated map[string]room.Affiliation
	listed     bool
	refused    []string
}

// init makes the maps not made yet (nicks is dropped when the room is
// joined again after a new session: who is there comes with the join).
func (o *roomOMEMO) init() {
	if o.nicks == nil {
		o.nicks = map[string]string{}
	}
	if o.ids == nil {
		o.ids = map[string]string{}
	}
	if o.affiliated == nil {
		o.affiliated = map[string]room.Affiliation{}
	}
}

// setInfo takes what the room's disco#info said.
func (o *roomOMEMO) setInfo(info roomInfo) {
	o.nonAnonymous, o.membersOnly = info.nonAnonymous, info.membersOnly
}

// qualifies says whether messages in the room can be encrypted, and why
// not.
func (o *roomOMEMO) qualifies() (bool, string) {
	switch {
	case !o.nonAnonymous && !o.membersOnly:
		return false, "the room is neither non-anonymous nor members-only: gab cannot know who reads it, nor their real addresses"
	case !o.nonAnonymous:
		return false, "the room is not non-anonymous: gab cannot see its occupants' real addresses to encrypt to them"
	case !o.membersOnly:
		return false, "the room is not members-only: anyone may enter and read it, so encrypting would protect nothing"
	}
	return true, ""
}

// members is the real bare JIDs encrypted to, sorted, ours left out.
func (o *roomOMEMO) members(me string) []string {
	set := map[string]bool{}
	for _, j := range o.nicks {
		set[j] = true
	}
	for j := range o.affiliated {
		set[j] = true
	}
	delete(set, me)
	out := make([]string, 0, len(set))
	for j := range set {
		out = append(out, j)
	}
	slices.Sort(out)
	return out
}

// RoomEncryption says whether messages in Room can be encrypted with
// OMEMO (Possible), and why not (Why); sent when we enter a room and
// when what it is changes.
type RoomEncryption struct {
	Room     string
	Possible bool
	Why      string
}

func (RoomEncryption) isEvent() {}

// ShowRoomOMEMO asks for a RoomOMEMOReport on the devices of Room's
// members.
type ShowRoomOMEMO struct{ Room string }

func (ShowRoomOMEMO) isCommand() {}

// RoomOMEMOReport answers ShowRoomOMEMO: one report per member, and
// which affiliation lists the room would not give (its members may then
// be only the occupants present).
type RoomOMEMOReport struct {
	Room    string
	Members []OMEMOReport
	Refused []string
}

func (RoomOMEMOReport) isEvent() {}

// omemoRoomMembers: read the room's affiliation lists and its members'
// device lists (the session's goroutine).
type omemoRoomMembers struct {
	Room string
	JIDs []string // only these members' device lists, when not nil
}

func (omemoRoomMembers) isCommand() {}

// roomInfoChanged takes a room's new disco#info (c.state held): when it
// changes whether the room can be encrypted, in a room we are in, the
// user is told (and its members are read).
func (c *Client) roomInfoChanged(roomJID string, r *mucRoom, info roomInfo) Event {
	before, _ := r.omemo.qualifies()
	r.omemo.setInfo(info)
	now, why := r.omemo.qualifies()
	if before == now || r.state != mucJoined || !c.opts.OMEMO {
		return nil
	}
	if now {
		c.Do(omemoRoomMembers{Room: roomJID})
	}
	return RoomEncryption{Room: roomJID, Possible: now, Why: why}
}

// omemoOccupant follows an occupant's presence for OMEMO (reader
// goroutine, before occupantEvent): its real JID, its affiliation; our
// own join of a room says whether it can be encrypted and has its
// members read.
func (c *Client) omemoOccupant(e OccupantChanged) []Event {
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[e.Room]
	if !ok {
		return nil
	}
	o := &r.omemo
	if e.Self {
		if e.Left || r.state != mucJoining || !c.opts.OMEMO {
			return nil
		}
		can, why := o.qualifies()
		if can {
			c.Do(omemoRoomMembers{Room: e.Room})
		}
		return []Event{RoomEncryption{Room: e.Room, Possible: can, Why: why}}
	}
	real := ""
	if j, err := jid.Parse(e.Occupant.RealJID); err == nil {
		real = j.Bare().String()
	}
	if real == "" {
		return nil
	}
	o.init()
	if e.Occupant.OccupantID != "" {
		o.ids[e.Occupant.OccupantID] = real
	}
	switch e.Occupant.Affiliation {
	case room.Member, room.Admin, room.Owner:
		o.affiliated[real] = e.Occupant.Affiliation
	default:
		delete(o.affiliated, real) // no longer a member (or never was)
	}
	if e.Left {
		delete(o.nicks, e.Occupant.Nick)
		return nil
	}
	_, known := o.nicks[e.Occupant.Nick]
	o.nicks[e.Occupant.Nick] = real
	if !known && r.state == mucJoined && c.opts.OMEMO {
		if can, _ := o.qualifies(); can {
			// Someone entered: their devices, as they are now.
			c.Do(omemoRoomMembers{Room: e.Room, JIDs: []string{real}})
		}
	}
	return nil
}

// memberAffiliations are the affiliation lists read for a room's members.
var memberAffiliations = []room.Affiliation{room.Member, room.Admin, room.Owner}

// readRoomMembers carries out omemoRoomMembers: the room's affiliation
// lists (all of them, unless only some members' devices are asked for),
// then the device list of each member who is not a contact (a contact's
// comes with PEP notifications) or whose list is not known yet.
func (c *Client) readRoomMembers(ctx context.Context, sess *xmpp.Session, cmd omemoRoomMembers) {
	me := c.acct.JID.Bare().String()
	jids := cmd.JIDs
	if jids == nil {
		got := map[string]room.Affiliation{}
		var refused []string
		for _, aff := range memberAffiliations {
			res, err := c.iqTo(ctx, sess, cmd.Room, "get", xmpp.E(NSMUCAdmin, "query").Add(xmpp.E(NSMUCAdmin, "item", "affiliation", string(aff))))
			if err != nil {
				if ctx.Err() != nil || isNetError(err) {
					return
				}
				refused = append(refused, string(aff))
				continue
			}
			for _, it := range res.Child(NSMUCAdmin, "query").ChildrenIn(NSMUCAdmin) {
				if j, err := jid.Parse(it.Get("jid")); err == nil && it.Name.Local == "item" && room.ParseAffiliation(it.Get("affiliation")) == aff {
					got[j.Bare().String()] = aff
				}
			}
		}
		c.state.Lock()
		r, ok := c.rooms[cmd.Room]
		if ok {
			o := &r.omemo
			o.init()
			if len(refused) == 0 {
				// The whole of it: who left the lists is no member now.
				o.affiliated = map[string]room.Affiliation{}
			}
			for j, aff := range got {
				o.affiliated[j] = aff
			}
			o.listed, o.refused = true, refused
			jids = o.members(me)
		}
		c.state.Unlock()
		if !ok {
			return
		}
	}
	if c.opts.Store == nil {
		return
	}
	// The lists to read, read together, then taken in order.
	type read struct {
		jid  string
		v    OMEMOVersion
		list []OMEMODevice
		err  error
	}
	var reads []read
	for _, j := range jids {
		if j == me {
			continue
		}
		for _, v := range []OMEMOVersion{OMEMO03, OMEMO2} {
			if c.inRoster(j) {
				devs, err := c.opts.Store.Devices(ctx, j, historyVersion(v))
				if err == nil && len(devs) > 0 {
					continue // followed through PEP notifications
				}
			}
			reads = append(reads, read{jid: j, v: v})
		}
	}
	together(len(reads), func(i int) {
		reads[i].list, reads[i].err = c.fetchOMEMODevices(ctx, sess, reads[i].jid, reads[i].v)
	})
	for _, r := range reads {
		if r.err != nil {
			if ctx.Err() != nil || isNetError(r.err) {
				return
			}
			continue // no list to read: sending says so
		}
		c.listRead(r.jid, historyVersion(r.v), len(r.list) == 0)
		ev := OMEMODeviceListChanged{JID: r.jid, Version: r.v, Devices: r.list, Fetched: true}
		if n := c.omemoListChanged(ctx, ev); n != nil {
			c.emit(ctx, n)
		}
		c.emit(ctx, ev)
	}
}

// roomOMEMOMembers is the members of a room we are in that messages are
// encrypted to, or why the room cannot be encrypted.
func (c *Client) roomOMEMOMembers(roomJID string) ([]string, error) {
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[roomJID]
	if !ok || r.state != mucJoined {
		return nil, fmt.Errorf("you are not in %s: /join it first", roomJID)
	}
	if can, why := r.omemo.qualifies(); !can {
		return nil, errors.New(why + ": not sent; /omemo off sends in plain text")
	}
	return r.omemo.members(c.acct.JID.Bare().String()), nil
}

// enqueueRoomEncrypted encrypts a message to a room's members and puts
// it in the outbox.
func (c *Client) enqueueRoomEncrypted(ctx context.Context, sess *xmpp.Session, cmdID uint64, cmd SendMessage) (*outgoing, error) {
	if cmd.ReplyTo != 0 {
		return nil, errOMEMOReply
	}
	if cmd.Body == "" {
		return nil, errEmpty
	}
	members, err := c.roomOMEMOMembers(cmd.Conv.JID)
	if err != nil {
		return nil, err
	}
	enc, sessions, err := c.omemoEncryptFor(ctx, sess, cmd.Conv.JID, members, cmd.Body)
	if err != nil {
		return nil, err
	}
	return c.enqueueWith(ctx, cmdID, cmd, nil, enc, sessions)
}

// omemoEncryptFor encrypts body once for every device of every JID of
// jids (our own left out) and our other devices, devices distrusted or
// not decided on left out: each in OMEMO 2 when it lists itself there,
// in 0.3 otherwise, as in chats, the OMEMO 2 envelope addressed to the
// room. Each of jids must have a device it goes to: otherwise nothing is
// sent, and the error names who has none, and why.
func (c *Client) omemoEncryptFor(ctx context.Context, sess *xmpp.Session, roomJID string, jids []string, body string) (*OMEMOEncrypted, []history.Session, error) {
	me := c.acct.JID.Bare().String()
	st := &c.omemo
	st.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	st.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	var targets []omemoTarget
	why := map[string][]string{} // why a member's devices were left out
	// The members' devices, read together (lists not stored are asked
	// for).
	type read struct {
		ts  []omemoTarget
		err error
	}
	reads := make([]read, len(jids))
	together(len(jids), func(i int) {
		if jids[i] != me {
			reads[i].ts, reads[i].err = c.targetsOf(ctx, sess, jids[i], dev.ID())
		}
	})
	for i, j := range jids {
		if j == me {
			continue
		}
		ts, err := reads[i].ts, reads[i].err
		if err != nil {
			if ctx.Err() != nil || isNetError(err) {
				return nil, nil, err
			}
			why[j] = append(why[j], err.Error())
			continue
		}
		if len(ts) == 0 {
			why[j] = append(why[j], "no OMEMO device (its client may not speak OMEMO)")
		}
		targets = append(targets, ts...)
	}
	if mine, err := c.targetsOf(ctx, sess, me, dev.ID()); err == nil {
		targets = append(targets, mine...)
	}
	rs, left := c.pickRecipients(ctx, sess, targets)
	defer st.mu.Unlock()
	added := map[string]bool{} // JIDs with a device in rs
	for _, k := range slices.Concat(rs.k03, rs.k2) {
		added[k.JID] = true
	}
	for _, l := range left {
		why[l.t.jid] = append(why[l.t.jid], l.short)
	}
	// Who cannot read it is known before anything is encrypted: a
	// message not sent advances no session.
	var missing []string
	for _, j := range jids {
		if j != me && !added[j] {
			w := why[j]
			if len(w) == 0 {
				w = []string{"none of its devices could be encrypted to"}
			}
			if len(w) > maxReasons {
				w = append(w[:maxReasons:maxReasons], fmt.Sprintf("and %d more", len(w)-maxReasons))
			}
			missing = append(missing, j+" ("+strings.Join(w, "; ")+")")
		}
	}
	if len(missing) > 0 {
		n := len(missing)
		if n > maxReasons {
			missing = append(missing[:maxReasons:maxReasons], fmt.Sprintf("and %d more", n-maxReasons))
		}
		members := "members of the room have"
		if n == 1 {
			members = "member of the room has"
		}
		return nil, nil, fmt.Errorf("not sent: %d %s no device it can be encrypted to, and would not be able to read it: %s; /omemo off sends in plain text", n, members, strings.Join(missing, ", "))
	}
	if len(rs.r03)+len(rs.r2) == 0 {
		return nil, nil, errors.New("not sent: nobody in the room to encrypt to")
	}
	enc, sessions, err := c.encryptFor(dev, rs, body, me, roomJID)
	if err != nil {
		return nil, nil, err
	}
	reached := map[string]bool{}
	for _, s := range sessions {
		reached[s.JID] = true
	}
	for _, j := range jids {
		if j != me && !reached[j] {
			// Its devices' sessions or bundles failed in the encryption.
			return nil, nil, fmt.Errorf("not sent: no device of %s, a member of the room, could be encrypted to; /omemo off sends in plain text", j)
		}
	}
	return enc, sessions, nil
}

// roomSender is the real bare JID of the sender of a message in a room:
// as the archive gave it, else the occupant's — by occupant-id, else by
// nick. "" when not known. c.state is not held.
func (c *Client) roomSender(e MessageReceived) string {
	if e.RealJID != "" {
		return e.RealJID
	}
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[e.Conv.JID]
	if !ok {
		return ""
	}
	if j, ok := r.omemo.ids[e.OccupantID]; ok && e.OccupantID != "" {
		return j
	}
	if e.Delayed {
		return "" // a nick from the past may be someone else's now
	}
	return r.omemo.nicks[e.Nick]
}

// omemoRoomIncoming decrypts an encrypted message from an occupant of a
// room in the session with its real JID's device. c.omemo.mu is held.
func (c *Client) omemoRoomIncoming(ctx context.Context, e MessageReceived) Event {
	from := c.roomSender(e)
	if from == "" {
		e.Note = "an encrypted message (OMEMO) from an occupant whose address the room does not show: it cannot be read"
		return e
	}
	text, info, note := c.omemoDecrypt(ctx, from, e.Encrypted)
	// An OMEMO 2 envelope says it is from the sender's real JID to the
	// room: one moved here from another room or a chat is refused.
	text, info, note = sealedText(text, info, note, from, e.Conv.JID)
	e.OMEMO, e.Note = info, note
	if note == "" {
		if text == nil {
			return nil // an empty message: the session moved, nothing to show
		}
		e.Body = omemoText(text)
	}
	return e
}

// archivedRealJID is the real bare JID a non-anonymous room's archive
// gives with a message it archived (<x xmlns=muc#user><item jid/></x>).
// The sender may have written such an element into its message itself,
// and a room may keep it beside its own (Prosody adds its own after
// it): a copy with more than one, or more than one item, names nobody
// gab can believe, and "" is returned (the occupant-id then says).
func archivedRealJID(inner *xmpp.Element) string {
	var xs []*xmpp.Element
	for _, c := range inner.ChildrenIn(NSMUCUser) {
		if c.Name.Local == "x" {
			xs = append(xs, c)
		}
	}
	if len(xs) != 1 {
		return ""
	}
	var items []*xmpp.Element
	for _, c := range xs[0].ChildrenIn(NSMUCUser) {
		if c.Name.Local == "item" {
			items = append(items, c)
		}
	}
	if len(items) != 1 {
		return ""
	}
	j, err := jid.Parse(items[0].Get("jid"))
	if err != nil {
		return ""
	}
	return j.Bare().String()
}

// showRoomOMEMO carries out ShowRoomOMEMO from what the client knows of
// the room and the store.
func (c *Client) showRoomOMEMO(ctx context.Context, cmd ShowRoomOMEMO) error {
	if !c.opts.OMEMO {
		return errOMEMOOff
	}
	s := c.opts.Store
	if s == nil {
		return errors.New("no history store: OMEMO keeps nothing")
	}
	c.state.Lock()
	r, ok := c.rooms[cmd.Room]
	var members, refused []string
	if ok {
		members, refused = r.omemo.members(c.acct.JID.Bare().String()), slices.Clone(r.omemo.refused)
	}
	c.state.Unlock()
	if !ok {
		return fmt.Errorf("you are not in %s", cmd.Room)
	}
	c.omemo.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	c.omemo.mu.Unlock()
	if err != nil {
		return err
	}
	rep := RoomOMEMOReport{Room: cmd.Room, Refused: refused}
	for _, m := range members {
		r, err := c.omemoReportOf(ctx, m, dev)
		if err != nil {
			return err
		}
		rep.Members = append(rep.Members, r)
	}
	c.emit(ctx, rep)
	return nil
}

// roomAffiliation: a room says that someone not in it now has another
// affiliation (XEP-0045 §9.3, example 195: a message from the room's bare
// JID with the item alone). Handled by the client, never handed on.
type roomAffiliation struct {
	Room        string
	JID         string // bare
	Affiliation room.Affiliation
}

func (roomAffiliation) isEvent() {}

// roomReconfigured: a room says its configuration changed (XEP-0045
// §10.2.1, status 104): what it is now is asked (learnRoom), as whether
// it can be encrypted may have changed. Handled by the client.
type roomReconfigured struct{ Room string }

func (roomReconfigured) isEvent() {}

// translateAffiliationNote reads a room's note of an absent user's new
// affiliation, or of its new configuration; ok is false for any other
// message.
func translateAffiliationNote(el *xmpp.Element, from jid.JID) (Event, bool) {
	if from.Resourcepart() != "" || el.Child(xmpp.NSClient, "body") != nil {
		return nil, false
	}
	x := el.Child(NSMUCUser, "x")
	if hasCode(statusCodes(x), 104) {
		return roomReconfigured{Room: from.Bare().String()}, true
	}
	item := x.Child(NSMUCUser, "item")
	if item == nil || item.Get("affiliation") == "" || x.Child(NSMUCUser, "invite") != nil {
		return nil, false
	}
	j, err := jid.Parse(item.Get("jid"))
	if err != nil {
		return nil, false
	}
	return roomAffiliation{Room: from.Bare().String(), JID: j.Bare().String(), Affiliation: room.ParseAffiliation(item.Get("affiliation"))}, true
}

// omemoAffiliation follows an absent user's new affiliation (reader
// goroutine): a new member's devices are read; one no longer a member is
// no longer encrypted to (unless present in the room).
func (c *Client) omemoAffiliation(e roomAffiliation) {
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[e.Room]
	if !ok {
		return
	}
	o := &r.omemo
	o.init()
	switch e.Affiliation {
	case room.Member, room.Admin, room.Owner:
		_, known := o.affiliated[e.JID]
		o.affiliated[e.JID] = e.Affiliation
		if can, _ := o.qualifies(); can && !known && r.state == mucJoined && c.opts.OMEMO {
			c.Do(omemoRoomMembers{Room: e.Room, JIDs: []string{e.JID}})
		}
	default:
		delete(o.affiliated, e.JID)
	}
}

// roomMember says whether bare is a member of an encrypted room we are
// in: one who sees our presence there already, and is answered and has
// sessions repaired as a contact is.
func (c *Client) roomMember(bare string) bool {
	c.state.Lock()
	defer c.state.Unlock()
	for _, r := range c.rooms {
		if can, _ := r.omemo.qualifies(); !can || r.state != mucJoined {
			continue
		}
		if _, ok := r.omemo.affiliated[bare]; ok {
			return true
		}
		for _, j := range r.omemo.nicks {
			if j == bare {
				return true
			}
		}
	}
	return false
}
