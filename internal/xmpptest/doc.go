// Package xmpptest starts real XMPP servers on 127.0.0.1 for tests: Prosody
// (Start) and ejabberd (StartEjabberd), each with a throw-away configuration
// and a self-signed certificate for localhost, and helpers to register
// accounts, write rosters, run a slixmpp peer, log in a raw client that
// sends text as it is (DialRaw, LoginRaw) and break connections (Proxy).
// Options{MUC: true} adds group chat rooms and bookmarks; muc.go lists
// what they do on the wire and the peer's room commands.
// Tests that work with either server take an XMPPServer.
//
// When a server is not installed the tests that need it fail with a message
// saying how to install it; they never skip silently.
package xmpptest
