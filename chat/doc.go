// Package chat runs one client per account: the session life cycle, the
// translation of stream elements into typed events, the commands the UI sends
// back, and the XEP-0085 chat-state machine.
//
// A Client talks to the rest of gab only through Event values on one ordered
// channel and Command values given to Do, which never blocks.
package chat
