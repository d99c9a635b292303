package room

import (
	"strings"

	"github.com/gab-chat/gab/roster"
)

// Role is an occupant's role in a room (XEP-0045 §5.1): what it may do now.
type Role string

// Roles, from most to least privileged.
const (
	Moderator   Role = "moderator"
	Participant Role = "participant"
	Visitor     Role = "visitor"
	RoleNone    Role = "none"
)

// ParseRole reads a role attribute; anything unknown, or none given, is
// RoleNone.
func ParseRole(s string) Role {
	switch r := Role(s); r {
	case Moderator, Participant, Visitor:
		return r
	}
	return RoleNone
}

// rank is the role's place in the occupant list: moderators first.
func (r Role) rank() int {
	switch r {
	case Moderator:
		return 0
	case Participant:
		return 1
	case Visitor:
		return 2
	}
	return 3
}

// Affiliation is an occupant's long-lived standing in a room (XEP-0045
// §5.2).
type Affiliation string

// Affiliations, from most to least privileged (outcast is banned).
const (
	Owner           Affiliation = "owner"
	Admin           Affiliation = "admin"
	Member          Affiliation = "member"
	Outcast         Affiliation = "outcast"
	AffiliationNone Affiliation = "none"
)

// ParseAffiliation reads an affiliation attribute; anything unknown, or none
// given, is AffiliationNone.
func ParseAffiliation(s string) Affiliation {
	switch a := Affiliation(s); a {
	case Owner, Admin, Member, Outcast:
		return a
	}
	return AffiliationNone
}

// Composing is the XEP-0085 chat state of someone typing; it is the only
// state TypingNicks counts.
const Composing = "composing"

// Occupant is one participant of a room as its presence describes it.
type Occupant struct {
	Nick        string // the resource of the occupant JID: unique in the room
	OccupantID  string // XEP-0421 id, stable across nick changes; "" when the room offers none
	RealJID     string // full real JID, when the room shows it to us; "" otherwise
	Role        Role
	Affiliation Affiliation
	Show        roster.Show
	Status      string
	Typing      string // XEP-0085 chat state, "" for none
}

// Same reports whether a and b are the same participant: by occupant-id
// where both have one, else by real (bare) JID where both have one, else by
// nick. A nick is only a name in use now: a room may hand it to someone else
// after its holder leaves or changes it.
func Same(a, b Occupant) bool {
	if a.OccupantID != "" && b.OccupantID != "" {
		return a.OccupantID == b.OccupantID
	}
	if a.RealJID != "" && b.RealJID != "" {
		return bare(a.RealJID) == bare(b.RealJID)
	}
	return a.Nick == b.Nick
}

// bare drops the resource of a JID.
func bare(jid string) string {
	if i := strings.IndexByte(jid, '/'); i >= 0 {
		return jid[:i]
	}
	return jid
}
