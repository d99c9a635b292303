package chat

import "github.com/gab-chat/gab/room"

// Multi-user chat (XEP-0045): the events a room produces and the commands
// that act on one. Messages in a room are MessageReceived / MessageSent
// with a Conv of kind KindRoom; private messages with an occupant have
// KindPrivate.

// RoomJoining: a join was sent (by JoinRoom, or again after a new session)
// and its answer is awaited.
type RoomJoining struct {
	Room string // bare JID
	Nick string
}

// RoomJoined: our own presence came back from the room (status 110): we
// are in, as Self. Created: the room did not exist and was made for us as
// an instant room (status 201). NonAnonymous: every occupant's real JID
// is shown to everyone (status 100). Archive: the room keeps an archive
// (XEP-0313) that gab catches up from.
type RoomJoined struct {
	Room         string
	Self         room.Occupant
	Created      bool
	NonAnonymous bool
	Archive      bool
	Name         string // the room's name from its disco#info, "" if none
	// Configure: the room was made for us and waits, locked, for its
	// configuration (JoinRoom.Configure): FetchRoomConfig, then
	// SubmitRoomConfig (or CancelRoomConfig).
	Configure bool
}

// OccupantChanged: an occupant joined or changed presence, role or
// affiliation (Left false), or left (Left true). NewNick is set when it
// left only to come back under a new nick (status 303); Kicked, Banned
// and Removed say why one was made to leave (307; 301; 321, 322). Actor
// and Reason are what the room said about it. Self: it is us.
type OccupantChanged struct {
	Room     string
	Occupant room.Occupant
	Left     bool
	NewNick  string
	Kicked   bool
	Banned   bool
	Removed  bool
	Self     bool
	Actor    string
	Reason   string
	Codes    []int
}

// RoomLeft: we are out of the room, because we asked (Part), were made to
// (State Kicked, Banned, Removed), the room went away (Destroyed, with
// AltRoom where the room named one), or it dropped us (Failed, after which
// gab tries to join again while Rejoin says so).
type RoomLeft struct {
	Room    string
	State   room.State
	Reason  string
	Actor   string
	AltRoom string
	Rejoin  bool
}

// RoomJoinFailed: the room refused to let us in. Condition is the error
// condition (conflict, not-authorized, registration-required, forbidden,
// service-unavailable, item-not-found, …) and Text the room's words; the
// fields below say what the user can do about it.
type RoomJoinFailed struct {
	Room         string
	Nick         string
	Condition    string
	Text         string
	NickConflict bool // 409: another occupant has that nick; try another
	NeedPassword bool // 401: the room asks for a password
	MembersOnly  bool // 407: only members may enter
	Banned       bool // 403: we are banned
	Full         bool // 503: the room is full
	Gone         bool // 404 / gone: there is no such room (any more)
	Suggestion   string
}

// RoomSubject: the room's subject (topic), set by Nick ("" when the room
// itself or nobody set it). It comes when we join and when it changes.
type RoomSubject struct {
	Room    string
	Subject string
	Nick    string
	Delayed bool // the subject as it was when we joined, not a change
}

// InvitationReceived: From invites us to Room, directly (XEP-0249) or
// through the room (XEP-0045 §7.8.2, Mediated). It is a notice; joining
// is the user's choice.
type InvitationReceived struct {
	Room     string
	From     string
	Reason   string
	Password string
	Mediated bool
}

// RoomCatchUp: the room's archive (or its history, where it keeps no
// archive) has been read after joining: Count messages were new.
type RoomCatchUp struct {
	Room  string
	Count int
	Err   error
}

func (RoomJoining) isEvent()        {}
func (RoomJoined) isEvent()         {}
func (OccupantChanged) isEvent()    {}
func (RoomLeft) isEvent()           {}
func (RoomJoinFailed) isEvent()     {}
func (RoomSubject) isEvent()        {}
func (InvitationReceived) isEvent() {}
func (RoomCatchUp) isEvent()        {}

// JoinRoom enters a room (bare JID) as Nick, with Password if the room
// has one. The answer is RoomJoined or RoomJoinFailed (and the command's
// CommandDone or CommandFailed). While gab runs it rejoins the room after
// every new session until LeaveRoom.
type JoinRoom struct {
	Room     string
	Nick     string
	Password string
	// Configure: a room made by this join waits for its configuration
	// (RoomJoined.Configure says so) instead of opening as an instant
	// room with the service's defaults.
	Configure bool
}

// LeaveRoom leaves a room, saying Reason to those in it.
type LeaveRoom struct {
	Room   string
	Reason string
}

// ChangeNick takes a new nick in a room.
type ChangeNick struct {
	Room string
	Nick string
}

// SetSubject changes a room's subject.
type SetSubject struct {
	Room    string
	Subject string
}

// Invite invites JID to a room (XEP-0249 direct invitation).
type Invite struct {
	Room   string
	JID    string
	Reason string
}

// SetRole gives the occupant Nick a role (kick is role none); moderators
// only.
type SetRole struct {
	Room   string
	Nick   string
	Role   room.Role
	Reason string
}

// SetAffiliation gives JID (a bare JID) an affiliation in the room (ban is
// outcast); admins and owners only.
type SetAffiliation struct {
	Room        string
	JID         string
	Affiliation room.Affiliation
	Reason      string
}

func (JoinRoom) isCommand()       {}
func (LeaveRoom) isCommand()      {}
func (ChangeNick) isCommand()     {}
func (SetSubject) isCommand()     {}
func (Invite) isCommand()         {}
func (SetRole) isCommand()        {}
func (SetAffiliation) isCommand() {}
