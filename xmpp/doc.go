// Package xmpp is gab's protocol layer: it dials a server (SRV, STARTTLS or
// direct TLS), authenticates with SASL, binds a resource, and then yields the
// stream one bounded top-level element at a time, in order.
//
// The reader decodes every stanza into a small element tree with limits on
// nesting depth and size; whatever a stanza nests is payload, whatever its
// namespace, so nothing a peer sends can end the session. Oversized stanzas are
// skipped and reported. Writes go through one serialising writer that is safe
// for concurrent senders, and IQ results are matched to their requests by id and
// sender.
//
// The package knows nothing of rosters, messages or the UI: that is the chat
// package's job.
package xmpp
