package roster

// Show is a contact's availability, ordered from least to most available so
// that comparisons rank resources and contacts.
type Show int

const (
	Offline Show = iota
	XA
	DND
	Away
	Online
	Chat
)

var showNames = [...]string{"offline", "xa", "dnd", "away", "online", "chat"}

func (s Show) String() string {
	if s < 0 || int(s) >= len(showNames) {
		return "offline"
	}
	return showNames[s]
}

// ParseShow reads a <show/> value; "" means plainly available (RFC 6121
// §4.7.2.1). Unknown values are taken as available too.
func ParseShow(s string) Show {
	switch s {
	case "chat":
		return Chat
	case "away":
		return Away
	case "xa":
		return XA
	case "dnd":
		return DND
	case "offline", "unavailable":
		return Offline
	}
	return Online
}

// ShowFromStatus is ParseShow for the names a user types ("online", ...).
func ShowFromStatus(s string) (Show, bool) {
	for i, n := range showNames {
		if n == s && i != int(Offline) {
			return Show(i), true
		}
	}
	return Offline, false
}

// WireShow is the <show/> text for s, "" for plain availability.
func (s Show) WireShow() string {
	switch s {
	case Chat, Away, XA, DND:
		return s.String()
	}
	return ""
}

// Presence is what one resource of a contact announced.
type Presence struct {
	Resource string
	Show     Show
	Status   string
	Priority int
}

// better reports whether p should be preferred to q as a contact's best
// resource: higher priority first, then more available, then by name so the
// choice is stable.
func (p Presence) better(q Presence) bool {
	if p.Priority != q.Priority {
		return p.Priority > q.Priority
	}
	if p.Show != q.Show {
		return p.Show > q.Show
	}
	return p.Resource < q.Resource
}
