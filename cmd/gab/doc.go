// Command gab is a terminal XMPP chat client.
//
// This package only parses flags, handles signals and wires the pieces
// together: config, history store, one chat client per account, and the UI.
package main
