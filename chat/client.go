package chat

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
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
}

// Client runs one account: it owns the connection and talks to the rest of
// gab only through Events and Do.
type Client struct {
	acct   *config.Account
	opts   Options
	events chan Event

	mu       sync.Mutex
	queue    []queued
	nextID   uint64
	wake     chan struct{}
	presence SetPresence // what the user last set; re-sent on connect

	state sync.Mutex
	items map[string]roster.Item // the server's roster, for rename/regroup
	ver   string                 // roster version held
	chaty map[string]bool        // bare JIDs known to support chat states
	asked map[string]bool        // bare JIDs whose features we asked for this session
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
	show, _ := roster.ShowFromStatus(acct.Status)
	return &Client{
		acct:     acct,
		opts:     opts,
		events:   make(chan Event, opts.EventBuffer),
		wake:     make(chan struct{}, 1),
		presence: SetPresence{Show: show, Status: acct.StatusMessage},
		items:    map[string]roster.Item{},
		chaty:    map[string]bool{},
		asked:    map[string]bool{},
	}
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

// Run connects and keeps the account connected until ctx ends or a retry
// cannot help (wrong password, untrusted certificate, another client took
// over the resource). It closes Events when it returns.
func (c *Client) Run(ctx context.Context) error {
	defer close(c.events)
	backoff := c.opts.MinBackoff
	for {
		started := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			select {
			case c.events <- Disconnected{Final: true}:
			default:
			}
			return nil
		}
		if isFinal(err) || c.opts.NoReconnect {
			c.emit(ctx, Disconnected{Err: err, Final: true})
			c.failQueued(ctx, err)
			return err
		}
		if time.Since(started) > 2*c.opts.MaxBackoff {
			backoff = c.opts.MinBackoff // it had been up a while: start over
		}
		wait := backoff/2 + rand.N(backoff/2+1) // jitter, so clients do not stampede
		c.emit(ctx, Disconnected{Err: err, RetryIn: wait})
		if !c.sleep(ctx, wait) {
			c.emit(ctx, Disconnected{Final: true})
			return nil
		}
		backoff = min(backoff*2, c.opts.MaxBackoff)
	}
}

// sleep waits d, failing commands that arrive meanwhile (none can be
// carried out offline) except presence changes, which are kept for the
// next connection.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-c.wake:
			c.failQueued(ctx, ErrNotConnected)
		}
	}
}

func (c *Client) failQueued(ctx context.Context, err error) {
	for _, q := range c.takeQueue() {
		if p, ok := q.cmd.(SetPresence); ok {
			c.mu.Lock()
			c.presence = p
			c.mu.Unlock()
			c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
			continue
		}
		c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
	}
}

// isFinal reports errors a retry cannot mend.
func isFinal(err error) bool {
	var se *xmpp.SASLError
	var te *xmpp.TLSError
	var st *xmpp.StreamError
	switch {
	case errors.As(err, &se), errors.As(err, &te):
		return true
	case errors.As(err, &st):
		return st.Condition == "conflict" || st.Condition == "not-authorized" || st.Condition == "host-unknown"
	case errors.Is(err, errPassword):
		return true
	}
	return false
}

var errPassword = errors.New("no password")

func (c *Client) xmppConfig(ctx context.Context) (xmpp.Config, error) {
	pass, err := c.acct.Secret(ctx)
	if err != nil {
		return xmpp.Config{}, fmt.Errorf("%w: %v", errPassword, err)
	}
	cfg := xmpp.Config{
		JID:       c.acct.JID,
		Password:  pass,
		Resource:  c.acct.Resource,
		Server:    c.acct.Server,
		DirectTLS: c.acct.TLS == config.TLSDirect,
		Lang:      c.opts.Lang,
	}
	if cfg.Resource == "" {
		cfg.Resource = "gab"
	}
	var extra []byte
	if c.acct.CAFile != "" {
		if extra, err = os.ReadFile(c.acct.CAFile); err != nil {
			return cfg, fmt.Errorf("ca_file: %w", err)
		}
	}
	if cfg.RootCAs, err = xmpp.RootPool(extra); err != nil {
		return cfg, fmt.Errorf("ca_file %s: %w", c.acct.CAFile, err)
	}
	return cfg, nil
}

// session runs one connection from dial to its end.
func (c *Client) session(ctx context.Context) error {
	cfg, err := c.xmppConfig(ctx)
	if err != nil {
		return err
	}
	sess, err := c.opts.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	if !c.emit(ctx, Connected{JID: sess.JID().String(), Mechanism: sess.Mechanism()}) {
		return ctx.Err()
	}
	self := Self{JID: sess.JID(), Lang: c.opts.Lang, Version: c.opts.Version}
	c.state.Lock()
	clear(c.asked)
	c.state.Unlock()

	readErr := make(chan error, 1)
	go func() { readErr <- c.read(ctx, sess, self) }()

	if err := c.fetchRoster(ctx, sess); err != nil {
		sess.Close()
		<-readErr
		return err
	}
	for {
		select {
		case err := <-readErr:
			return err
		case <-c.wake:
			for _, q := range c.takeQueue() {
				c.execute(ctx, sess, q)
			}
		}
	}
}

// read is the one goroutine that reads the stream: it translates each
// element, answers requests, and emits events in stream order.
func (c *Client) read(ctx context.Context, sess *xmpp.Session, self Self) error {
	defer sess.Close() // wakes any command waiting on an IQ
	onDrop := func(err error) { c.emit(ctx, Notice{Text: err.Error()}) }
	for {
		el, err := sess.Next(onDrop)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		evs, reply := Translate(self, el)
		if reply != nil {
			sess.Send(reply)
		}
		for _, ev := range evs {
			c.observe(ev)
			c.discover(sess, self, ev)
			c.persist(ctx, ev)
			if !c.emit(ctx, ev) {
				return ctx.Err()
			}
		}
	}
}

// observe keeps what the client itself needs from events: the roster items
// for rename and regroup, and which contacts use chat states.
func (c *Client) observe(ev Event) {
	c.state.Lock()
	defer c.state.Unlock()
	switch e := ev.(type) {
	case RosterPushed:
		if e.Item.Subscription == "remove" {
			delete(c.items, e.Item.JID)
		} else {
			c.items[e.Item.JID] = e.Item
		}
		if e.Version != "" {
			c.ver = e.Version
		}
	case ChatStateChanged:
		c.chaty[e.Bare] = true
	}
}

// fetchRoster asks for the roster (versioned when the server supports it)
// and, once it is in, sends initial presence: RFC 6121 §2.2's order, so
// presence never arrives for contacts we have not yet listed.
func (c *Client) fetchRoster(ctx context.Context, sess *xmpp.Session) error {
	q := xmpp.E(NSRoster, "query")
	c.state.Lock()
	if sess.Features().Child(NSRosterVer, "ver") != nil {
		q.SetAttr("ver", c.ver)
	}
	c.state.Unlock()
	iq := xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(q)
	return sess.SendIQFunc(iq, c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		// Runs on the reader goroutine, in stream order.
		if err != nil {
			c.emit(ctx, Notice{Text: "roster fetch failed: " + err.Error()})
			sess.Close()
			return
		}
		c.state.Lock()
		if rq := res.Child(NSRoster, "query"); rq != nil {
			c.items = map[string]roster.Item{}
			for _, it := range parseRosterItems(rq) {
				c.items[it.JID] = it
			}
			c.ver = rq.Get("ver")
		} // no query: the roster we hold is current (RFC 6121 §2.6.3)
		items := make([]roster.Item, 0, len(c.items))
		for _, it := range c.items {
			items = append(items, it)
		}
		ver := c.ver
		c.state.Unlock()
		c.emit(ctx, RosterReset{Items: items, Version: ver})
		c.mu.Lock()
		p := c.presence
		c.mu.Unlock()
		sess.Send(c.presenceElement(p))
		sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E(NSBlocking, "blocklist")), c.opts.IQTimeout,
			func(res *xmpp.Element, err error) {
				if err == nil {
					c.emit(ctx, BlocklistChanged{JIDs: blockItems(res.Child(NSBlocking, "blocklist")), Reset: true})
				}
			})
	})
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

// bareJID validates a JID a user typed and returns its bare form.
func bareJID(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid JID: %v", s, err)
	}
	return j.Bare().String(), nil
}

// persist stores a message before anyone is shown it, so that whatever the
// user has seen is on disk. A failure is reported, and the message is still
// shown: losing it from the screen too would be worse.
func (c *Client) persist(ctx context.Context, ev Event) {
	if c.opts.Store == nil {
		return
	}
	var m *history.Message
	switch e := ev.(type) {
	case MessageReceived:
		m = &history.Message{Peer: e.Bare, Direction: history.In, From: e.From, To: e.To, Body: e.Body, Thread: e.Thread, StanzaID: e.ID, Time: e.Time}
	case MessageSent:
		m = &history.Message{Peer: e.To, Direction: history.Out, From: c.acct.JID.String(), To: e.To, Body: e.Body, Thread: e.Thread, StanzaID: e.ID, Time: e.Time}
	default:
		return
	}
	if err := c.opts.Store.Append([]*history.Message{m}); err != nil {
		c.emit(ctx, Notice{Text: "could not store a message in history: " + err.Error()})
	}
}

// discover asks a contact's client what it supports (XEP-0030, once per
// contact and session, and only when its presence advertises capabilities
// per XEP-0115), so that chat states go to clients that announce them even
// before they send one.
func (c *Client) discover(sess *xmpp.Session, self Self, ev Event) {
	p, ok := ev.(PresenceChanged)
	if !ok || !p.Available || p.Caps == "" || p.Resource == "" || p.Bare == self.JID.Bare().String() {
		return
	}
	c.state.Lock()
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
		for _, f := range res.Child(NSDiscoInfo, "query").ChildrenIn(NSDiscoInfo) {
			if f.Name.Local == "feature" && f.Get("var") == NSChatStates {
				c.state.Lock()
				c.chaty[p.Bare] = true
				c.state.Unlock()
				return
			}
		}
	})
}
