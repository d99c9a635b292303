package chat

import (
	"time"

	"github.com/gab-chat/gab/roster"
)

// Command is something the user asks an account to do. Give it to
// Client.Do; the answer comes back as CommandDone or CommandFailed with the
// ID Do returned.
type Command interface{ isCommand() }

// SendMessage sends a message in the conversation Conv: to a contact's
// bare JID, to a room, or privately to one of its occupants.
type SendMessage struct {
	Conv   Conv
	Body   string
	Thread string
	// ReplyTo is the stored message this one answers (XEP-0461), 0 for
	// none: the message then carries the reply and a fallback quote.
	ReplyTo int64
	// Encrypt sends it with OMEMO 0.3 (chats only; Options.OMEMO on):
	// if it cannot be encrypted it is refused, never sent in plain text.
	// It waits in the command queue while offline, as it needs the
	// server to find the contact's devices.
	Encrypt bool
}

// SendChatState sends a standalone chat-state notification. It is sent only
// to contacts known to support chat states.
type SendChatState struct {
	Conv  Conv
	State ChatState
}

// SetPresence changes our own presence.
type SetPresence struct {
	Show   roster.Show
	Status string
	// Idle is when the user was last active (XEP-0319), zero when they
	// are now; auto-away sets it.
	Idle time.Time
}

// AddContact adds (or updates) a roster entry without subscribing.
type AddContact struct {
	JID    string
	Name   string
	Groups []string
}

// RenameContact changes a contact's roster name, keeping its groups.
type RenameContact struct {
	JID  string
	Name string
}

// SetGroups changes a contact's groups, keeping its name.
type SetGroups struct {
	JID    string
	Groups []string
}

// RemoveContact removes a contact from the roster (which also ends both
// subscriptions, RFC 6121 §2.5).
type RemoveContact struct{ JID string }

// Subscribe asks to see a contact's presence.
type Subscribe struct {
	JID  string
	Nick string // our nickname to send with the request (XEP-0172)
}

// ApproveSubscription lets a contact see our presence. Sent before they ask,
// it is a pre-approval (RFC 6121 §3.4).
type ApproveSubscription struct{ JID string }

// DenySubscription refuses a contact's request to see our presence.
type DenySubscription struct{ JID string }

// CancelSubscription stops a contact from seeing our presence.
type CancelSubscription struct{ JID string }

// Unsubscribe stops our seeing a contact's presence.
type Unsubscribe struct{ JID string }

// Block blocks a JID (XEP-0191): no messages or presence from it reach us.
type Block struct{ JID string }

// Unblock lifts a block.
type Unblock struct{ JID string }

// Reconnect drops the connection (if any) and connects again at once; it
// is also how a client that stopped on a final error is told to try again.
type Reconnect struct{}

// UsePassword logs in with this password, for as long as gab runs or until
// the server refuses it, instead of the account file's password or
// password_command; it connects again at once. Nothing is written to disk.
// It is how the interface can offer to type a password after a wrong one.
type UsePassword struct{ Password string }

// TrustCertificate pins the certificate (DER) a server presented that no
// trusted authority signed, and connects again. From then on that
// certificate, and no other, is accepted for the account.
type TrustCertificate struct{ DER []byte }

// LoadHistory reads stored messages of Conv older than the row Before
// (0: the newest), Limit at most; the answer is HistoryLoaded. It works
// offline too.
type LoadHistory struct {
	Conv   Conv
	Before int64
	Limit  int
}

// SearchHistory finds stored messages holding every word of Text, in the
// conversation Conv or, when Conv is zero, in all; the answer is
// SearchResults.
type SearchHistory struct {
	Text  string
	Conv  Conv
	Limit int
}

// LoadAround reads the stored message StoreID with its context; the answer
// is HistoryLoaded with Around set.
type LoadAround struct {
	Conv    Conv
	StoreID int64
}

// MarkDisplayed tells a contact we have read their message ID (XEP-0333).
// It goes only to contacts in the roster.
type MarkDisplayed struct {
	Conv Conv
	ID   string
}

// CorrectMessage replaces our message ReplaceID in Conv with Body (XEP-0308).
type CorrectMessage struct {
	Conv      Conv
	ReplaceID string
	Body      string
}

// FetchBlocklist asks for the whole block list; it arrives as a
// BlocklistChanged with Reset set.
type FetchBlocklist struct{}

func (SendMessage) isCommand()         {}
func (SendChatState) isCommand()       {}
func (SetPresence) isCommand()         {}
func (AddContact) isCommand()          {}
func (RenameContact) isCommand()       {}
func (SetGroups) isCommand()           {}
func (RemoveContact) isCommand()       {}
func (Subscribe) isCommand()           {}
func (ApproveSubscription) isCommand() {}
func (DenySubscription) isCommand()    {}
func (CancelSubscription) isCommand()  {}
func (Unsubscribe) isCommand()         {}
func (Block) isCommand()               {}
func (Unblock) isCommand()             {}
func (FetchBlocklist) isCommand()      {}
func (Reconnect) isCommand()           {}
func (UsePassword) isCommand()         {}
func (TrustCertificate) isCommand()    {}
func (LoadHistory) isCommand()         {}
func (SearchHistory) isCommand()       {}
func (LoadAround) isCommand()          {}
func (MarkDisplayed) isCommand()       {}
func (CorrectMessage) isCommand()      {}

// SafeCommand is cmd as it may travel in events and logs: a password
// given with UsePassword is blanked.
func SafeCommand(cmd Command) Command {
	if _, ok := cmd.(UsePassword); ok {
		return UsePassword{}
	}
	return cmd
}
