package chat

import (
	"crypto/x509"
	"time"

	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
)

// Event is something that happened on an account. Events come out of
// Client.Events in the order they happened.
type Event interface{ isEvent() }

// Connected: the session is up. When Resumed, the server kept the
// session (XEP-0198): roster and presence are as they were and whatever
// was missed follows. Otherwise the roster and presence come anew.
type Connected struct {
	JID       string // full JID the server bound
	Mechanism string // SASL mechanism used
	Resumed   bool
}

// Disconnected: the session ended. Err is nil when the user asked for it.
// RetryIn is how long until the next attempt; 0 when the client gives up
// (Final) because a retry cannot help, such as a wrong password.
type Disconnected struct {
	Err     error
	RetryIn time.Duration
	Final   bool
	// Untrusted is the certificate the server presented when no trusted
	// authority signed it: the user may pin it with TrustCertificate.
	Untrusted *x509.Certificate
	// NeedPassword: the server refused the password (not-authorized), or
	// there was none to try (password_command failed or printed nothing).
	// The user may type one with UsePassword.
	NeedPassword bool
}

// Retrying: another attempt to connect failed during the same outage,
// which a Disconnected already announced; the next comes in RetryIn.
// Attempt counts the failed attempts since that Disconnected (2 for the
// first Retrying). It is for a status line, not for the console: one outage,
// one console line.
type Retrying struct {
	Err     error
	RetryIn time.Duration
	Attempt int
}

// Fingerprint is a certificate's SHA-256, as users compare them.
func Fingerprint(c *x509.Certificate) string { return xmpp.Fingerprint(c) }

// RosterReset replaces the whole roster (initial fetch, or after reconnect).
// Cached: the roster as saved at the end of the last run, shown before the
// server has answered; the server's own (Cached false) follows once
// connected — the same items when nothing changed meanwhile.
type RosterReset struct {
	Items   []roster.Item
	Version string
	Cached  bool
}

// RosterPushed changes one roster entry; Subscription "remove" deletes it.
type RosterPushed struct {
	Item    roster.Item
	Version string
}

// PresenceChanged is one resource's presence. Available false means it went
// offline; Resource "" then means every resource of the contact.
type PresenceChanged struct {
	From      string // full JID as sent
	Bare      string
	Resource  string
	Available bool
	Show      roster.Show
	Status    string
	Priority  int
	Caps      string // XEP-0115 node#ver, when the presence carries one
}

// SubscriptionRequested: From asks to see our presence (RFC 6121 §3.1).
type SubscriptionRequested struct {
	From   string // bare JID
	Nick   string // XEP-0172 nickname, if sent
	Status string
}

// SubscriptionChanged is an answer about a subscription: "subscribed"
// (From approved ours), "unsubscribed" (From denied or cancelled ours) or
// "unsubscribe" (From no longer wants ours).
type SubscriptionChanged struct {
	From string
	Type string
}

// MessageReceived is a message with a body, in the conversation Conv.
type MessageReceived struct {
	Conv Conv
	ID   string
	From string // full JID as sent
	Bare string
	To   string
	Type string // chat, normal, headline, groupchat
	// Nick and OccupantID say who wrote a room message: the occupant's
	// nick and its XEP-0421 occupant-id ("" where the room gives none).
	Nick       string
	OccupantID string
	Body       string
	Thread     string
	Time       time.Time // the XEP-0203 delay stamp when present, else when read
	Delayed    bool
	OriginID   string // XEP-0359, to recognise a copy sent again
	Carbon     bool   // a copy of a message to another of our devices (XEP-0280)
	Receipt    bool   // the sender asks for a delivery receipt (XEP-0184)
	Markable   bool   // the sender wants to know when it is read (XEP-0333)
	StoreID    int64  // its row in the history store, 0 without one
	// ArchiveID is the id our server's archive gave it (XEP-0359
	// stanza-id by our own account); copies are recognised by it.
	ArchiveID string
	// Archived: fetched from the archive while catching up, not pushed
	// (it may have been read on another device already).
	Archived bool
	// Note is gab's remark on the message, for the conversation: why a
	// correction is shown as a message of its own. "" for most.
	Note string
	// Reply: what the message answers (XEP-0461); Body is then without
	// the sender's fallback quote. File: the file it shares.
	Reply *ReplyInfo
	File  *FileInfo
	// Encrypted is the message's OMEMO element (XEP-0384), nil for a
	// plaintext message. Body is then what gab decrypted: "" while it
	// cannot decrypt (Note says so). The body an encrypted message carries
	// is a fallback for clients without OMEMO and is never taken for the
	// message.
	Encrypted *OMEMOEncrypted
	// OMEMO: the message was encrypted and gab decrypted it (Body); nil
	// for a plaintext message and for one gab could not read.
	OMEMO *OMEMOInfo
	// RealJID: in a room, the sender's real bare JID as the room's
	// archive gave it ("" when it did not, and for live messages).
	RealJID string
}

// StoredMessage is one message read back from the history store.
type StoredMessage struct {
	StoreID    int64
	Conv       Conv
	Nick       string // who wrote it, in a room
	OccupantID string // its author's XEP-0421 occupant-id, in a room
	ID         string // stanza id
	Outgoing   bool
	From       string
	Body       string
	Time       time.Time
	State      string // delivery state of an outgoing message
	Edited     bool   // corrected after it was sent (XEP-0308)
	Reply      *ReplyInfo
	File       *FileInfo
	Reactions  []Reaction
	Retracted  *Retraction // a tombstone: Body is empty
	OMEMO      *OMEMOInfo  // it was encrypted (see MessageReceived.OMEMO)
}

// HistoryLoaded answers LoadHistory: stored messages of Conv older than
// Before (0: the newest), oldest first; More says whether older ones remain.
type HistoryLoaded struct {
	Conv     Conv
	Before   int64
	Messages []StoredMessage
	More     bool
	// Around is set when this answers LoadAround: the messages are that
	// row's context, to be shown instead of what the tab held.
	Around int64
}

// SearchResults answers SearchHistory, newest first.
type SearchResults struct {
	Text string
	Conv Conv // zero: every conversation
	Hits []StoredMessage
	// Unsearched is about how many stored messages the search could not
	// look at yet: the search index is being refilled (after an upgrade)
	// and had not reached them. Zero normally.
	Unsearched int64
}

func (SearchResults) isEvent() {}

func (HistoryLoaded) isEvent() {}

// MessageSent is a message the user wrote, as it enters the outbox
// (State pending). DeliveryChanged follows as it goes out and is confirmed.
// A message refused before it could go out (bigger than the account's
// max_message_size) comes with State failed, kept in history but never
// sent; its command fails, saying why.
type MessageSent struct {
	Conv      Conv
	CommandID uint64
	ID        string
	To        string
	Body      string
	Thread    string
	Time      time.Time
	State     string
	StoreID   int64
	Reply     *ReplyInfo
	File      *FileInfo
	OMEMO     *OMEMOInfo // sent encrypted (Trust: our own device's)
}

// DeliveryChanged: a message the user wrote moved on (DeliveryUnacked,
// DeliverySent, DeliveryFailed).
type DeliveryChanged struct {
	Conv  Conv
	ID    string
	To    string
	State string
	// Reason says why, for DeliveryFailed when gab knows (the server
	// refused the message as too big); "" otherwise.
	Reason string
}

// ReceiptReceived: From's client confirms it received our message ID
// (XEP-0184).
type ReceiptReceived struct {
	From string
	Bare string
	ID   string
}

func (ReceiptReceived) isEvent() {}

// MarkerReceived: Bare has read our messages up to ID (XEP-0333
// displayed).
type MarkerReceived struct {
	From string
	Bare string
	ID   string
}

// MessageCorrected: Bare replaced its message ReplaceID with Body (XEP-0308
// last message correction). A contact may correct only the last message it
// sent in the conversation, from the same full JID; a correction that may
// not comes as a MessageReceived with a Note instead.
type MessageCorrected struct {
	Conv Conv
	// Nick and OccupantID: the occupant correcting, in a room.
	Nick       string
	OccupantID string
	From       string
	Bare       string
	ReplaceID  string // the id of the message as first sent
	NewID      string
	Body       string
	Outgoing   bool // we corrected our own message
	// AsMessage is the correction as a message of its own, for the
	// client to show as such when it may not correct (not emitted).
	AsMessage MessageReceived
}

func (MarkerReceived) isEvent()   {}
func (MessageCorrected) isEvent() {}

// ChatState is an XEP-0085 chat state.
type ChatState string

const (
	StateActive    ChatState = "active"
	StateComposing ChatState = "composing"
	StatePaused    ChatState = "paused"
	StateInactive  ChatState = "inactive"
	StateGone      ChatState = "gone"
)

// ChatStateChanged is a contact's chat state ("alice is typing…"), or in
// a room an occupant's (Nick).
type ChatStateChanged struct {
	Conv  Conv
	Nick  string
	From  string
	Bare  string
	State ChatState
}

// StanzaError is an error returned for a stanza: a message that could not
// be delivered, a request that failed.
type StanzaError struct {
	Kind string // message, presence, iq
	From string
	Bare string
	ID   string
	Err  *xmpp.StanzaError
}

// CommandDone reports that a command succeeded.
type CommandDone struct {
	ID      uint64
	Command Command
}

// CommandFailed reports that a command failed and why.
type CommandFailed struct {
	ID      uint64
	Command Command
	Err     error
}

// BlocklistChanged reports blocked JIDs (XEP-0191). Reset means JIDs is the
// whole list; otherwise Blocked says whether they were added or removed.
type BlocklistChanged struct {
	JIDs    []string
	Blocked bool
	Reset   bool
}

// Notice is a line for the console: a stanza dropped as hostile or
// malformed, a spoof attempt, a server notice.
type Notice struct {
	Text string
}

func (Connected) isEvent()             {}
func (Disconnected) isEvent()          {}
func (Retrying) isEvent()              {}
func (RosterReset) isEvent()           {}
func (RosterPushed) isEvent()          {}
func (PresenceChanged) isEvent()       {}
func (SubscriptionRequested) isEvent() {}
func (SubscriptionChanged) isEvent()   {}
func (MessageReceived) isEvent()       {}
func (MessageSent) isEvent()           {}
func (DeliveryChanged) isEvent()       {}
func (ChatStateChanged) isEvent()      {}
func (StanzaError) isEvent()           {}
func (CommandDone) isEvent()           {}
func (CommandFailed) isEvent()         {}
func (BlocklistChanged) isEvent()      {}
func (Notice) isEvent()                {}
