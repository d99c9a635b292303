package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
)

// Doer takes commands for one account; *chat.Client is one.
type Doer interface {
	Do(chat.Command) uint64
}

// Account is the UI's view of one account.
type Account struct {
	Name    string
	Client  Doer
	Roster  *roster.Roster
	Conn    string // connecting, online, offline, reconnecting…
	JID     string // full JID bound, once online
	Show    roster.Show
	Status  string
	Blocked map[string]bool // the server's block list (XEP-0191)
	// Nick is the account's nick setting for rooms ("": the JID's
	// localpart); MUCService its server's group chat service, once found.
	Nick       string
	MUCService string
	// Bookmarks are the rooms kept on the server (XEP-0402), by room JID.
	Bookmarks map[string]chat.Bookmark
	Rooms     *room.Rooms // the rooms (XEP-0045) joined or tried in this run
	// Cached: the contact list shown is the one saved by the last run;
	// the server has not confirmed it yet in this run.
	Cached bool
	// CatchUp is how far reading the archives after a new session stands;
	// zero when no catch-up is under way.
	CatchUp chat.CatchUpProgress
	// Uploads are the files being uploaded (upload.go), oldest first.
	Uploads []*Upload
	// OMEMO: the account uses OMEMO (omemo = true); omemoDevices counts
	// each contact's published OMEMO devices, as announced, by version
	// (chat.OMEMO03, chat.OMEMO2).
	OMEMO bool
	// OMEMOManual: omemo_policy = "manual": a conversation is encrypted
	// only after /omemo on, or once an encrypted message was seen there
	// (not because the contact has devices or the room can be).
	OMEMOManual  bool
	omemoDevices map[string][3]int
	// omemoAsked: the JIDs whose device lists were asked for on opening
	// a chat with them (omemoLookUp), once a run.
	omemoAsked map[string]bool
	// omemoRooms: for each room entered, "" when it can be encrypted,
	// else why not (chat.RoomEncryption).
	omemoRooms map[string]string
}

// LineKind says how a conversation line is drawn.
type LineKind int

const (
	LineIn    LineKind = iota // a message from the peer
	LineOut                   // a message we sent
	LineInfo                  // a notice from gab
	LineError                 // something failed
)

// Line is one entry of a conversation.
type Line struct {
	Time      time.Time
	Sender    string // name shown, remote text
	SenderKey string // what the sender's colour derives from (a JID)
	Body      string // remote text
	Kind      LineKind
	ID        string           // the message id, for delivery updates
	State     string           // delivery state of a message we sent
	StoreID   int64            // its row in the history store, 0 for lines not stored
	Highlight bool             // the message a search jumped to
	Markable  bool             // the sender wants to know when it is read (XEP-0333)
	Edited    bool             // corrected after it was sent (XEP-0308)
	Mention   bool             // a room message that names our nick
	Spans     [][2]int         // where in Body our nick is named, to highlight
	Reply     *chat.ReplyInfo  // what the message answers (XEP-0461)
	File      *chat.FileInfo   // the file it shares
	Reactions []chat.Reaction  // the reactions on it, tallied
	Retracted *chat.Retraction // removed by its sender or a moderator: Body is empty
	Enc       *chat.OMEMOInfo  // it was encrypted (OMEMO)
	Plain     bool             // in plain text, in an encrypted chat

	wrapped []row // screen rows at wrapWidth, computed once per width
	wrapW   int
	wrapX   uint64 // extrasSig of what wrapped shows around the body
}

// MaxLines bounds a conversation's in-memory window.
const MaxLines = 2000

// Conversation is one tab. A zero Conv is the console.
type Conversation struct {
	Account   string
	Conv      chat.Conv // what it is: a chat, a room, a private chat in a room
	Lines     []Line
	Unread    int
	PeerState chat.ChatState
	States    *chat.StateMachine
	Scroll    int    // rows scrolled up from the bottom
	Mark      int    // index of the first line not yet seen, -1 for none: the "new messages" marker
	More      bool   // older messages are in the store
	Focus     int64  // store row to bring into view at the next draw
	marked    string // the last message we told the peer we read
	Loading   bool   // a page of history was asked for
	omemo     int    // /omemo: omemoAuto, omemoOn or omemoOff
	encrypted bool   // an encrypted message was seen here
	timer     *time.Timer
	stored    map[int64]bool // store rows shown, so nothing shows twice
	Title     string         // a room's name, from the room; "" for none (remote text)
	recent    []string       // in a room: who spoke, most recent first, for nick completion
	// unseen is how many messages counted as unread on the contact or
	// room (see countOnly) were waiting when the tab opened: the "new
	// messages" marker goes before them once its first page is in.
	unseen int
}

func (c *Conversation) add(l Line) { c.insert(l, false) }

// insert adds l to the conversation: at the end, or, with byTime (a
// message from the archive, sent a while ago), after the last line not
// newer than it, so the conversation reads in time order. It returns
// where l went, -1 when it is not shown (shown already, or trimmed away
// at once).
func (c *Conversation) insert(l Line, byTime bool) int {
	if l.StoreID != 0 {
		if c.stored[l.StoreID] {
			return -1 // already shown from a page of history
		}
		if c.stored == nil {
			c.stored = map[int64]bool{}
		}
		c.stored[l.StoreID] = true
	}
	i := len(c.Lines)
	for byTime && i > 0 && later(&c.Lines[i-1], &l) {
		i--
	}
	c.Lines = slices.Insert(c.Lines, i, l)
	if c.Mark >= 0 && i <= c.Mark {
		c.Mark++ // the line marked moved down
	}
	// Trim a quarter of the window at a time: trimming one line per
	// message would copy the whole window for every message of a flood.
	if len(c.Lines) > MaxLines+MaxLines/4 {
		drop := len(c.Lines) - MaxLines
		// What leaves the window is no longer shown: paging back brings
		// it in again.
		for _, l := range c.Lines[:drop] {
			delete(c.stored, l.StoreID)
		}
		n := copy(c.Lines, c.Lines[drop:])
		clear(c.Lines[n:])
		c.Lines = c.Lines[:n]
		if c.Mark >= 0 {
			c.Mark = max(0, c.Mark-drop)
		}
		i -= drop
	}
	return max(i, -1)
}

// later reports whether a belongs after b: a later time, or the same time
// and stored after it.
func later(a, b *Line) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	return a.StoreID != 0 && b.StoreID != 0 && a.StoreID > b.StoreID
}

// setState updates the delivery mark of the message with id, searching
// from the newest line.
func (c *Conversation) setState(id, state string) {
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if c.Lines[i].ID == id {
			c.Lines[i].State = state
			c.Lines[i].wrapped = nil // the mark is part of its first row
			return
		}
	}
}

// oldestStored is the smallest store row shown, 0 for none.
func (c *Conversation) oldestStored() int64 {
	for _, l := range c.Lines {
		if l.StoreID != 0 {
			return l.StoreID
		}
	}
	return 0
}

// addHistory merges a page read from the store (in time order): what is
// shown already is skipped; when the page is all older than what is shown
// (paging back) it goes in front at once, otherwise each line goes where
// its time puts it (a newer one's event is on its way and will be
// recognised).
func (c *Conversation) addHistory(lines []Line) {
	var fresh []Line
	for _, l := range lines {
		if !c.stored[l.StoreID] {
			fresh = append(fresh, l)
		}
	}
	if len(fresh) == 0 {
		return
	}
	if len(c.Lines) > 0 && later(&fresh[len(fresh)-1], &c.Lines[0]) {
		for _, l := range fresh {
			c.insert(l, true)
		}
		return
	}
	if c.stored == nil {
		c.stored = map[int64]bool{}
	}
	for _, l := range fresh {
		c.stored[l.StoreID] = true
	}
	c.Lines = append(fresh, c.Lines...)
	if c.Mark >= 0 {
		c.Mark += len(fresh)
	}
}

// correct replaces the text of the newest line with id written by the
// given side: a peer can only correct its own messages.
func (c *Conversation) correct(id string, kind LineKind, body string) {
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if l := &c.Lines[i]; l.ID == id && l.Kind == kind {
			if l.Retracted == nil { // a removed message stays removed
				l.Body, l.Edited, l.wrapped, l.Spans = body, true, nil, nil
			}
			return
		}
	}
}

// lastOwn is the newest message we sent in c that can be corrected:
// none when the newest was removed (a correction names the last message).
func (c *Conversation) lastOwn() *Line {
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if l := &c.Lines[i]; l.Kind == LineOut && l.ID != "" {
			if l.Retracted != nil {
				return nil
			}
			return l
		}
	}
	return nil
}

// markUnseen puts the "new messages" marker before the line at i, just
// added, unless one is already showing above it.
func (c *Conversation) markUnseen(i int) {
	if i >= 0 && (c.Mark < 0 || i < c.Mark) {
		c.Mark = i
	}
}

// leave is called when the user switches away: what was shown has been
// seen, so the marker goes.
func (c *Conversation) leave() {
	c.Mark = -1
}

// IsConsole reports whether c is the console tab.
func (c *Conversation) IsConsole() bool { return c.Conv.IsZero() }

// State is everything the UI shows. It is owned by the UI goroutine.
type State struct {
	Accounts  []*Account
	Convs     []*Conversation // tabs; the console is always first
	Active    int
	Order     roster.Order
	Offline   bool   // show offline contacts
	Status    string // one-line message for the status line
	StatusErr bool
	Now       func() time.Time
	fresh     []*Conversation // tabs opened since TakeFresh
	folding   *fold           // room joins or parts being collected into one line
	// ignores are the occupants /ignore hides, by account and room, then
	// by occupant-id or nick (see ignoreKey); for this run only.
	ignores map[string]map[string]string // → the nick it was asked by
}

// NewState starts with the console tab open.
func NewState(accounts []*Account) *State {
	s := &State{Accounts: accounts, Offline: true, Now: time.Now}
	s.Convs = []*Conversation{{Mark: -1}}
	for _, a := range accounts {
		if a.Roster == nil {
			a.Roster = roster.New()
		}
		if a.Conn == "" {
			a.Conn = "connecting"
		}
		if a.Rooms == nil {
			a.Rooms = room.NewRooms()
		}
	}
	return s
}

// Account finds an account by name.
func (s *State) Account(name string) *Account {
	for _, a := range s.Accounts {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// TakeFresh returns the tabs opened since it was last called: their
// history has to be read.
func (s *State) TakeFresh() []*Conversation {
	f := s.fresh
	s.fresh = nil
	return f
}

// Console is the console tab.
func (s *State) Console() *Conversation { return s.Convs[0] }

// Current is the active tab.
func (s *State) Current() *Conversation { return s.Convs[s.Active] }

// Find returns the open conversation conv on account, or nil.
func (s *State) Find(account string, conv chat.Conv) (*Conversation, int) {
	for i, c := range s.Convs {
		if c.Account == account && c.Conv == conv && !conv.IsZero() {
			return c, i
		}
	}
	return nil, -1
}

// Open returns the conversation conv, opening a tab for it if needed.
func (s *State) Open(account string, conv chat.Conv) (*Conversation, int) {
	if c, i := s.Find(account, conv); c != nil {
		return c, i
	}
	c := &Conversation{Account: account, Conv: conv, States: chat.NewStateMachine(), Mark: -1}
	if a := s.Account(account); a != nil {
		switch conv.Kind {
		case chat.KindChat:
			if ct := a.Roster.Get(conv.JID); ct != nil {
				c.unseen = ct.Unread
			}
		case chat.KindRoom:
			if r := a.rooms().Get(conv.JID); r != nil {
				c.unseen = r.Unread
			}
		}
	}
	s.Convs = append(s.Convs, c)
	s.fresh = append(s.fresh, c)
	return c, len(s.Convs) - 1
}

// Log adds a line to the console.
func (s *State) Log(kind LineKind, format string, args ...any) {
	con := s.Console()
	con.add(Line{Time: s.Now(), Body: fmt.Sprintf(format, args...), Kind: kind})
	if s.Active != 0 && kind == LineError {
		con.Unread++
	}
}

// SetStatus shows a one-line message in the status line.
func (s *State) SetStatus(isErr bool, format string, args ...any) {
	s.Status, s.StatusErr = fmt.Sprintf(format, args...), isErr
}

// Apply updates the model for one event of account.
func (s *State) Apply(account string, ev chat.Event) {
	a := s.Account(account)
	if a == nil {
		return
	}
	if s.applyRoom(a, account, ev) || s.applyUpload(a, ev) || s.applyFetched(account, ev) {
		return
	}
	s.Flush()
	prefix := ""
	if len(s.Accounts) > 1 {
		prefix = a.Name + ": "
	}
	switch e := ev.(type) {
	case chat.ReactionsChanged, chat.MessageRetracted, chat.ActionRefused:
		s.applyAction(account, prefix, ev)
	case chat.CatchUpProgress:
		a.CatchUp = e
		if e.Done {
			a.CatchUp = chat.CatchUpProgress{}
		}
	case chat.Connected:
		a.Conn, a.JID = "online", e.JID
		if e.Resumed {
			s.Log(LineInfo, "%sreconnected as %s (session resumed: nothing missed)", prefix, e.JID)
		} else {
			// A new session sends everyone's presence again.
			a.Roster.ClearPresence()
			a.sessionEnded()
			s.Log(LineInfo, "%sconnected as %s (%s)", prefix, e.JID, e.Mechanism)
		}
	case chat.Disconnected:
		a.CatchUp = chat.CatchUpProgress{} // a resumed session goes on with it, a new one starts again
		if e.Final || e.Err == nil {
			a.Roster.ClearPresence()
			a.sessionEnded()
		}
		switch {
		case e.Err == nil:
			a.Conn = "offline"
			s.Log(LineInfo, "%sdisconnected", prefix)
		case e.Final:
			a.Conn = "offline"
			s.Log(LineError, "%sdisconnected: %v — a retry cannot help; fix the cause, then /reconnect", prefix, e.Err)
			s.SetStatus(true, "%s%v — /reconnect to try again", prefix, e.Err)
		case e.RetryIn == 0:
			a.Conn = "reconnecting"
			s.Log(LineInfo, "%s%v; reconnecting now", prefix, e.Err)
		default:
			a.Conn = fmt.Sprintf("reconnecting in %ds", max(1, int(e.RetryIn.Round(time.Second)/time.Second)))
			s.Log(LineError, "%sconnection lost: %v; reconnecting in %v (/reconnect: now)", prefix, e.Err, e.RetryIn.Round(100*time.Millisecond))
		}
	case chat.Retrying:
		// The same outage goes on: the console said so once; the status
		// line counts down to the next attempt.
		a.Conn = fmt.Sprintf("reconnecting in %ds", max(1, int(e.RetryIn.Round(time.Second)/time.Second)))
	case chat.RosterReset:
		// The server's roster over the saved one: only what differs
		// changes (see roster.Reset), so nothing moves or flickers.
		a.Cached = e.Cached
		a.Roster.Reset(e.Items, e.Version)
	case chat.RosterPushed:
		a.Roster.Push(e.Item, e.Version)
	case chat.PresenceChanged:
		if e.Available {
			a.Roster.SetPresence(e.Bare, roster.Presence{Resource: e.Resource, Show: e.Show, Status: e.Status, Priority: e.Priority})
		} else {
			a.Roster.SetUnavailable(e.Bare, e.Resource)
			if c, _ := s.Find(account, chat.ChatWith(e.Bare)); c != nil && e.Resource == "" {
				c.PeerState = ""
			}
		}
	case chat.SubscriptionRequested:
		// The App says so in the console: it knows the key that answers.
		a.Roster.SetPendingIn(e.From, true, e.Nick)
	case chat.SubscriptionChanged:
		if c := a.Roster.Get(e.From); e.Type == "unsubscribe" && c != nil && c.PendingIn {
			a.Roster.SetPendingIn(e.From, false, "")
			s.Log(LineInfo, "%s%s withdrew the request to see your presence", prefix, e.From)
			return
		}
		verb := map[string]string{"subscribed": "approved your request", "unsubscribed": "denied or cancelled your subscription", "unsubscribe": "unsubscribed from your presence"}[e.Type]
		s.Log(LineInfo, "%s%s %s", prefix, e.From, verb)
	case chat.MessageReceived:
		var mention bool
		var spans [][2]int
		if e.Conv.Kind == chat.KindRoom {
			var show bool
			if show, mention, spans = s.roomMessage(account, e); !show {
				return
			}
		}
		if e.Archived && s.countOnly(a, account, e.Conv, mention) {
			return
		}
		c, i := s.Open(account, e.Conv)
		sender, key := s.author(a, e.Conv, e.Nick, e.OccupantID)
		l := Line{Time: e.Time, Sender: sender, SenderKey: key, Body: fileBody(e.Body, e.File), Kind: LineIn, StoreID: e.StoreID, ID: e.ID, Markable: e.Markable, Mention: mention, Spans: spans, Reply: s.shownReply(a, c, e.Reply, nil), File: e.File}
		s.omemoLine(c, &l, e.OMEMO)
		at := c.insert(l, e.Delayed)
		if e.Note != "" && at >= 0 {
			c.insert(Line{Time: e.Time, Body: e.Note, Kind: LineInfo}, e.Delayed)
		}
		c.PeerState = ""
		if i != s.Active || c.Scroll > 0 {
			c.markUnseen(at)
		}
		if i != s.Active {
			c.Unread++
		}
		if ct := a.Roster.Get(e.Bare); ct != nil && i != s.Active && e.Conv.Kind == chat.KindChat {
			ct.Unread = c.Unread
		}
		if e.Conv.Kind == chat.KindRoom {
			c.spoke(e.Nick)
			if r := a.rooms().Get(e.Conv.JID); r != nil && i != s.Active {
				r.Unread = c.Unread
				if mention {
					r.Mentions++
				}
			}
		}
	case chat.MessageSent:
		c, _ := s.Open(account, e.Conv)
		name, me := s.me(a, e.Conv)
		l := Line{Time: e.Time, Sender: name, SenderKey: me, Body: fileBody(e.Body, e.File), Kind: LineOut, ID: e.ID, State: e.State, StoreID: e.StoreID, Reply: s.shownReply(a, c, e.Reply, nil), File: e.File}
		s.omemoLine(c, &l, e.OMEMO)
		c.add(l)
	case chat.CarbonSent:
		// Sent from another of our devices; in a room, the room's
		// reflection of it: it is there.
		if c, _ := s.Find(account, e.Conv); c == nil && e.Delayed && e.Conv.Kind != chat.KindPrivate {
			return // from the archive, for a conversation not open: it is in the store
		}
		c, _ := s.Open(account, e.Conv)
		state := chat.DeliverySent
		if e.Conv.Kind == chat.KindRoom {
			state = chat.DeliveryReceived
		}
		name, me := s.me(a, e.Conv)
		l := Line{Time: e.Time, Sender: name, SenderKey: me, Body: fileBody(e.Body, e.File), Kind: LineOut, ID: e.ID, State: state, StoreID: e.StoreID, Reply: s.shownReply(a, c, e.Reply, nil), File: e.File}
		s.omemoLine(c, &l, e.OMEMO)
		c.insert(l, e.Delayed)
	case chat.HistoryLoaded:
		c, _ := s.Find(account, e.Conv)
		if c == nil {
			return
		}
		c.Loading, c.More = false, e.More
		if e.Around != 0 {
			// A search result's context replaces what the tab held.
			c.Lines, c.stored, c.Mark, c.Scroll, c.Focus = nil, nil, -1, 0, e.Around
		}
		lines := make([]Line, 0, len(e.Messages))
		myName, myKey := s.me(a, e.Conv)
		seenEnc := false
		for _, h := range e.Messages {
			if e.Conv.Kind == chat.KindRoom && !h.Outgoing && s.ignored(account, e.Conv.JID, h.Nick, h.OccupantID) {
				continue
			}
			sender, key := s.author(a, e.Conv, h.Nick, h.OccupantID)
			l := Line{Time: h.Time, Body: h.Body, ID: h.ID, StoreID: h.StoreID, Kind: LineIn, Sender: sender, SenderKey: key, Edited: h.Edited}
			if r := a.rooms().Get(e.Conv.JID); e.Conv.Kind == chat.KindRoom && !h.Outgoing && r != nil && r.Nick != "" && h.Nick != r.Nick {
				l.Spans = room.MentionSpans(h.Body, r.Nick)
				l.Mention = len(l.Spans) > 0
			}
			if h.Outgoing {
				l.Kind, l.Sender, l.SenderKey, l.State = LineOut, myName, myKey, h.State
				if e.Conv.Kind == chat.KindRoom && h.State == chat.DeliverySent {
					// Stored before this run: the room had it then.
					l.State = chat.DeliveryReceived
				}
			}
			l.Highlight = e.Around != 0 && h.StoreID == e.Around
			storedLine(&l, e.Conv, h)
			if l.Enc = h.OMEMO; l.Enc != nil {
				c.encrypted = true
				seenEnc = true
			} else if seenEnc && (l.Kind == LineIn || l.Kind == LineOut) && h.Retracted == nil {
				// Plain text after an encrypted message of this page:
				// marked as it was when it came (omemoLine).
				l.Plain = true
			}
			l.Reply = s.shownReply(a, c, l.Reply, lines)
			lines = append(lines, l)
		}
		c.addHistory(lines)
		if n := len(lines); c.unseen > 0 && n > 0 && e.Before == 0 && e.Around == 0 {
			// Before the first of the page's newest unseen, wherever it
			// went (a live message may have come after them).
			first := lines[max(0, n-c.unseen)].StoreID
			for i := range c.Lines {
				if c.Lines[i].StoreID == first && (c.Mark < 0 || i < c.Mark) {
					c.Mark = i
					break
				}
			}
		}
		c.unseen = 0
	case chat.MessageCorrected:
		if c, _ := s.Find(account, e.Conv); c != nil {
			kind := LineIn
			if e.Outgoing {
				kind = LineOut
			}
			c.correct(e.ReplaceID, kind, e.Body)
		}
	case chat.DeliveryChanged:
		c, _ := s.Find(account, e.Conv)
		if c != nil {
			c.setState(e.ID, e.State)
		}
		if e.State == chat.DeliveryFailed {
			s.SetStatus(true, "a message to %s could not be delivered", e.To)
			if e.Reason != "" && c != nil {
				c.add(Line{Time: s.Now(), Body: "not delivered: " + e.Reason, Kind: LineError})
			} else if e.Reason != "" {
				s.Log(LineError, "%sa message to %s was not delivered: %s", prefix, e.To, e.Reason)
			}
		}
	case chat.ChatStateChanged:
		if e.Conv.Kind == chat.KindRoom {
			if r := a.rooms().Get(e.Conv.JID); r != nil {
				r.SetTyping(e.Nick, string(e.State))
			}
			return
		}
		if c, _ := s.Find(account, e.Conv); c != nil {
			c.PeerState = e.State
		}
	case chat.StanzaError:
		text := fmt.Sprintf("%s%s error from %s: %v", prefix, e.Kind, e.From, e.Err)
		if c := s.errorConv(account, e); c != nil && e.Kind == "message" {
			c.add(Line{Time: s.Now(), Body: "not delivered: " + e.Err.Error(), Kind: LineError})
		} else {
			s.Log(LineError, "%s", text)
		}
	case chat.CommandFailed:
		if h, ok := e.Command.(chat.LoadHistory); ok {
			if c, _ := s.Find(account, h.Conv); c != nil {
				c.Loading = false // the page is not coming: scrolling back may ask again
			}
		}
		if j, ok := e.Command.(chat.JoinRoom); ok {
			if r := a.rooms().Get(j.Room); r != nil && r.State == room.Failed {
				return // the refusal has said why, in the room's tab
			}
		}
		if _, ok := e.Command.(chat.UploadFile); ok && errors.Is(e.Err, chat.ErrUploadCancelled) {
			s.SetStatus(false, "%s", e.Err) // as asked: no failure; its tab says so
			return
		}
		if m, ok := e.Command.(chat.SendMessage); ok && m.Encrypt {
			// Not sent, and never in plain text: what was written stays
			// in the conversation, to send again.
			if c, _ := s.Find(account, m.Conv); c != nil {
				c.add(Line{Time: s.Now(), Kind: LineError, Body: fmt.Sprintf("could not send this encrypted message: %v. It read: %s", e.Err, m.Body)})
			}
		}
		switch e.Command.(type) {
		case chat.SetOMEMOTrust, chat.ShowOMEMO:
			// Typed in this tab: answered here, whole (the status
			// line cuts it short), not only in the console.
			if c := s.Current(); !c.IsConsole() {
				c.add(Line{Time: s.Now(), Kind: LineError, Body: fmt.Sprintf("could not %s: %v", commandName(e.Command), e.Err)})
			}
		}
		s.Log(LineError, "%scould not %s: %v", prefix, commandName(e.Command), e.Err)
		s.SetStatus(true, "could not %s: %v", commandName(e.Command), e.Err)
	case chat.BlocklistChanged:
		if e.Reset || a.Blocked == nil {
			a.Blocked = map[string]bool{}
		}
		for _, j := range e.JIDs {
			if e.Reset || e.Blocked {
				a.Blocked[j] = true
			} else {
				delete(a.Blocked, j)
			}
		}
		if !e.Reset && len(e.JIDs) > 0 {
			verb := "unblocked"
			if e.Blocked {
				verb = "blocked"
			}
			s.Log(LineInfo, "%s%s %v", prefix, verb, e.JIDs)
		}
	case chat.Notice:
		s.Log(LineInfo, "%s%s", prefix, e.Text)
	case chat.OMEMODeviceListChanged:
		if (e.Version == chat.OMEMO03 || e.Version == chat.OMEMO2) && !e.Own {
			if a.omemoDevices == nil {
				a.omemoDevices = map[string][3]int{}
			}
			n := a.omemoDevices[e.JID]
			n[e.Version] = len(e.Devices)
			a.omemoDevices[e.JID] = n
		}
	case chat.OMEMOReport:
		s.omemoReport(e)
	case chat.OMEMOTrustSet:
		s.omemoTrustSet(e)
	case chat.RoomEncryption, chat.RoomOMEMOReport:
		s.roomOMEMOEvent(a, account, e) // omemo_room.go
	case chat.OMEMODevicesAdded:
		// In the chat with them, where it matters, when it is open; in
		// the console otherwise (and for our own account's).
		if c, _ := s.Find(account, chat.ChatWith(e.JID)); c != nil && !e.Own {
			c.add(Line{Time: s.Now(), Kind: LineInfo, Body: e.Text()})
		} else {
			s.Log(LineInfo, "%s%s", prefix, e.Text())
		}
	}
}

// countOnly takes a message that came from the archive (a catch-up after
// gab was away) for a conversation with no tab open as a count: the
// contact's or the room's unread messages go up, and the message, stored
// already, is read from the store when the conversation is opened. Tens
// of thousands of them cost a number each, not a line each in memory. It
// reports false where there is nowhere to count (someone not in the
// roster, a private message in a room): then the tab opens as for any
// message.
func (s *State) countOnly(a *Account, account string, conv chat.Conv, mention bool) bool {
	if c, _ := s.Find(account, conv); c != nil {
		return false
	}
	switch conv.Kind {
	case chat.KindChat:
		if ct := a.Roster.Get(conv.JID); ct != nil {
			ct.Unread++
			return true
		}
	case chat.KindRoom:
		if r := a.rooms().Get(conv.JID); r != nil {
			r.Unread++
			if mention {
				r.Mentions++
			}
			return true
		}
	}
	return false
}

func (s *State) displayName(a *Account, bare string) string {
	if c := a.Roster.Get(bare); c != nil && c.Name != "" {
		return c.Name
	}
	return bare
}

// convName is how a conversation is named in its tab and the status
// line: a contact's roster name (else its JID), a room's JID, an
// occupant's "nick (room)". Remote text: callers shorten and draw it as
// data.
func (s *State) convName(c *Conversation) string {
	switch c.Conv.Kind {
	case chat.KindChat:
		if a := s.Account(c.Account); a != nil {
			return s.displayName(a, c.Conv.JID)
		}
	case chat.KindPrivate:
		roomJID, nick := privateParts(c.Conv)
		return nick + " (" + roomJID + ")"
	}
	return c.Conv.JID
}

// author is the name shown for a message received in conv and the key its
// colour derives from: for a chat, the contact's name and bare JID; in a
// room, the occupant's nick, coloured by its occupant-id where the room
// gives one (so the colour stays when the nick changes, XEP-0392), else
// by the nick; in a private chat, the occupant's nick.
func (s *State) author(a *Account, conv chat.Conv, nick, occupantID string) (name, key string) {
	switch conv.Kind {
	case chat.KindRoom:
		if occupantID != "" {
			return nick, conv.JID + "\x00" + occupantID
		}
		return nick, nick
	case chat.KindPrivate:
		_, nick := privateParts(conv)
		return nick, nick
	}
	return s.displayName(a, conv.JID), conv.JID
}

// me is the name and colour key of our own messages in conv: our nick in a
// room (coloured as others see it), "me" elsewhere.
func (s *State) me(a *Account, conv chat.Conv) (name, key string) {
	key = a.JID
	if key == "" {
		key = a.Name
	}
	if conv.Kind == chat.KindRoom {
		if r := a.rooms().Get(conv.JID); r != nil && r.Nick != "" {
			if o := r.Self(); o != nil {
				return s.author(a, conv, o.Nick, o.OccupantID)
			}
			return s.author(a, conv, r.Nick, "")
		}
	}
	return "me", key
}

// privateParts splits a private conversation's room@service/nick at its
// first "/": a nick is anything, and the interface shows whatever it is,
// cleaned, rather than nothing where it is not a valid JID resource.
func privateParts(conv chat.Conv) (roomJID, nick string) {
	roomJID, nick, _ = strings.Cut(conv.JID, "/")
	return roomJID, nick
}

// errorConv is the open conversation an error returned for a message
// belongs to: a room's or an occupant's when it came from one, else the
// contact's.
func (s *State) errorConv(account string, e chat.StanzaError) *Conversation {
	for _, conv := range []chat.Conv{{Kind: chat.KindPrivate, JID: e.From}, chat.RoomConv(e.Bare), chat.ChatWith(e.Bare)} {
		if c, _ := s.Find(account, conv); c != nil {
			return c
		}
	}
	return nil
}

// commandName says what a command was doing, in words for "could not …":
// never the Go type.
func commandName(c chat.Command) string {
	if s, ok := roomCommandName(c); ok {
		return s
	}
	if s, ok := bookmarkCommandName(c); ok {
		return s
	}
	if s, ok := messageCommandName(c); ok {
		return s
	}
	switch c := c.(type) {
	case chat.UploadFile:
		return "upload " + filepath.Base(c.Path)
	case chat.FetchFile:
		return "download the encrypted file"
	case chat.CancelUpload:
		return "cancel the upload"
	case chat.SendMessage:
		return "send the message to " + c.Conv.JID
	case chat.CorrectMessage:
		return "correct the message to " + c.Conv.JID
	case chat.SendChatState:
		return "tell " + c.Conv.JID + " that you are typing"
	case chat.MarkDisplayed:
		return "tell " + c.Conv.JID + " that you read the message"
	case chat.SetPresence:
		return "set your status"
	case chat.AddContact:
		return "add " + c.JID + " to your contacts"
	case chat.RenameContact:
		return "rename " + c.JID
	case chat.SetGroups:
		return "change the groups of " + c.JID
	case chat.RemoveContact:
		return "remove " + c.JID + " from your contacts"
	case chat.Subscribe:
		return "ask to see the presence of " + c.JID
	case chat.ApproveSubscription:
		return "approve the request of " + c.JID
	case chat.DenySubscription:
		return "deny the request of " + c.JID
	case chat.CancelSubscription:
		return "stop " + c.JID + " seeing your presence"
	case chat.Unsubscribe:
		return "stop seeing the presence of " + c.JID
	case chat.Block:
		return "block " + c.JID
	case chat.Unblock:
		return "unblock " + c.JID
	case chat.FetchBlocklist:
		return "fetch the list of blocked addresses"
	case chat.Reconnect:
		return "reconnect"
	case chat.TrustCertificate:
		return "trust the certificate"
	case chat.UsePassword:
		return "log in with the password typed"
	case chat.LoadHistory:
		return "load the history"
	case chat.SearchHistory:
		return "search the history"
	case chat.LoadAround:
		return "load the messages around the one found"
	case chat.JoinRoom:
		return "join " + c.Room
	case chat.FetchOMEMODevices:
		return "read the " + c.Version.String() + " devices of " + c.JID
	case chat.SetOMEMOTrust:
		if c.Trust == history.TrustDistrusted {
			return "distrust the device of " + c.JID
		}
		return "trust the device of " + c.JID
	case chat.ShowOMEMO:
		if c.JID == "" {
			return "show this device's OMEMO fingerprint"
		}
		return "list the OMEMO devices of " + c.JID
	case chat.ShowRoomOMEMO:
		return "list the OMEMO devices of the members of " + c.Room
	case chat.LeaveRoom:
		return "leave " + c.Room
	case chat.ChangeNick:
		return "change your nick in " + c.Room
	case chat.SetSubject:
		return "change the subject of " + c.Room
	case chat.Invite:
		return "invite " + c.JID + " to " + c.Room
	case chat.SetRole:
		if c.Role == room.RoleNone {
			return "kick " + c.Nick + " from " + c.Room
		}
		return "make " + c.Nick + " a " + string(c.Role) + " in " + c.Room
	case chat.SetAffiliation:
		if c.Affiliation == room.Outcast {
			return "ban " + c.JID + " from " + c.Room
		}
		return "make " + c.JID + " " + affiliationWord(c.Affiliation) + " of " + c.Room
	}
	return "do that"
}

// affiliationWord names an affiliation after "make JID …".
func affiliationWord(a room.Affiliation) string {
	switch a {
	case room.Owner:
		return "an owner"
	case room.Admin:
		return "an admin"
	case room.Member:
		return "a member"
	case room.Outcast:
		return "banned"
	}
	return "no longer affiliated"
}
