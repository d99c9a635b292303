// Package xmpptest starts a real Prosody on 127.0.0.1 for tests: a throw-away
// configuration, a self-signed certificate for localhost, and helpers to
// register accounts, write rosters and run a slixmpp peer.
//
// When Prosody is not installed the tests that need it fail with a message
// saying how to install it; they never skip silently.
package xmpptest
