package chat

import (
	"context"
	crand "crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// ErrNotConnected fails commands given while the account is offline.
var ErrNotConnected = errors.New("not connected")

// Options tune a Client; the zero value is usable.
type Options struct {
	Version     string        // reported through XEP-0092
	Lang        string        // preferred language of bodies and statuses
	EventBuffer int           // capacity of the event channel; default 1024
	IQTimeout   time.Duration // how long commands wait for the server; default 30 s
	MinBackoff  time.Duration // first reconnect delay; default 1 s
	MaxBackoff  time.Duration // reconnect delay cap; default 60 s
	// Dial opens sessions; nil means xmpp.Dial. Tests replace it.
	Dial func(context.Context, xmpp.Config) (*xmpp.Session, error)
	// NoReconnect makes Run return after the first session ends.
	NoReconnect bool
	// Store keeps every message, written before its event is emitted; nil
	// keeps nothing.
	Store *history.Store
	// PingInterval is how often the server is pinged (XEP-0199); 0 never.
	PingInterval time.Duration
	// SelfPingInterval is how often gab asks each room it is in whether
	// it still is (XEP-0410); 0 means every 5 minutes, negative never.
	SelfPingInterval time.Duration
	// PingTimeout is how long a ping may go unanswered before the
	// connection counts as dead; default 20 s.
	PingTimeout time.Duration
	// NoStreamManagement turns XEP-0198 off even where the server offers it.
	NoStreamManagement bool
	// XMLLog receives the raw stream (authentication redacted); nil for none.
	XMLLog *xmpp.Tap
	// MaxMessageSize is the largest message gab sends, in bytes as it goes
	// on the wire (the whole stanza, XML-escaped); a bigger one is refused
	// before it goes out. 0 means config.DefaultMaxMessageSize.
	MaxMessageSize int
	// UploadBody, when set, wraps the file an upload sends (tests hold an
	// upload mid-way with it); nil sends it as it is.
	UploadBody func(io.Reader) io.Reader
	// PinFile holds the certificate the user chose to trust for this account
	// (PEM); once it exists, only that certificate is accepted. Empty: no
	// pinning.
	PinFile string
	// OMEMO publishes this device's OMEMO 0.3 keys once logged in and
	// decrypts the messages encrypted to it (see omemo_session.go).
	OMEMO bool
	// OMEMOManualTrust: a device's key is encrypted to only once the user
	// trusted it (/omemo trust); otherwise keys are trusted blindly when
	// first seen, until the user decides.
	OMEMOManualTrust bool
}

// Client runs one account: it owns the connection and talks to the rest of
// gab only through Events and Do.
type Client struct {
	acct   *config.Account
	opts   Options
	events chan Event

	redirect string        // see-other-host target for the next connection; Run's goroutine only
	resume   *xmpp.SMState // the last session, to resume; Run's goroutine only
	up       bool          // the last session got connected; Run's goroutine only
	// login holds the account's connection settings as last read from its
	// file (re-read on the user's Reconnect), and typed the password given
	// with UsePassword. Run's goroutine only.
	login    config.Account
	reload   bool
	typed    string
	dialing  bool   // a session is being set up (see dial); Run's goroutine only
	resource string // asked for when the account names none (defaultResource)
	out      *outbox
	seen     recentSet // origin-ids of messages received lately, to drop copies
	// lastIn is, per conversation, the newest message received in it in
	// this run: what a correction may replace. Reader goroutine only.
	lastIn map[lastKey]lastReceived
	// orphans are removals from an archive whose message is not stored
	// (yet): paging back brings it after them. Reader goroutine only.
	orphans orphanSet

	mu       sync.Mutex
	queue    []queued
	nextID   uint64
	wake     chan struct{}
	presence SetPresence // what the user last set; re-sent on connect

	state sync.Mutex
	omemo omemoState             // the reader goroutine's
	items map[string]roster.Item // the server's roster, for rename/regroup
	// saved is the roster read from the store at launch, until items
	// is first needed (itemsLocked): making the map would hold up the
	// first frame.
	saved []roster.Item
	ver   string               // roster version held
	chaty map[string]bool      // bare JIDs known to support chat states
	asked map[string]bool      // bare JIDs whose features we asked for this session
	mam   map[string]mamMode   // archive queries under way, by queryid
	mamAt map[string]time.Time // and the archive's time of the last result each had
	// rooms are the rooms the user is in or joining, by bare JID;
	// roomQueries the archive queries to rooms under way, by queryid.
	rooms       map[string]*mucRoom
	roomQueries map[string]*roomQuery
	// spentQueries are archive queries to rooms answered or given up on.
	spentQueries recentSet
	mucService   string // our server's group chat service, once found
	// capsCache says, per verified capability hash (node#ver), whether
	// such clients support chat states.
	capsCache map[string]bool
	// bm is what is known of the bookmarks (XEP-0402 / XEP-0048).
	bm bookmarkState

	pend batch // the reader goroutine's events not yet handed on

	// cacheStale: the store holds no saved roster to match the one held
	// (none was saved, or it was damaged). Reader goroutine (Run's before).
	cacheStale bool
	restored   bool // the saved roster and bookmarks were emitted (Restore)
	// bmSaving makes each save of the bookmarks take its snapshot and
	// write it before the next does: saves come from Run's goroutine and
	// the reader's, and the last change must be the one kept.
	bmSaving sync.Mutex
	// catching: a catch-up of the account's archive is under way (or was,
	// when its session ended); tally counts the catch-ups for
	// CatchUpProgress. Reader goroutine only.
	catching bool
	tally    tally

	uploads uploads // HTTP File Upload (upload.go)
}

type queued struct {
	id  uint64
	cmd Command
}

// New makes a client for acct. Call Run to connect.
func New(acct *config.Account, opts Options) *Client {
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 1024
	}
	if opts.IQTimeout <= 0 {
		opts.IQTimeout = 30 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 60 * time.Second
	}
	if opts.Dial == nil {
		opts.Dial = xmpp.Dial
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = config.DefaultMaxMessageSize
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 20 * time.Second
	}
	show, _ := roster.ShowFromStatus(acct.Status)
	return &Client{
		acct:         acct,
		login:        *acct,
		opts:         opts,
		events:       make(chan Event, opts.EventBuffer),
		wake:         make(chan struct{}, 1),
		presence:     SetPresence{Show: show, Status: acct.StatusMessage},
		items:        map[string]roster.Item{},
		out:          newOutbox(outStore(opts.Store)),
		seen:         recentSet{max: 2000},
		lastIn:       map[lastKey]lastReceived{},
		chaty:        map[string]bool{},
		asked:        map[string]bool{},
		mam:          map[string]mamMode{},
		mamAt:        map[string]time.Time{},
		rooms:        map[string]*mucRoom{},
		roomQueries:  map[string]*roomQuery{},
		spentQueries: recentSet{max: 1000},
		capsCache:    map[string]bool{},
		resource:     defaultResource(),
	}
}

// outStore is the outbox's view of the store: no store is a nil
// interface, not one holding a nil pointer.
func outStore(s *history.Store) outboxStore {
	if s == nil {
		return nil
	}
	return s
}

// Account is the account this client runs.
func (c *Client) Account() *config.Account { return c.acct }

// Events is the ordered stream of what happens on the account. It is closed
// when Run returns.
func (c *Client) Events() <-chan Event { return c.events }

// Do queues a command and returns at once with its ID; the outcome arrives
// as CommandDone or CommandFailed carrying that ID.
func (c *Client) Do(cmd Command) uint64 {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.queue = append(c.queue, queued{id, cmd})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return id
}

func (c *Client) takeQueue() []queued {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

func (c *Client) emit(ctx context.Context, ev Event) bool {
	select {
	case c.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// observe keeps what the client itself needs from events: the roster items
// for rename and regroup, and which contacts use chat states.
func (c *Client) observe(ev Event) {
	if e, ok := ev.(RosterPushed); ok {
		// Saved as applied, in stream order (reader goroutine).
		defer c.savePush(context.Background(), e)
	}
	c.state.Lock()
	defer c.state.Unlock()
	switch e := ev.(type) {
	case RosterPushed:
		if items := c.itemsLocked(); e.Item.Subscription == "remove" {
			delete(items, e.Item.JID)
		} else {
			items[e.Item.JID] = e.Item
		}
		if e.Version != "" {
			c.ver = e.Version
		}
	case ChatStateChanged:
		c.chaty[e.Bare] = true
	}
}

func (c *Client) presenceElement(p SetPresence) *xmpp.Element {
	el := xmpp.E(xmpp.NSClient, "presence")
	if s := p.Show.WireShow(); s != "" {
		el.Add(xmpp.E(xmpp.NSClient, "show").WithText(s))
	}
	if p.Status != "" {
		el.Add(xmpp.E(xmpp.NSClient, "status").WithText(p.Status))
	}
	if c.acct.Priority != 0 {
		el.Add(xmpp.E(xmpp.NSClient, "priority").WithText(fmt.Sprint(c.acct.Priority)))
	}
	if !p.Idle.IsZero() {
		el.Add(xmpp.E(NSIdle, "idle", "since", p.Idle.UTC().Format(time.RFC3339)))
	}
	el.Add(capsElement()) // so peers can learn (and cache) what gab supports
	return el
}

// NewID returns a random stanza id.
func NewID() string {
	var b [12]byte
	if _, err := cryptoRead(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

var cryptoRead = crand.Read

// BareJID validates a JID a user typed and returns its bare form: the one
// place gab normalises a JID.
func BareJID(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid JID: %v", s, err)
	}
	// Normalising can turn an odd input into something that is no JID
	// ("..": its domain becomes "."): insist that the result parses back.
	bare := j.Bare().String()
	if again, err := jid.Parse(bare); err != nil || again.String() != bare {
		return "", fmt.Errorf("%q is not a valid JID", s)
	}
	return bare, nil
}

// inRoster reports whether bare is one of our contacts.
// shareVersion says whether bare may be told gab's version (XEP-0092),
// as the account's share_version setting says: by default contacts who
// see our presence anyway (subscription from or both).
func (c *Client) shareVersion(bare string) bool {
	switch c.acct.ShareVersion {
	case config.ShareVersionEveryone:
		return true
	case config.ShareVersionSelf:
		return false
	}
	c.state.Lock()
	defer c.state.Unlock()
	sub := c.itemsLocked()[bare].Subscription
	return sub == roster.SubFrom || sub == roster.SubBoth
}

// defaultResource is the resource asked for when the account names none:
// "gab." and eight random base32 characters, the same for the whole run,
// so that a stranger cannot guess the full JID to probe it (with pings,
// disco) for whether we are online.
func defaultResource() string {
	b := make([]byte, 5)
	crand.Read(b)
	return "gab." + strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

func (c *Client) inRoster(bare string) bool {
	c.state.Lock()
	defer c.state.Unlock()
	_, ok := c.itemsLocked()[bare]
	return ok
}

// row is the store row for an event that carries a message, nil for
// other events.
func (c *Client) row(ev Event) *history.Message {
	switch e := ev.(type) {
	case MessageReceived:
		m := &history.Message{Kind: string(e.Conv.Kind), Peer: e.Conv.JID, Direction: history.In, From: e.From, To: e.To, Body: e.Body, Thread: e.Thread, StanzaID: e.ID, OriginID: e.OriginID, ArchiveID: e.ArchiveID, Time: e.Time, Nick: e.Nick, OccupantID: e.OccupantID,
			Reply: storedReply(e.Reply), File: storedFile(e.File)}
		storedOMEMO(m, e.OMEMO)
		return m
	case CarbonSent:
		m := &history.Message{Kind: string(e.Conv.Kind), Peer: e.Conv.JID, Direction: history.Out, From: c.acct.JID.String(), To: e.To, Body: e.Body, Thread: e.Thread, StanzaID: e.ID, OriginID: e.OriginID, ArchiveID: e.ArchiveID, Time: e.Time, State: history.StateSent,
			Reply: storedReply(e.Reply), File: storedFile(e.File)}
		storedOMEMO(m, e.OMEMO)
		return m
	}
	return nil
}

// storedOMEMO marks a stored message as encrypted as info says.
func storedOMEMO(m *history.Message, info *OMEMOInfo) {
	if info == nil {
		return
	}
	m.Encryption, m.Device, m.Trust = history.OMEMO03, info.Device, info.Trust
	if info.Version == OMEMO2 {
		m.Encryption = history.OMEMO2
	}
}

func withStoreID(ev Event, id int64) Event {
	switch e := ev.(type) {
	case MessageReceived:
		e.StoreID = id
		return e
	case CarbonSent:
		e.StoreID = id
		return e
	}
	return ev
}

// batch is what the reader goroutine has produced and not yet handed on:
// its events in stream order, and receipts to send once the messages they
// confirm are on disk. Only the reader goroutine touches it (and Dial's,
// before the reader starts).
type batch struct {
	events   []Event
	receipts []*xmpp.Element
	meta     []history.MetaSet // stored with the events' messages (see setMetaAfter)
}

// batchMax bounds how much is gathered before it is handed on.
const batchMax = 256

// deliver queues an event produced on the reader goroutine.
func (c *Client) deliver(ev Event) {
	c.pend.events = append(c.pend.events, ev)
}

// flushBatch stores the batch's messages in one transaction, before anyone
// is shown them — whatever the user has seen is on disk — then sends the
// receipts and emits the events in order. A storage failure is reported
// and the messages are still shown: losing them from the screen too would
// be worse. It reports false when ctx ended.
func (c *Client) flushBatch(ctx context.Context, sess *xmpp.Session) bool {
	for _, err := range c.out.takeErrors() {
		c.pend.events = append(c.pend.events, Notice{Text: err.Error()})
	}
	if p, ok := c.progress(); ok {
		c.pend.events = append(c.pend.events, p) // after what it counts
	}
	evs := c.pend.events
	if len(evs) == 0 && len(c.pend.receipts) == 0 && len(c.pend.meta) == 0 {
		return true
	}
	if c.opts.Store != nil {
		var rows []*history.Message
		var at []int
		for i, ev := range evs {
			if m := c.row(ev); m != nil {
				rows, at = append(rows, m), append(at, i)
			}
		}
		own, sessions := c.omemoBatch()
		if len(rows) > 0 || len(c.pend.meta) > 0 || own != nil || len(sessions) > 0 {
			// The sessions the messages were decrypted with go with them.
			err := c.opts.Store.Commit(history.Batch{Messages: rows, Meta: c.pend.meta, OwnDevice: own, Sessions: sessions})
			c.omemoStored(err)
			if err != nil {
				c.emit(ctx, Notice{Text: "could not store messages in history: " + err.Error()})
			} else {
				for k, i := range at {
					evs[i] = withStoreID(evs[i], rows[k].ID)
				}
			}
		}
	}
	for _, r := range c.pend.receipts {
		sess.Send(r)
	}
	c.pend = batch{events: evs[:0:0]}
	for _, ev := range evs {
		if !c.emit(ctx, ev) {
			return false
		}
	}
	return true
}

// stored converts rows for the UI.
func stored(msgs []history.Message) []StoredMessage {
	out := make([]StoredMessage, len(msgs))
	for i, m := range msgs {
		out[i] = StoredMessage{StoreID: m.ID, Conv: convOf(m), Nick: m.Nick, OccupantID: m.OccupantID, ID: m.StanzaID, Outgoing: m.Direction == history.Out, From: m.From, Body: m.Body, Time: m.Time, State: m.State, Edited: m.Edited}
		if m.Encryption != 0 {
			v := OMEMO03
			if m.Encryption == history.OMEMO2 {
				v = OMEMO2
			}
			out[i].OMEMO = &OMEMOInfo{Version: v, Device: m.Device, Trust: m.Trust}
		}
	}
	return out
}

// readHistory answers the commands that read the store (LoadHistory,
// SearchHistory, LoadAround) with their result event. It reports later
// when the final answer is left to a backfill under way (see backfill);
// otherwise the caller gives it, from err.
//
// sess is the live session, nil offline or while one is being set up
// (see dial).
func (c *Client) readHistory(ctx context.Context, id uint64, cmd Command, sess *xmpp.Session) (later bool, err error) {
	emit := func(ev Event) { c.emit(ctx, ev) }
	switch cmd := cmd.(type) {
	case LoadHistory:
		if c.opts.Store == nil {
			emit(HistoryLoaded{Conv: cmd.Conv, Before: cmd.Before})
			return false, nil
		}
		msgs, more, err := c.opts.Store.Before(ctx, cmd.Conv.stored(), cmd.Before, pageLimit(cmd))
		if err != nil {
			return false, fmt.Errorf("read history: %w", err)
		}
		if cmd.Conv.Kind == KindRoom {
			// A room keeps its own archive: paging back goes on into it
			// once the store has nothing older. The newest page is the
			// join's catch-up's to bring, not a page's.
			if !more && cmd.Before != 0 && sess != nil && c.roomBackfill(ctx, sess, id, cmd) {
				return true, nil
			}
			if !more && cmd.Before != 0 && sess == nil && c.dialing && c.roomHasOlder(cmd.Conv) {
				return false, errForSession
			}
			more = more || c.roomHasOlder(cmd.Conv)
		} else if len(msgs) == 0 && cmd.Before == 0 {
			// Nothing stored: the server's archive may have the page.
			if sess != nil && c.backfill(ctx, sess, id, cmd) {
				return true, nil
			}
			if sess == nil && c.dialing {
				return false, errForSession
			}
		}
		emit(HistoryLoaded{Conv: cmd.Conv, Before: cmd.Before, Messages: c.storedRows(ctx, msgs), More: more})
		return false, nil
	case storedPage:
		return true, c.answerPage(ctx, id, cmd.LoadHistory, cmd.archive, emit)
	case SearchHistory:
		if c.opts.Store == nil {
			return false, errors.New("no history is kept")
		}
		limit := cmd.Limit
		if limit <= 0 || limit > 500 {
			limit = 100
		}
		hits, err := c.opts.Store.Search(ctx, cmd.Text, cmd.Conv.stored(), limit)
		if err != nil {
			return false, fmt.Errorf("search: %w", err)
		}
		// Left out while the index is refilled (after an upgrade).
		left, err := c.opts.Store.Unsearched(ctx)
		if err != nil {
			return false, fmt.Errorf("search: %w", err)
		}
		emit(SearchResults{Text: cmd.Text, Conv: cmd.Conv, Hits: c.storedRows(ctx, hits), Unsearched: left})
		return false, nil
	case LoadAround:
		if c.opts.Store == nil {
			return false, errors.New("no history is kept")
		}
		msgs, more, err := c.opts.Store.Around(ctx, cmd.Conv.stored(), cmd.StoreID, 50, 1000)
		if err != nil {
			return false, fmt.Errorf("read history: %w", err)
		}
		emit(HistoryLoaded{Conv: cmd.Conv, Messages: c.storedRows(ctx, msgs), More: more, Around: cmd.StoreID})
		return false, nil
	}
	return false, fmt.Errorf("not a history command")
}

// errForSession is readHistory's answer, while a session is being set up,
// to a page only the server's archive can fill (see dial): it is left
// for the session.
var errForSession = errors.New("left for the session")

// dial sets up a session with Options.Dial on a goroutine of its own and
// meanwhile answers the queued commands that read the store, in the order
// they were given: a conversation shows what is stored however long the
// server takes (connecting, TLS, authentication, binding) or if it never
// answers. A message is kept in the outbox at once (stored, shown pending,
// sent once the session is up). Every other command waits in the queue, in
// order, for the session or, if none comes, for the offline answer; so does
// a page the store has nothing for that the server's archive may fill
// (backfill), and a message given after a command that waits.
func (c *Client) dial(ctx context.Context, cfg xmpp.Config) (*xmpp.Session, error) {
	type dialed struct {
		sess *xmpp.Session
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		sess, err := c.opts.Dial(ctx, cfg)
		done <- dialed{sess, err}
	}()
	c.dialing = true
	defer func() { c.dialing = false }()
	for {
		select {
		case d := <-done:
			// What was left is the session's (or the offline answer's):
			// wake whoever takes it next.
			c.mu.Lock()
			left := len(c.queue) > 0
			c.mu.Unlock()
			if left {
				select {
				case c.wake <- struct{}{}:
				default:
				}
			}
			return d.sess, d.err
		case <-c.wake:
			c.answerStoreReads(ctx)
		}
	}
}

// answerStoreReads answers the queued commands that read the store, in
// order, and leaves the others queued in front of anything queued
// meanwhile, in their order. Run's goroutine, while dialling.
func (c *Client) answerStoreReads(ctx context.Context) {
	var rest []queued
	waiting := false
	for _, q := range c.takeQueue() {
		if c.uploadLocal(ctx, nil, q) {
			continue
		}
		if cmd, ok := q.cmd.(SendMessage); ok && !waiting && !cmd.Encrypt {
			// Kept in the outbox at once, shown as pending, sent once
			// the session is up — as offline; not left unseen in the
			// queue, where quitting would lose it. Not after a command
			// left for the session (a join, a contact added), so the
			// message still follows it.
			if _, err := c.enqueue(ctx, q.id, cmd); err != nil {
				c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
			} else {
				c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
			}
			continue
		}
		if !isHistory(q.cmd) {
			rest, waiting = append(rest, q), true
			continue
		}
		later, err := c.readHistory(ctx, q.id, q.cmd, nil)
		switch {
		case errors.Is(err, errForSession):
			rest = append(rest, q)
		case !later:
			c.answer(ctx, q, err)
		}
	}
	if len(rest) > 0 {
		c.mu.Lock()
		c.queue = append(rest, c.queue...)
		c.mu.Unlock()
	}
	c.reportStoreErrors(ctx)
}

// isHistory reports the commands readHistory answers.
func isHistory(cmd Command) bool {
	switch cmd.(type) {
	case LoadHistory, storedPage, SearchHistory, LoadAround:
		return true
	}
	return false
}

// pageLimit is how many messages a LoadHistory reads.
func pageLimit(cmd LoadHistory) int {
	if cmd.Limit <= 0 || cmd.Limit > 1000 {
		return 100
	}
	return cmd.Limit
}

// storedPage is how a LoadHistory whose backfill could not finish (no
// answer in time, the session ended) comes back to the command queue, to
// be answered from the store with the reason.
type storedPage struct {
	LoadHistory
	archive error
}

// answerPage gives LoadHistory its page from the store and its one final
// answer, through out. archive is why the server's archive could not add
// to it, nil when it did; a server that keeps no archive is no failure.
func (c *Client) answerPage(ctx context.Context, id uint64, cmd LoadHistory, archive error, out func(Event)) error {
	msgs, more, err := c.opts.Store.Before(ctx, cmd.Conv.stored(), cmd.Before, pageLimit(cmd))
	if err != nil {
		err = fmt.Errorf("read history: %w", err)
		out(CommandFailed{ID: id, Command: cmd, Err: err})
		return err
	}
	if cmd.Conv.Kind == KindRoom {
		more = more || c.roomHasOlder(cmd.Conv)
	}
	out(HistoryLoaded{Conv: cmd.Conv, Before: cmd.Before, Messages: c.storedRows(ctx, msgs), More: more})
	var se *xmpp.StanzaError
	if archive != nil && !(errors.As(archive, &se) && (se.Condition == "service-unavailable" || se.Condition == "feature-not-implemented")) {
		err = fmt.Errorf("the server's archive: %w", archive)
		out(CommandFailed{ID: id, Command: cmd, Err: err})
		return err
	}
	out(CommandDone{ID: id, Command: cmd})
	return nil
}

// requeue puts a command back in the queue under its first ID, to be
// answered by Run's goroutine (which owns answering) — for callbacks that
// may run on any goroutine.
func (c *Client) requeue(id uint64, cmd Command) {
	c.mu.Lock()
	c.queue = append(c.queue, queued{id, cmd})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// recentSet remembers the last max keys added.
type recentSet struct {
	max  int
	keys map[string]bool
	ring []string
}

// add records key and reports whether it was new.
func (r *recentSet) add(key string) bool {
	if r.keys == nil {
		r.keys = map[string]bool{}
	}
	if r.keys[key] {
		return false
	}
	r.keys[key] = true
	r.ring = append(r.ring, key)
	if len(r.ring) > r.max {
		delete(r.keys, r.ring[0])
		r.ring = r.ring[1:]
	}
	return true
}

// discover learns whether a contact's client supports chat states from
// the capabilities its presence advertises (XEP-0115). Answers are cached
// per capability hash, and only when the hash of the answer matches the one
// advertised, so one client cannot poison what is believed of another; a
// hash not seen before is asked once per contact and session (XEP-0030).
func (c *Client) discover(sess *xmpp.Session, self Self, ev Event) {
	p, ok := ev.(PresenceChanged)
	if !ok || !p.Available || p.Caps == "" || p.Resource == "" || p.Bare == self.JID.Bare().String() {
		return
	}
	c.state.Lock()
	if chaty, known := c.capsCache[p.Caps]; known {
		if chaty {
			c.chaty[p.Bare] = true
		}
		c.state.Unlock()
		return
	}
	skip := c.chaty[p.Bare] || c.asked[p.Bare]
	c.asked[p.Bare] = true
	c.state.Unlock()
	if skip {
		return
	}
	iq := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", p.From).Add(xmpp.E(NSDiscoInfo, "query", "node", p.Caps))
	sess.SendIQFunc(iq, c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		if err != nil {
			return
		}
		var ids []identity
		var features []string
		chaty := false
		for _, f := range res.Child(NSDiscoInfo, "query").ChildrenIn(NSDiscoInfo) {
			switch f.Name.Local {
			case "identity":
				ids = append(ids, identity{f.Get("category"), f.Get("type"), f.Get("xml:lang"), f.Get("name")})
			case "feature":
				features = append(features, f.Get("var"))
				chaty = chaty || f.Get("var") == NSChatStates
			}
		}
		c.state.Lock()
		defer c.state.Unlock()
		if chaty {
			c.chaty[p.Bare] = true
		}
		// node#ver: cache only a verifiable answer whose hash is the one advertised.
		if capsCacheable(p.Caps, ids, features) && len(c.capsCache) < 1000 {
			c.capsCache[p.Caps] = chaty
		}
	})
}
