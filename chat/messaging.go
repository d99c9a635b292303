package chat

// The vocabulary of acting on one message: replies (XEP-0461), reactions
// (XEP-0444), retraction (XEP-0424), moderation (XEP-0425) and files
// (XEP-0363 upload, XEP-0066 out-of-band data). A command names the message
// it acts on by its row in the history store (StoreID), which the
// interface has for every message line it shows; the client reads the ids
// the protocol needs (the message's id, origin-id or the room's stanza-id)
// from that row.

// ReplyInfo is what a message answers (XEP-0461).
type ReplyInfo struct {
	// StoreID is the answered message's row, 0 when it is not stored here.
	StoreID int64
	ID      string // the id the reply names
	To      string // the JID the reply names as the answered message's author ("" when not given)
	// Quote is the answered message's first line, from the store when it
	// is there, else from the sender's fallback quote (remote text).
	Quote string
	// Author is the answered message's author as shown (remote text).
	Author string
}

// FileInfo is a file shared by URL: an XEP-0066 out-of-band element, an
// upload of ours, or a message that is a bare https URL.
type FileInfo struct {
	URL  string // remote text; only http and https are ever opened
	Name string // the last path segment, unescaped (remote text)
	Size int64  // bytes, -1 when unknown
	Type string // media type when known
}

// Reaction is one emoji's tally on a message.
type Reaction struct {
	Emoji string // remote text
	Count int
	Own   bool // one of them is ours
}

// Retraction says a message was removed: by its sender (XEP-0424) or by a
// room moderator (XEP-0425). The store keeps a tombstone without the text.
type Retraction struct {
	Moderated bool
	By        string // the moderator's nick or JID, for a moderation (remote text)
	Reason    string // a moderator's reason (remote text)
}

// ReactionsChanged: the reactions on the stored message StoreID changed;
// Reactions is the whole new tally, in the order the emojis were first used.
type ReactionsChanged struct {
	Conv      Conv
	StoreID   int64
	Reactions []Reaction
}

// MessageRetracted: the stored message StoreID was retracted or moderated.
type MessageRetracted struct {
	Conv    Conv
	StoreID int64
	ID      string // its stanza id, for a line shown without a store row
	Retraction
}

// ActionRefused: someone sent a retraction, moderation, reaction or
// correction they may not make (another's message, a forged moderator); it
// was not applied. What says what was tried, for a line in the
// conversation.
type ActionRefused struct {
	Conv Conv
	From string // as sent (remote text)
	What string
}

// UploadProgress: the upload started by command CommandID has sent Sent of
// Total bytes. Done with Err nil: the file is at URL and the message
// carrying it follows as a MessageSent. Done with Err set: it failed or
// was cancelled (Cancelled).
type UploadProgress struct {
	CommandID uint64
	Conv      Conv
	Name      string
	Sent      int64
	Total     int64
	Rate      float64 // bytes per second over the last seconds
	Done      bool
	Cancelled bool
	URL       string
	Err       error
}

// SendReaction sets our reactions on the stored message StoreID to Emojis
// (XEP-0444 replaces the whole set; empty removes ours).
type SendReaction struct {
	Conv    Conv
	StoreID int64
	Emojis  []string
}

// RetractMessage retracts our own stored message StoreID (XEP-0424).
type RetractMessage struct {
	Conv    Conv
	StoreID int64
}

// ModerateMessage asks the room to remove the stored message StoreID
// (XEP-0425); we must be a moderator.
type ModerateMessage struct {
	Conv    Conv
	StoreID int64
	Reason  string
}

// UploadFile uploads the file at Path (XEP-0363) and sends its URL in Conv
// with an out-of-band element (XEP-0066). UploadProgress events follow,
// then the command's answer.
//
// Encrypt (a chat encrypted with OMEMO): the file is encrypted before it
// goes (XEP-0454) and its aesgcm:// link is sent encrypted, without the
// out-of-band element; what cannot be shared encrypted is refused, never
// uploaded or sent in plain text.
type UploadFile struct {
	Conv    Conv
	Path    string
	Encrypt bool
}

// CancelUpload stops the upload started by command Upload.
type CancelUpload struct {
	Upload uint64
}

func (ReactionsChanged) isEvent() {}
func (MessageRetracted) isEvent() {}
func (ActionRefused) isEvent()    {}
func (UploadProgress) isEvent()   {}

func (SendReaction) isCommand()    {}
func (RetractMessage) isCommand()  {}
func (ModerateMessage) isCommand() {}
func (UploadFile) isCommand()      {}
func (CancelUpload) isCommand()    {}
