package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Delivery states of a message the user wrote.
const (
	DeliveryPending = history.StatePending // not yet on the wire
	DeliveryUnacked = history.StateUnacked // on the wire, not confirmed by the server
	DeliverySent    = history.StateSent    // the server has it
	DeliveryFailed  = history.StateFailed  // it could not be delivered
	// DeliveryReceived: the peer's client confirmed it (XEP-0184).
	DeliveryReceived = history.StateDelivered
	// DeliveryDisplayed: the peer has read it (XEP-0333).
	DeliveryDisplayed = history.StateDisplayed
)

// NSSID is XEP-0359 unique and stable stanza IDs (origin-id).
const NSSID = "urn:xmpp:sid:0"

// outgoing is one message in the outbox.
type outgoing struct {
	id      string // message id and origin-id
	conv    Conv   // the conversation it belongs to
	to      string // where it goes (see Conv.address)
	typ     string // its type: chat or groupchat
	body    string
	thread  string
	time    time.Time
	state   string
	storeID int64
	gen     uint64    // the session that last put it on the wire (see claim)
	size    int       // bytes on the wire
	deaths  int       // sessions that ended while it was on the wire, unconfirmed
	reply   *replyOut // what it answers (XEP-0461), nil for none
	file    *FileInfo // a file it shares (XEP-0066), nil for none
	// enc: sent encrypted (OMEMO), this element, made once; sessions are
	// those its encryption advanced, stored with it (then dropped).
	enc      *OMEMOEncrypted
	sessions []history.Session
}

// outbox keeps what the user wrote until the server confirms it: in the
// history store when there is one (so it survives a crash), in memory
// otherwise. live indexes what is not yet confirmed; settled remembers the
// last confirmed ones, so a late error bounce can still mark them failed.
type outbox struct {
	store   outboxStore // nil: memory only
	mu      sync.Mutex
	loaded  bool // what earlier runs left in the store has been read
	live    map[string]*outgoing
	order   []string // live ids, oldest first
	settled map[string]settledMsg
	ring    []string
	errs    []error // store failures not yet reported
	gen     uint64  // the current session, counted from 1
	sm      bool    // the current session has stream management
	open    bool    // a session started and lost has not yet judged it
	// recent are the last messages a session without stream management
	// put on the wire (they count as sent at once, so live forgets them).
	recent []*outgoing
}

// outboxStore is what the outbox needs of the history store.
type outboxStore interface {
	Unsent(context.Context) ([]history.Message, error)
	Commit(history.Batch) error
	SetState(ctx context.Context, originID, state string) error
}

type settledMsg struct {
	conv  Conv
	state string
}

// rank orders delivery states: a message only moves forward (an
// acknowledgement from the server may come after the peer's receipt).
func rank(state string) int {
	switch state {
	case DeliveryPending:
		return 0
	case DeliveryUnacked:
		return 1
	case DeliverySent:
		return 2
	case DeliveryReceived:
		return 3
	case DeliveryDisplayed:
		return 4
	case DeliveryFailed:
		return 5
	}
	return -1
}

const settledKept = 1000

func newOutbox(store outboxStore) *outbox {
	return &outbox{store: store, loaded: store == nil, live: map[string]*outgoing{}, settled: map[string]settledMsg{}}
}

// load reads what earlier runs left unconfirmed in the store, once. When
// the store cannot be read the messages stay where they are, and the next
// call tries again; meanwhile new messages are kept and sent as usual.
func (o *outbox) load(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.loaded {
		return nil
	}
	msgs, err := o.store.Unsent(ctx)
	if err != nil {
		return err
	}
	var earlier []string
	for _, m := range msgs {
		if _, known := o.live[m.OriginID]; known || m.OriginID == "" {
			continue
		}
		conv := convOf(m)
		to, typ, err := conv.address()
		if err != nil {
			continue // no address: it cannot go anywhere
		}
		out := &outgoing{id: m.OriginID, conv: conv, to: to, typ: typ, body: m.Body, thread: m.Thread, time: m.Time, state: m.State, storeID: m.ID, reply: replyFromRow(m), file: fileFromRow(m)}
		if m.Wire != "" {
			if out.enc, err = decodeWire(m.Wire); err != nil {
				o.errs = append(o.errs, err)
				continue
			}
		}
		o.live[m.OriginID] = out
		earlier = append(earlier, m.OriginID)
	}
	o.order = append(earlier, o.order...) // older than anything written since
	o.loaded = true
	return nil
}

// newSession starts a new count of what went on the wire: everything
// unconfirmed may go (again) in the session now starting.
func (o *outbox) newSession(sm bool) {
	o.mu.Lock()
	o.gen++
	o.sm, o.open = sm, true
	o.recent = nil
	o.mu.Unlock()
}

// claim reports whether m may go on the wire now, and records that it does:
// a message goes out once per session. Sending is claimed by whoever gets
// there first — the command that wrote it, or the re-sending of what an
// earlier session left once the roster is in — and never both.
func (o *outbox) claim(m *outgoing) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m.gen == o.gen || o.live[m.id] != m {
		return false
	}
	m.gen = o.gen
	if m.size == 0 {
		m.size = len(m.stanza().String())
	}
	if !o.sm {
		if len(o.recent) == recentKept {
			o.recent = append(o.recent[:0], o.recent[1:]...)
		}
		o.recent = append(o.recent, m)
	}
	return true
}

// recentKept bounds outbox.recent.
const recentKept = 8

// minStanzaLimit is the stanza size every server must accept (RFC 6120
// §13.12): a message no bigger cannot have been refused for its size.
const minStanzaLimit = 10000

// maxDeaths is how many sessions may end while a message is on the wire,
// unconfirmed, before it is given up: a server that drops the connection
// each time it receives a message would otherwise get it again at every
// reconnection, for ever. A message bigger than minStanzaLimit is given up
// after maxBigDeaths: a server refusing a stanza for its size closes the
// stream with policy-violation, but it closes the connection with our
// unread bytes still arriving, which resets it, and its stream error is
// often lost with the reset (measured with Prosody on loopback: two
// times out of three).
const (
	maxDeaths    = 3
	maxBigDeaths = 2
)

// undeliverable is a message given up, and why.
type undeliverable struct{ id, reason string }

// lost looks at what the session that just ended with err had put on the
// wire without confirmation. When the server closed the stream with
// policy-violation (what Prosody and ejabberd send for a stanza over their
// size limit), the biggest such message over RFC 6120's minimum is the
// one refused. Any message that has now been on the wire of maxDeaths
// dying sessions is given up too. The caller marks them failed.
func (o *outbox) lost(err error) []undeliverable {
	o.mu.Lock()
	defer o.mu.Unlock()
	// On the wire in this session and not confirmed: with stream
	// management, what is live from this session (live holds only what
	// is unconfirmed, so this stays small); without, the last few sent.
	if !o.open {
		return nil // no session started since the last one was judged (a failed dial)
	}
	o.open = false
	wire := o.recent
	o.recent = nil
	if o.sm {
		wire = nil
		for _, id := range o.order {
			if m := o.live[id]; m != nil && m.gen == o.gen {
				wire = append(wire, m)
			}
		}
	}
	if err == nil || errors.Is(err, errReconnect) {
		return nil // ended on purpose, not by what was sent
	}
	var se *xmpp.StreamError
	tooBig := errors.As(err, &se) && (se.Condition == "policy-violation" || strings.Contains(se.Text, "too big") || strings.Contains(se.Text, "too large"))
	var culprit *outgoing
	var out []undeliverable
	for _, m := range wire {
		if tooBig && m.size > minStanzaLimit && (culprit == nil || m.size > culprit.size) {
			culprit = m
		}
	}
	if culprit != nil {
		out = append(out, undeliverable{culprit.id, fmt.Sprintf("the server refused it as too big (%s as sent; it closed the connection: %v)", sizeText(culprit.size), err)})
	}
	for _, m := range wire {
		if m == culprit || !o.sm {
			continue
		}
		m.deaths++
		switch {
		case m.size > minStanzaLimit && m.deaths >= maxBigDeaths:
			out = append(out, undeliverable{m.id, fmt.Sprintf("the server closed the connection each of the %d times it was sent (%s as sent): it is probably too big for the server", m.deaths, sizeText(m.size))})
		case m.deaths >= maxDeaths:
			out = append(out, undeliverable{m.id, fmt.Sprintf("the connection was lost each of the %d times it was sent (%s as sent); the server may be refusing it", m.deaths, sizeText(m.size))})
		}
	}
	return out
}

// sizeText is a size as users read it.
func sizeText(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d KiB", (n+1023)/1024)
}

// lost marks as failed what the session that just ended with err had sent
// and the server will never take (see outbox.lost). It runs on Run's
// goroutine, between sessions.
func (c *Client) lost(ctx context.Context, err error) {
	gaveUp := c.out.lost(err)
	for _, u := range gaveUp {
		if conv, ok := c.out.set(u.id, DeliveryFailed); ok {
			c.emit(ctx, DeliveryChanged{Conv: conv, ID: u.id, To: conv.JID, State: DeliveryFailed, Reason: u.reason})
		}
	}
	if len(gaveUp) > 0 {
		// Resuming would have the protocol layer send it again.
		c.resume = nil
	}
	c.reportStoreErrors(ctx)
}

// failure records a store error, to be reported (see takeErrors).
func (o *outbox) failure(err error) {
	o.mu.Lock()
	o.errs = append(o.errs, err)
	o.mu.Unlock()
}

// takeErrors returns the store failures not yet reported.
func (o *outbox) takeErrors() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	errs := o.errs
	o.errs = nil
	return errs
}

func (o *outbox) track(m *outgoing) {
	o.live[m.id] = m
	o.order = append(o.order, m.id)
}

// add stores a new message as pending.
func (o *outbox) add(m *outgoing, from string) error {
	m.state = DeliveryPending
	if o.store != nil {
		row := &history.Message{
			Kind: string(m.conv.Kind), Peer: m.conv.JID, Direction: history.Out, From: from, To: m.to, Body: m.body, Thread: m.thread,
			StanzaID: m.id, OriginID: m.id, Time: m.time, State: DeliveryPending, Reply: m.storedReply(),
		}
		if m.file != nil {
			row.File = storedFile(m.file)
		}
		if m.enc != nil {
			// With the sessions its encryption advanced: a resend sends
			// the same bytes, and the sessions are never behind them.
			row.Encryption, row.Device, row.Wire = historyVersion(m.enc.Version), m.enc.SID, encodeWire(m.enc)
		}
		if err := o.store.Commit(history.Batch{Messages: []*history.Message{row}, Sessions: m.sessions}); err != nil {
			return err
		}
		m.storeID = row.ID
	}
	o.mu.Lock()
	o.track(m)
	o.mu.Unlock()
	return nil
}

// set records a new state and returns the message's conversation; ok is
// false for an id the outbox does not know.
func (o *outbox) set(id, state string) (conv Conv, ok bool) {
	o.mu.Lock()
	if m := o.live[id]; m != nil {
		if rank(state) <= rank(m.state) {
			o.mu.Unlock()
			return m.conv, false
		}
		conv = m.conv
		m.state = state
		if rank(state) >= rank(DeliverySent) {
			delete(o.live, id)
			o.settle(id, conv, state)
		}
	} else if s, known := o.settled[id]; known && rank(state) > rank(s.state) && s.state != DeliveryFailed {
		conv = s.conv
		o.settled[id] = settledMsg{conv, state}
	} else {
		o.mu.Unlock()
		return Conv{}, false
	}
	o.mu.Unlock()
	if o.store != nil {
		if err := o.store.SetState(context.Background(), id, state); err != nil {
			o.failure(fmt.Errorf("could not record in history that a message to %s is %s: %w", conv.JID, state, err))
		}
	}
	return conv, true
}

// drop forgets a message we retracted: it is not sent (again), and what
// the server or the peer says of it changes nothing.
func (o *outbox) drop(id string) {
	o.mu.Lock()
	delete(o.live, id)
	o.mu.Unlock()
}

func (o *outbox) settle(id string, conv Conv, state string) {
	o.settled[id] = settledMsg{conv, state}
	o.ring = append(o.ring, id)
	if len(o.ring) > settledKept {
		delete(o.settled, o.ring[0])
		o.ring = o.ring[1:]
	}
}

// peer returns the conversation of a message we sent.
func (o *outbox) peer(id string) (Conv, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m := o.live[id]; m != nil {
		return m.conv, true
	}
	s, ok := o.settled[id]
	return s.conv, ok
}

// unsent lists what still has to go out, oldest first; with onlyPending,
// only what never went on the wire.
func (o *outbox) unsent(onlyPending bool) []*outgoing {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*outgoing
	kept := o.order[:0]
	for _, id := range o.order {
		m := o.live[id]
		if m == nil {
			continue
		}
		kept = append(kept, id)
		if !onlyPending || m.state == DeliveryPending {
			out = append(out, m)
		}
	}
	o.order = kept
	return out
}

// receipt marks a message the peer's client confirmed. Only a receipt
// from the peer the message went to counts: the contact (any resource),
// or the very occupant of a private message in a room.
func (c *Client) receipt(ctx context.Context, r ReceiptReceived) {
	conv, known := c.out.peer(r.ID)
	if !known || !(conv.Kind == KindChat && conv.JID == r.Bare || conv.Kind == KindPrivate && conv.JID == r.From) {
		return
	}
	if conv, ok := c.out.set(r.ID, DeliveryReceived); ok {
		c.deliver(DeliveryChanged{Conv: conv, ID: r.ID, To: conv.JID, State: DeliveryReceived})
	}
}

// bounced handles an error returned for a message. One about a message we
// sent marks it not delivered only when it comes from where the message
// went: an error is returned by the entity that could not handle the
// stanza (RFC 6120 §8.3), which is the recipient (any of its resources) or
// a server on the way, the recipient's or our own. Anyone else who learnt
// the message's id could otherwise mark it not delivered: such an error
// changes nothing and becomes a notice. It runs on the reader goroutine and
// returns the event to hand on.
func (c *Client) bounced(self Self, e StanzaError) Event {
	if e.Kind != "message" {
		return e
	}
	conv, known := c.out.peer(e.ID)
	if !known {
		return e // not about a message we sent (or one long settled)
	}
	to := conv.JID
	from, err := jid.Parse(e.From)
	if err != nil || !bounceFrom(self, from, to) {
		return Notice{Text: "ignored an error from " + e.From + " about a message to " + to + " (only " + to + " or a server on the way can return it)"}
	}
	if conv, ok := c.out.set(e.ID, DeliveryFailed); ok {
		c.deliver(DeliveryChanged{Conv: conv, ID: e.ID, To: conv.JID, State: DeliveryFailed})
	}
	return e
}

// bounceFrom reports whether an error from `from` may be about a message
// we sent to the bare JID to: from the recipient (bare or full JID), from
// its server (the domain alone), or from our own server (our domain, or
// our bare JID, as a stanza without from reads).
func bounceFrom(self Self, from jid.JID, to string) bool {
	rcpt, err := jid.Parse(to)
	if err != nil {
		return false
	}
	own := self.JID.Bare()
	switch {
	case from.Bare().Equal(rcpt.Bare()):
		return true
	case from.Equal(own):
		return true
	case from.Localpart() == "" && from.Resourcepart() == "":
		return from.Domainpart() == rcpt.Domainpart() || from.Domainpart() == own.Domainpart()
	}
	return false
}

// displayed marks our messages to Bare as read up to ID: that one and,
// as XEP-0333 §5 says, everything sent to them before it.
func (c *Client) displayed(ctx context.Context, mk MarkerReceived) {
	o := c.out
	o.mu.Lock()
	idx := -1
	for i, id := range o.ring {
		if id == mk.ID && o.settled[id].conv == ChatWith(mk.Bare) {
			idx = i
		}
	}
	var ids []string
	if idx >= 0 {
		for _, id := range o.ring[:idx+1] {
			if s := o.settled[id]; s.conv == ChatWith(mk.Bare) && rank(s.state) < rank(DeliveryDisplayed) && s.state != DeliveryFailed {
				ids = append(ids, id)
			}
		}
	}
	o.mu.Unlock()
	for _, id := range ids {
		if conv, ok := o.set(id, DeliveryDisplayed); ok {
			c.deliver(DeliveryChanged{Conv: conv, ID: id, To: conv.JID, State: DeliveryDisplayed})
		}
	}
}

// stanza is the message as it goes on the wire: to the bare JID (the
// room's, or an occupant's room/nick), with an origin-id (XEP-0359) so
// that a copy re-sent after a lost connection can be recognised — and, in
// a room, its reflection — and <active/> (XEP-0085 §5.1: allowed with any
// message, and how a peer learns we support chat states). Receipts and
// read markers are asked for in one-to-one conversations only (XEP-0184
// §5.3: not in groupchat).
func (m *outgoing) stanza() *xmpp.Element {
	if m.enc != nil {
		el, err := OMEMOMessage(m.to, m.id, m.enc)
		if err != nil {
			// Made from what we encrypted, or read back from our store
			// (decodeWire): nothing to send in its place.
			el = m.conv.message(m.to, m.typ, m.id)
		}
		if m.typ == "groupchat" {
			el.SetAttr("type", m.typ)
			return el.Add(xmpp.E(NSChatStates, string(StateActive)))
		}
		el.Add(xmpp.E(NSChatStates, string(StateActive)), xmpp.E(NSReceipts, "request"), xmpp.E(NSMarkers, "markable"))
		return el
	}
	body := m.body
	if m.reply != nil {
		body = m.reply.fallback + body
	}
	el := m.conv.message(m.to, m.typ, m.id).Add(
		xmpp.E(xmpp.NSClient, "body").WithText(body),
	)
	if m.reply != nil {
		m.reply.addTo(el)
	}
	if m.file != nil {
		el.Add(oob(m.file))
	}
	if m.thread != "" {
		el.Add(xmpp.E(xmpp.NSClient, "thread").WithText(m.thread))
	}
	el.Add(xmpp.E(NSChatStates, string(StateActive)))
	if m.typ != "groupchat" {
		el.Add(xmpp.E(NSReceipts, "request"), xmpp.E(NSMarkers, "markable"))
	}
	return el.Add(xmpp.E(NSSID, "origin-id", "id", m.id))
}

// enqueue puts a new message in the outbox and tells the UI, which shows
// it as pending until it is confirmed.
func (c *Client) enqueue(ctx context.Context, cmdID uint64, cmd SendMessage) (*outgoing, error) {
	return c.enqueueFile(ctx, cmdID, cmd, nil)
}

// enqueueEncrypted encrypts a message (live session needed) and puts it
// in the outbox.
func (c *Client) enqueueEncrypted(ctx context.Context, sess *xmpp.Session, cmdID uint64, cmd SendMessage) (*outgoing, error) {
	if !c.opts.OMEMO {
		return nil, fmt.Errorf("%w: not sent", errOMEMOOff)
	}
	if cmd.Conv.Kind == KindRoom {
		return c.enqueueRoomEncrypted(ctx, sess, cmdID, cmd) // omemo_room.go
	}
	if cmd.Conv.Kind != KindChat {
		return nil, errors.New("encryption is for one-to-one chats and rooms, not private messages in a room: not sent")
	}
	if cmd.ReplyTo != 0 {
		return nil, errOMEMOReply
	}
	if cmd.Body == "" {
		return nil, errEmpty
	}
	enc, sessions, err := c.omemoEncrypt(ctx, sess, cmd.Conv.JID, cmd.Body)
	if err != nil {
		return nil, err
	}
	return c.enqueueWith(ctx, cmdID, cmd, nil, enc, sessions)
}

// enqueueFile is enqueue for a message that shares a file (its URL is the
// body).
func (c *Client) enqueueFile(ctx context.Context, cmdID uint64, cmd SendMessage, file *FileInfo) (*outgoing, error) {
	return c.enqueueWith(ctx, cmdID, cmd, file, nil, nil)
}

func (c *Client) enqueueWith(ctx context.Context, cmdID uint64, cmd SendMessage, file *FileInfo, enc *OMEMOEncrypted, sessions []history.Session) (*outgoing, error) {
	to, typ, err := cmd.Conv.address()
	if err != nil {
		return nil, err
	}
	if cmd.Body == "" {
		return nil, errEmpty
	}
	if cmd.Conv.Kind != KindChat {
		c.state.Lock()
		_, in := c.rooms[cmd.Conv.Room()]
		c.state.Unlock()
		if !in {
			return nil, fmt.Errorf("you are not in %s: /join it first", cmd.Conv.Room())
		}
	}
	m := &outgoing{id: NewID(), conv: cmd.Conv, to: to, typ: typ, body: cmd.Body, thread: cmd.Thread, time: time.Now(), file: file, enc: enc, sessions: sessions}
	var reply *ReplyInfo
	if cmd.ReplyTo != 0 {
		if m.reply, reply, err = c.replyTo(ctx, cmd.Conv, cmd.ReplyTo); err != nil {
			return nil, fmt.Errorf("cannot reply: %w", err)
		}
	}
	m.size = len(m.stanza().String())
	if m.size > c.opts.MaxMessageSize {
		return nil, c.refuse(ctx, cmdID, m)
	}
	if err := c.out.add(m, c.acct.JID.String()); err != nil {
		c.emit(ctx, Notice{Text: "could not store a message in history: " + err.Error()})
	}
	m.sessions = nil // stored (or not: this run holds them)
	var info *OMEMOInfo
	if enc != nil {
		info = &OMEMOInfo{Version: enc.Version, Device: enc.SID, Trust: history.TrustTrusted}
	}
	c.emit(ctx, MessageSent{Conv: m.conv, CommandID: cmdID, ID: m.id, To: to, Body: m.body, Thread: m.thread, Time: m.time, State: DeliveryPending, StoreID: m.storeID, Reply: reply, File: file, OMEMO: info})
	return m, nil
}

// refuse keeps a message too big to send in history, marked not
// delivered (what the user wrote is not lost), shows it so, and returns
// the reason for its command's failure.
func (c *Client) refuse(ctx context.Context, cmdID uint64, m *outgoing) error {
	err := fmt.Errorf("message not sent: it is %s as sent, more than this account's limit of %s (max_message_size); it is kept in history, marked not delivered",
		sizeText(m.size), sizeText(c.opts.MaxMessageSize))
	if c.opts.Store != nil {
		row := &history.Message{Kind: string(m.conv.Kind), Peer: m.conv.JID, Direction: history.Out, From: c.acct.JID.String(), To: m.to, Body: m.body, Thread: m.thread,
			StanzaID: m.id, OriginID: m.id, Time: m.time, State: DeliveryFailed, Reply: m.storedReply()}
		if serr := c.opts.Store.Append([]*history.Message{row}); serr != nil {
			c.emit(ctx, Notice{Text: "could not store a message in history: " + serr.Error()})
		} else {
			m.storeID = row.ID
		}
	}
	c.emit(ctx, MessageSent{Conv: m.conv, CommandID: cmdID, ID: m.id, To: m.to, Body: m.body, Thread: m.thread, Time: m.time, State: DeliveryFailed, StoreID: m.storeID})
	return err
}

// transmit puts a message on the wire. With stream management it stays
// unacked until the server confirms it; without, writing it is all we can
// know.
//
// out hands the resulting event on: emitting at once from the Run
// goroutine, into the batch on the reader's.
func (c *Client) transmit(sess *xmpp.Session, m *outgoing, out func(Event)) error {
	if !c.roomReady(m.conv) {
		return nil // kept until we are in the room again (see occupantEvent)
	}
	if !c.out.claim(m) {
		return nil // already sent in this session
	}
	if err := sess.Send(m.stanza()); err != nil {
		return err
	}
	state := DeliverySent
	if sess.StreamManagement() {
		state = DeliveryUnacked
	}
	if conv, ok := c.out.set(m.id, state); ok {
		out(DeliveryChanged{Conv: conv, ID: m.id, To: conv.JID, State: state})
	}
	return nil
}

// flush sends what the outbox holds, oldest first, except what already
// went out in this session.
func (c *Client) flush(sess *xmpp.Session, onlyPending bool, out func(Event)) {
	for _, m := range c.out.unsent(onlyPending) {
		if err := c.transmit(sess, m, out); err != nil {
			return // still pending: the next connection sends it
		}
	}
}

// acked marks messages the server confirmed. It runs on the reader
// goroutine (or in Dial, resuming, before the reader starts): it delivers
// into the reader's batch.
func (c *Client) acked(ctx context.Context, els []*xmpp.Element) {
	for _, el := range els {
		if !el.Is(xmpp.NSClient, "message") {
			continue
		}
		if conv, ok := c.out.set(el.Get("id"), DeliverySent); ok {
			c.deliver(DeliveryChanged{Conv: conv, ID: el.Get("id"), To: conv.JID, State: DeliverySent})
		}
	}
}
