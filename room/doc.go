// Package room is the pure model of multi-user chat rooms (XEP-0045): the
// occupants of each room with their roles, affiliations and presence, our
// own place in the room, its subject and join state, and the text helpers a
// room view needs (mentions of our nick, "who is typing", nick completion).
//
// Occupants are not contacts: they are known by their nick in one room, and
// at best by the stable occupant-id the room gives them (XEP-0421) or the
// real JID a non-anonymous room shows. The model stores nicks and other text
// exactly as the room sent them; shortening and sanitising are for the UI.
//
// It does no I/O and knows nothing of XMPP wire formats or of the UI; the chat
// package feeds it and the ui package reads it, both on the UI goroutine, so it
// has no locks.
package room
