package room

import "sort"

// Rooms is one account's rooms, by bare room JID as the client writes it.
type Rooms struct {
	rooms map[string]*Room
}

// NewRooms returns an empty collection.
func NewRooms() *Rooms { return &Rooms{rooms: map[string]*Room{}} }

// Get returns the room with jid, or nil.
func (rs *Rooms) Get(jid string) *Room { return rs.rooms[jid] }

// Add returns the room with jid, made with New(jid, nick) when there was
// none; an existing room is returned as it is.
func (rs *Rooms) Add(jid, nick string) *Room {
	r := rs.rooms[jid]
	if r == nil {
		r = New(jid, nick)
		rs.rooms[jid] = r
	}
	return r
}

// Remove forgets the room with jid.
func (rs *Rooms) Remove(jid string) { delete(rs.rooms, jid) }

// Len is the number of rooms.
func (rs *Rooms) Len() int { return len(rs.rooms) }

// All lists the rooms in order of JID.
func (rs *Rooms) All() []*Room {
	out := make([]*Room, 0, len(rs.rooms))
	for _, r := range rs.rooms {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JID < out[j].JID })
	return out
}
