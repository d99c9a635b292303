// Package roster is the pure roster model: contacts, their groups and
// subscription state, presence per resource, the best resource of a contact,
// and the orders the UI shows contacts in.
//
// It does no I/O and knows nothing of XMPP wire formats or of the UI; the chat
// package feeds it and the ui package reads it, both on the UI goroutine, so it
// has no locks.
package roster
