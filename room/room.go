package room

import (
	"sort"
	"strings"
)

// State is where we stand in a room.
type State int

const (
	NotJoined State = iota // not asked to join in this session (the zero value)
	Joining                // join sent; our own presence not back yet
	Joined                 // in the room
	Left                   // we left
	Kicked                 // a moderator removed us (status 307); a rejoin is allowed
	Banned                 // we are an outcast now (status 301); a rejoin fails
	Removed                // removed without a ban: affiliation change, members-only, shutdown or a fault (321, 322, 332, 333)
	Destroyed              // the room no longer exists
	Failed                 // the join was refused (wrong password, nick taken, ...)
)

var stateNames = [...]string{"not joined", "joining", "joined", "left", "kicked", "banned", "removed", "destroyed", "failed"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "not joined"
	}
	return stateNames[s]
}

// In reports whether we are in the room or on our way in: the states a
// reconnect rejoins.
func (s State) In() bool { return s == Joining || s == Joined }

// Notify is which messages of a room call for attention.
type Notify int

const (
	NotifyMentions Notify = iota // only messages that mention our nick (the default)
	NotifyAll                    // every message
	NotifyNone                   // none
)

var notifyNames = [...]string{"mentions", "all", "none"}

func (n Notify) String() string {
	if n < 0 || int(n) >= len(notifyNames) {
		return notifyNames[NotifyMentions]
	}
	return notifyNames[n]
}

// ParseNotify reads "all", "mentions" or "none"; false for anything else.
func ParseNotify(s string) (Notify, bool) {
	for i, n := range notifyNames {
		if n == s {
			return Notify(i), true
		}
	}
	return NotifyMentions, false
}

// entry is an occupant with its sort key worked out once.
type entry struct {
	Occupant
	rank int    // of the role
	fold string // lower-cased nick
}

func (e *entry) less(f *entry) bool {
	if e.rank != f.rank {
		return e.rank < f.rank
	}
	if e.fold != f.fold {
		return e.fold < f.fold
	}
	return e.Nick < f.Nick
}

// Room is the model of one room; New makes one, though the zero value is
// usable too. It is not safe for concurrent use: its owner is the UI
// goroutine.
type Room struct {
	JID       string // bare room JID
	Nick      string // our nick: the one asked for, then the one the room gave us
	Subject   string
	SubjectBy string // nick of who set the subject, "" if unknown
	State     State
	Reason    string // why we left the room or the join failed, as the room said it; "" if it gave none
	Password  string // remembered to rejoin a protected room
	// OccupantIDs reports that the room stamps occupant-ids (XEP-0421),
	// as its disco#info says or as the first presence carrying one shows.
	OccupantIDs bool
	Unread      int    // maintained by the UI
	Mentions    int    // maintained by the UI
	Notify      Notify // zero value: NotifyMentions

	selfID   string              // our occupant-id, from our own presence
	byNick   map[string]*entry   // every occupant present
	byID     map[string][]string // occupant-id → nicks (one person may hold several)
	order    []*entry            // byNick, kept sorted as it changes
	sorted   []*Occupant         // snapshot of order handed out; nil after a change
	typing   map[string]struct{} // nicks whose state is Composing
	typingOK bool                // typingSorted is up to date
	typingS  []string
	gen      uint64
}

// New returns a room we are not in yet, where we want to be nick.
func New(jid, nick string) *Room {
	return &Room{JID: jid, Nick: nick, byNick: map[string]*entry{}, byID: map[string][]string{}, typing: map[string]struct{}{}}
}

// Gen changes whenever the occupants or anything about them changes, so
// views can cache.
func (r *Room) Gen() uint64 { return r.gen }

// Count is the number of occupants present, us included.
func (r *Room) Count() int { return len(r.byNick) }

// Get returns the occupant with nick, or nil. The occupant belongs to the
// room: read it, change it only through the room.
func (r *Room) Get(nick string) *Occupant {
	if e := r.byNick[nick]; e != nil {
		return &e.Occupant
	}
	return nil
}

// ByOccupantID returns an occupant with occupant-id id, or nil. Someone in
// the room under two nicks (two clients of one account) has one id for both;
// the one that joined first is returned.
func (r *Room) ByOccupantID(id string) *Occupant {
	if id == "" {
		return nil
	}
	if nicks := r.byID[id]; len(nicks) > 0 {
		return r.Get(nicks[0])
	}
	return nil
}

// pos is where e is, or belongs, in r.order. Its key must be the one e was
// inserted with: unlink before changing a nick or role.
func (r *Room) pos(e *entry) int {
	return sort.Search(len(r.order), func(i int) bool { return !r.order[i].less(e) })
}

func (r *Room) insert(e *entry) {
	i := r.pos(e)
	r.order = append(r.order, nil)
	copy(r.order[i+1:], r.order[i:])
	r.order[i] = e
	r.sorted = nil
}

func (r *Room) unlink(e *entry) {
	i := r.pos(e)
	if i < len(r.order) && r.order[i] == e {
		copy(r.order[i:], r.order[i+1:])
		r.order[len(r.order)-1] = nil // let a removed occupant go
		r.order = r.order[:len(r.order)-1]
	}
	r.sorted = nil
}

func (r *Room) addID(id, nick string) {
	if id != "" {
		r.byID[id] = append(r.byID[id], nick)
	}
}

func (r *Room) dropID(id, nick string) {
	if id == "" {
		return
	}
	nicks := r.byID[id]
	for i, n := range nicks {
		if n == nick {
			nicks = append(nicks[:i], nicks[i+1:]...)
			break
		}
	}
	if len(nicks) == 0 {
		delete(r.byID, id)
	} else {
		r.byID[id] = nicks
	}
}

func (r *Room) setTyping(nick, state string) {
	_, was := r.typing[nick]
	if now := state == Composing; now != was {
		if now {
			r.typing[nick] = struct{}{}
		} else {
			delete(r.typing, nick)
		}
		r.typingOK = false
	}
}

// Update records an occupant's presence: a join, or a change of role,
// affiliation, availability or status. Presence carries no chat state, so an
// occupant already present keeps its Typing; one who joins takes o.Typing.
func (r *Room) Update(o Occupant) {
	r.gen++
	if r.byNick == nil { // a Room made without New
		r.byNick, r.byID, r.typing = map[string]*entry{}, map[string][]string{}, map[string]struct{}{}
	}
	if o.OccupantID != "" {
		r.OccupantIDs = true
	}
	e := r.byNick[o.Nick]
	if e == nil {
		e = &entry{Occupant: o, rank: o.Role.rank(), fold: strings.ToLower(o.Nick)}
		r.byNick[o.Nick] = e
		r.addID(o.OccupantID, o.Nick)
		r.setTyping(o.Nick, o.Typing)
		r.insert(e)
		return
	}
	if e.OccupantID != o.OccupantID {
		r.dropID(e.OccupantID, o.Nick)
		r.addID(o.OccupantID, o.Nick)
	}
	o.Typing = e.Typing
	if rank := o.Role.rank(); rank != e.rank {
		r.unlink(e)
		e.Occupant, e.rank = o, rank
		r.insert(e)
		return
	}
	e.Occupant = o
}

// UpdateSelf is Update for our own presence (status 110): it also records
// the nick the room gave us and our occupant-id, and that we are in.
func (r *Room) UpdateSelf(o Occupant) {
	r.Update(o)
	r.Nick, r.selfID = o.Nick, o.OccupantID
	r.State, r.Reason = Joined, ""
}

// Remove forgets the occupant with nick (it left, was kicked or banned) and
// returns what was known of it.
func (r *Room) Remove(nick string) (Occupant, bool) {
	e := r.byNick[nick]
	if e == nil {
		return Occupant{}, false
	}
	r.gen++
	r.unlink(e)
	delete(r.byNick, nick)
	r.dropID(e.OccupantID, nick)
	r.setTyping(nick, "")
	return e.Occupant, true
}

// Rename moves the occupant at old to nick new (status 303), keeping who it
// is: occupant-id, real JID, role, affiliation and presence; a chat state
// does not survive the change. An occupant already at new, which a room
// should never leave there, is replaced. When the occupant is us, Nick
// follows. Rename reports whether old was present.
func (r *Room) Rename(old, new string) bool {
	e := r.byNick[old]
	if e == nil {
		return false
	}
	if old == new {
		return true
	}
	self := r.IsSelf(e.Occupant)
	r.Remove(new)
	r.gen++
	r.unlink(e)
	delete(r.byNick, old)
	r.dropID(e.OccupantID, old)
	r.setTyping(old, "")
	e.Nick, e.fold, e.Typing = new, strings.ToLower(new), ""
	r.byNick[new] = e
	r.addID(e.OccupantID, new)
	r.insert(e)
	if self {
		r.Nick = new
	}
	return true
}

// SetTyping records an occupant's chat state; false when no such occupant
// is present.
func (r *Room) SetTyping(nick, state string) bool {
	e := r.byNick[nick]
	if e == nil {
		return false
	}
	r.gen++
	e.Typing = state
	r.setTyping(nick, state)
	return true
}

// TypingNicks lists the occupants composing a message, us left out, nick
// case-insensitively ordered; for TypingText.
func (r *Room) TypingNicks() []string {
	if !r.typingOK {
		r.typingS = r.typingS[:0]
		for n := range r.typing {
			r.typingS = append(r.typingS, n)
		}
		sortNicks(r.typingS)
		r.typingOK = true
	}
	out := make([]string, 0, len(r.typingS))
	for _, n := range r.typingS {
		if e := r.byNick[n]; e != nil && !r.IsSelf(e.Occupant) {
			out = append(out, n)
		}
	}
	return out
}

// IsSelf reports whether o is us. Once our own presence has told us our
// occupant-id, an occupant with a different one is not us whatever its nick:
// someone who takes our old nick after we changed it stays someone else.
// Without ids to go by, our nick decides.
func (r *Room) IsSelf(o Occupant) bool {
	if r.selfID != "" && o.OccupantID != "" {
		return o.OccupantID == r.selfID
	}
	return r.Nick != "" && o.Nick == r.Nick
}

// Self returns our own occupant, or nil while the room has not shown us in.
func (r *Room) Self() *Occupant {
	if e := r.byNick[r.Nick]; e != nil && r.IsSelf(e.Occupant) {
		return &e.Occupant
	}
	return nil
}

// Clear forgets the occupants and what our own presence told us, as when we
// leave or our session ends (a rejoin sends everything again). JID, Nick,
// Password, Subject, State, the counters and Notify stay: the caller says
// what state the room is in now.
func (r *Room) Clear() {
	r.gen++
	r.selfID = ""
	r.OccupantIDs = false
	r.byNick = map[string]*entry{}
	r.byID = map[string][]string{}
	r.typing = map[string]struct{}{}
	r.typingOK = false
	r.order, r.sorted = nil, nil
}

// Sorted lists the occupants grouped by role, moderators, participants,
// visitors, then any without a role, and by nick case-insensitively within a
// group. The list is kept in order as occupants come and go, so a call costs
// nothing until something changes and then one copy. The slice and the
// occupants belong to the room: do not change them.
func (r *Room) Sorted() []*Occupant {
	if r.sorted == nil {
		r.sorted = make([]*Occupant, len(r.order))
		for i, e := range r.order {
			r.sorted[i] = &e.Occupant
		}
	}
	return r.sorted
}

// sortNicks orders nicks case-insensitively, exactly on a tie.
func sortNicks(nicks []string) {
	folds := make(map[string]string, len(nicks))
	for _, n := range nicks {
		folds[n] = strings.ToLower(n)
	}
	sort.Slice(nicks, func(i, j int) bool {
		a, b := folds[nicks[i]], folds[nicks[j]]
		if a != b {
			return a < b
		}
		return nicks[i] < nicks[j]
	})
}
