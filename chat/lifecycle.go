package chat

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
)

// errReconnect ends a session the user asked to replace with a new one.
var errReconnect = errors.New("reconnect requested")

// refusedMaxBackoff caps the pause between attempts while connections are
// refused outright: the host is up and nothing listens yet, as while a
// server restarts, and trying costs it nothing.
const refusedMaxBackoff = 10 * time.Second

// Run connects and keeps the account connected until ctx ends. A lost
// connection is retried with exponential backoff and jitter (MinBackoff
// doubling to MaxBackoff; to at most refusedMaxBackoff while connections are
// refused), whatever the user's presence. The first failure of an outage is
// a Disconnected, each further one a Retrying. An error a retry cannot mend
// (wrong password, untrusted certificate, another client taking over the
// resource) is reported as a final Disconnected and the client waits for a
// Reconnect command instead of looping. Events is closed when Run returns.
func (c *Client) Run(ctx context.Context) error {
	defer close(c.events)
	// Uploads run on goroutines of their own: they end (and their last
	// events go out) before the events channel closes.
	ctx, cancel := context.WithCancel(ctx)
	defer c.stopUploads()
	defer cancel()
	c.restoreCache(ctx) // drawn at once, before the network answers
	backoff := c.opts.MinBackoff
	redirects := 0
	failures := 0 // failed attempts in the current outage
	for {
		started := time.Now()
		c.up = false
		err := c.session(ctx)
		if c.up {
			failures = 0 // it was connected: a new outage starts
		}
		if ctx.Err() != nil {
			select {
			case c.events <- Disconnected{Final: true}:
			default:
			}
			return nil
		}
		c.lost(ctx, err)
		if c.opts.NoReconnect {
			c.emit(ctx, Disconnected{Err: err, Final: true})
			c.failQueued(ctx, err)
			return err
		}
		if time.Since(started) > 2*c.opts.MaxBackoff {
			backoff = c.opts.MinBackoff // it had been up a while: start over
		}
		c.redirect = ""
		var se *xmpp.StreamError
		switch {
		case errors.Is(err, errReconnect):
			backoff, failures = c.opts.MinBackoff, 0
			c.emit(ctx, Disconnected{Err: err})
			continue
		case errors.As(err, &se) && se.Condition == "see-other-host" && redirects < 3:
			// RFC 6120 §4.9.3.19: connect to the host named, at once.
			if addr, ok := redirectAddr(se.Data); ok {
				redirects++
				c.redirect = addr
				c.emit(ctx, Disconnected{Err: fmt.Errorf("%w; following to %s", err, addr)})
				continue
			}
		case isFinal(err):
			c.resume = nil // e.g. another client took the session over
			var sasl *xmpp.SASLError
			refused := false
			if errors.As(err, &sasl) {
				refused = sasl.Condition == "not-authorized"
				err = fmt.Errorf("%w (%s)", err, c.passwordSource())
				c.typed = "" // refused: the account's own password next time
			}
			d := Disconnected{Err: err, Final: true, NeedPassword: refused || errors.Is(err, errPassword)}
			var te *xmpp.TLSError
			if errors.As(err, &te) && te.Untrusted() && c.opts.PinFile != "" {
				if since, ok := c.authoritySeen(); ok {
					// Never offer to trust it: see authorityMarker.
					d.Err = &InterceptionError{TLS: te, Since: since, Marker: c.authorityMarker(), AccountFile: c.login.File}
				} else {
					d.Untrusted = te.Cert
				}
			}
			c.emit(ctx, d)
			if !c.sleep(ctx, -1) {
				return nil
			}
			backoff, redirects, failures = c.opts.MinBackoff, 0, 0
			continue
		}
		redirects = 0
		limit := c.opts.MaxBackoff
		if refused(err) {
			// Nothing listens there (yet): a short cap reconnects soon
			// after a restarted server is back.
			limit = min(limit, refusedMaxBackoff)
		}
		backoff = min(backoff, limit)
		wait := backoff/2 + rand.N(backoff/2+1) // jitter, so clients do not stampede
		failures++
		if failures == 1 {
			c.emit(ctx, Disconnected{Err: err, RetryIn: wait})
		} else {
			c.emit(ctx, Retrying{Err: err, RetryIn: wait, Attempt: failures})
		}
		if !c.sleep(ctx, wait) {
			return nil
		}
		backoff = min(backoff*2, limit)
	}
}

// refused reports a connection refused outright: the host is up but no
// server listens.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// redirectAddr reads a see-other-host target: host, host:port or
// [v6]:port; the default port is 5222.
func redirectAddr(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, true
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "5222"), true
}

// sleep waits d (for ever when d < 0) while offline. A Reconnect command
// ends the wait early; presence changes are kept for the next connection;
// other commands cannot be carried out offline and fail. It reports false
// when ctx ended.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timeout:
			return true
		case <-c.wake:
			if c.failQueued(ctx, ErrNotConnected) {
				return true
			}
		}
	}
}

// reportStoreErrors shows the outbox's store failures not yet reported.
func (c *Client) reportStoreErrors(ctx context.Context) {
	for _, err := range c.out.takeErrors() {
		c.emit(ctx, Notice{Text: err.Error()})
	}
}

// failQueued answers the commands queued while offline. It reports
// whether one of them asked to reconnect.
func (c *Client) failQueued(ctx context.Context, err error) (reconnect bool) {
	for _, q := range c.takeQueue() {
		switch cmd := q.cmd.(type) {
		case SetPresence:
			c.mu.Lock()
			c.presence = cmd
			c.mu.Unlock()
			c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
		case Reconnect:
			reconnect, c.reload = true, true
			c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
		case UsePassword:
			reconnect, c.typed = true, cmd.Password
			c.emit(ctx, CommandDone{ID: q.id, Command: SafeCommand(q.cmd)})
		case LoadHistory, storedPage, SearchHistory, LoadAround:
			if later, err := c.readHistory(ctx, q.id, cmd, nil); !later {
				c.answer(ctx, q, err)
			}
		case bookmarksFailed:
			c.answerFailed(ctx, q.id, cmd)
		case omemoRoomMembers:
			// Nobody asked: the members are read again at the next join.
		case CancelUpload, uploadFinished, FetchFile, fetchFinished:
			c.uploadLocal(ctx, nil, q)
		case TrustCertificate:
			if err := c.pin(cmd.DER); err != nil {
				c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
				continue
			}
			reconnect = true
			c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
		case SendMessage:
			if cmd.Encrypt {
				// Never kept to go in plain text: encrypting needs the
				// server (the contact's devices and bundles).
				c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: errOMEMOOffline})
				continue
			}
			// Kept in the outbox, shown as pending, sent on reconnecting.
			if _, err := c.enqueue(ctx, q.id, cmd); err != nil {
				c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
			} else {
				c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
			}
		default:
			c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
		}
	}
	c.reportStoreErrors(ctx)
	return reconnect
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
	case errors.Is(err, errPassword), errors.Is(err, errAccountFile), errors.Is(err, xmpp.ErrPlainWithPin):
		return true
	}
	return false
}

var (
	errPassword    = errors.New("no password")
	errAccountFile = errors.New("account file")
)

// passwordSource says where the password tried came from, for an error
// that must tell the user what to fix.
func (c *Client) passwordSource() string {
	switch {
	case c.typed != "":
		return "the password typed for this session"
	case c.login.File == "":
		return "the account's password"
	case c.login.PasswordCommand != "":
		return "the password printed by password_command in " + c.login.File
	}
	return "password in " + c.login.File
}

// reloadAccount reads the account file again, so that a Reconnect after
// the user fixed it (a wrong password, password_command, server, TLS
// settings) uses the file as it is now. The JID cannot change under a
// running client: its history and roster belong to it.
func (c *Client) reloadAccount() error {
	if c.acct.File == "" {
		return nil
	}
	a, probs := config.LoadAccount(c.acct.File)
	if len(probs) > 0 {
		return fmt.Errorf("%w: %w", errAccountFile, probs)
	}
	if !a.JID.Equal(c.acct.JID) {
		return fmt.Errorf("%w %s: jid is now %s, not %s; restart gab to use another account", errAccountFile, c.acct.File, a.JID, c.acct.JID)
	}
	c.login = *a
	return nil
}

func (c *Client) xmppConfig(ctx context.Context) (xmpp.Config, error) {
	if c.reload {
		c.reload = false
		if err := c.reloadAccount(); err != nil {
			return xmpp.Config{}, err
		}
	}
	pass := c.typed
	if pass == "" {
		var err error
		if pass, err = c.login.Secret(ctx); err != nil {
			where := ""
			if c.login.File != "" {
				where = " (" + c.login.File + ")"
			}
			return xmpp.Config{}, fmt.Errorf("%w: %v%s", errPassword, err, where)
		}
	}
	cfg := xmpp.Config{
		JID:               c.acct.JID,
		Password:          pass,
		Resource:          c.login.Resource,
		Server:            c.login.Server,
		DirectTLS:         c.login.TLS == config.TLSDirect,
		Lang:              c.opts.Lang,
		AllowPlainWithPin: c.login.AllowPlainWithPinned,
	}
	if c.redirect != "" {
		cfg.Server, cfg.DirectTLS = c.redirect, false
	}
	cfg.StreamManagement = !c.opts.NoStreamManagement
	cfg.Resume = c.resume
	cfg.Tap = c.opts.XMLLog
	if cfg.Resource == "" {
		cfg.Resource = c.resource
	}
	var extra []byte
	var err error
	if c.login.CAFile != "" {
		if extra, err = os.ReadFile(c.login.CAFile); err != nil {
			return cfg, fmt.Errorf("ca_file: %w", err)
		}
	}
	if len(extra) > 0 {
		// Checked now, so a bad file is reported before connecting; the
		// pool itself is built at the handshake (see xmpp.Config).
		if !x509.NewCertPool().AppendCertsFromPEM(extra) {
			return cfg, fmt.Errorf("ca_file %s: no PEM certificates in it", c.login.CAFile)
		}
		cfg.ExtraRoots = extra
	}
	if cfg.Pinned, err = c.pinned(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// pinned reads the certificate pinned for the account, if any.
func (c *Client) pinned() (*x509.Certificate, error) {
	if c.opts.PinFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(c.opts.PinFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pinned certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("pinned certificate %s: no PEM certificate in it", c.opts.PinFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pinned certificate %s: %w", c.opts.PinFile, err)
	}
	return cert, nil
}

// pin stores der as the account's trusted certificate, readable by the
// user only, replacing the file whole.
func (c *Client) pin(der []byte) error {
	if c.opts.PinFile == "" {
		return errors.New("this account cannot pin certificates")
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return fmt.Errorf("not a certificate: %w", err)
	}
	return config.ReplaceFile(c.opts.PinFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// authorityMarker is the file that records that the account's server once
// logged in with a certificate an authority vouched for (the system's
// roots or ca_file): beside the pin, <account>.ca-verified. While it
// exists, a certificate no authority signed is refused as a possible
// interception, never offered to be trusted on first use — an attacker
// who cuts the connection and shows a self-signed certificate must not
// get a prompt the user might accept.
func (c *Client) authorityMarker() string {
	if c.opts.PinFile == "" {
		return ""
	}
	return strings.TrimSuffix(c.opts.PinFile, ".pin.pem") + ".ca-verified"
}

// authoritySeen reports whether the marker exists, and since when.
func (c *Client) authoritySeen() (time.Time, bool) {
	m := c.authorityMarker()
	if m == "" {
		return time.Time{}, false
	}
	st, err := os.Stat(m)
	if err != nil {
		// Unreadable is not absent: a marker that cannot be checked
		// must not open the door to a prompt.
		return time.Time{}, !errors.Is(err, fs.ErrNotExist)
	}
	return st.ModTime(), true
}

// noteAuthority writes the marker after a login whose certificate an
// authority vouched for, once; a failure is reported, not fatal.
func (c *Client) noteAuthority(ctx context.Context) {
	m := c.authorityMarker()
	if m == "" {
		return
	}
	if _, err := os.Stat(m); err == nil {
		return
	}
	err := os.MkdirAll(filepath.Dir(m), 0o700)
	if err == nil {
		var f *os.File
		f, err = os.OpenFile(m, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = fmt.Fprintf(f, "%s logged in with a certificate signed by a trusted authority on %s.\n"+
				"While this file exists, gab refuses a certificate no trusted authority signed for this account\n"+
				"instead of offering to trust it. Delete it only if the server really changed to such a certificate.\n",
				c.acct.JID, time.Now().UTC().Format(time.RFC3339))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		} else if errors.Is(err, fs.ErrExist) {
			err = nil
		}
	}
	if err != nil {
		c.emit(ctx, Notice{Text: "could not record that this account's server has a certificate signed by a trusted authority: " + err.Error()})
	}
}

// InterceptionError refuses a certificate no trusted authority signed
// from a server that had one an authority signed before.
type InterceptionError struct {
	TLS         *xmpp.TLSError
	Since       time.Time // when the authority-signed certificate was first seen
	Marker      string    // the file that remembers it
	AccountFile string
}

func (e *InterceptionError) Error() string {
	since := ""
	if !e.Since.IsZero() {
		since = " (since " + e.Since.Format("2006-01-02") + ")"
	}
	fix := "set ca_file"
	if e.AccountFile != "" {
		fix += " in " + e.AccountFile
	}
	got := ""
	if e.TLS.Cert != nil {
		got = " (SHA-256 " + xmpp.Fingerprint(e.TLS.Cert) + ")"
	}
	return "possible interception, refusing to connect: the server's certificate is NOT signed by an authority you trust, " +
		"although this account's server had a certificate signed by a trusted authority before" + since + ", so someone " +
		"may be intercepting the connection. This certificate" + got + " is not offered for trust. If the server really " +
		"changed to a certificate no authority signs, " + fix + " to the certificate of the authority that signed it, or, " +
		"once its administrator has confirmed the fingerprint, delete " + e.Marker + " and /reconnect to be asked whether " +
		"to trust it"
}

func (e *InterceptionError) Unwrap() error { return e.TLS }

// session runs one connection from dial to its end and returns why it
// ended.
func (c *Client) session(ctx context.Context) error {
	if err := c.out.load(ctx); err != nil && ctx.Err() == nil {
		// They stay in the store; the next connection tries again.
		c.emit(ctx, Notice{Text: "could not read the messages waiting to be sent from history (they are kept, and gab tries again at the next connection): " + err.Error()})
	}
	cfg, err := c.xmppConfig(ctx)
	if err != nil {
		return err
	}
	cfg.OnAck = func(els []*xmpp.Element) { c.acked(ctx, els) }
	var live *xmpp.Session
	cfg.BeforeWait = func() { c.flushBatch(ctx, live) }
	c.pend = batch{}
	sess, err := c.dial(ctx, cfg) // answering from the store meanwhile
	if err != nil {
		// The session stays resumable until the server says it is gone: a
		// <failed/> answer to <resume/>, after which Dial binds a new
		// session, and nothing else. A refused or broken connection, even
		// in the middle of resuming, leaves it hibernating on the server.
		// Only an answer that makes no sense is not worth trying again.
		if errors.Is(err, xmpp.ErrResumeInvalid) {
			c.resume = nil
		}
		return err
	}
	live = sess
	if !sess.PinnedOnly() {
		c.noteAuthority(ctx)
	}
	c.out.newSession(sess.StreamManagement())
	c.up = true
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	// Whatever ends this session, the next may try to resume it (Run
	// forgets it after a final error).
	defer func() {
		c.resume = sess.StreamState()
	}()
	resumed := sess.Resumed()
	if !c.emit(ctx, Connected{JID: sess.JID().String(), Mechanism: sess.Mechanism(), Resumed: resumed}) {
		return ctx.Err()
	}
	self := Self{JID: sess.JID(), Lang: c.opts.Lang, Version: c.opts.Version, ShareVersion: c.shareVersion, Room: c.roomSelf}
	if !resumed {
		c.state.Lock()
		clear(c.asked)
		c.state.Unlock()
	}

	// dead records why the session was declared dead from outside the
	// reader (a ping without answer, a failed write, the user), so the
	// error reported is that and not "use of closed connection".
	var dead atomic.Pointer[error]
	kill := func(why error) {
		dead.CompareAndSwap(nil, &why)
		sess.Close()
	}
	readErr := make(chan error, 1)
	go func() { readErr <- c.read(ctx, sess, self) }()
	ended := func(err error) error {
		var se *xmpp.StreamError
		if why := dead.Load(); why != nil && !errors.As(err, &se) {
			return *why // but the server's own reason, when it gave one, says more
		}
		return err
	}

	if resumed {
		// The server kept roster and presence, and re-sent what it had
		// not got; only what never went out is left to send.
		c.flush(sess, true, func(ev Event) { c.emit(ctx, ev) })
		c.afterResume(ctx, sess) // the archive catch-ups the last connection cut short
	} else if err := c.fetchRoster(ctx, sess, kill); err != nil {
		sess.Close()
		return ended(<-readErr)
	} else if c.opts.OMEMO {
		c.publishOwnOMEMO(ctx, sess)
	}
	var ping <-chan time.Time
	if c.opts.PingInterval > 0 {
		t := time.NewTicker(c.opts.PingInterval)
		defer t.Stop()
		ping = t.C
	}
	var selfPing <-chan time.Time
	if c.opts.SelfPingInterval >= 0 {
		t := time.NewTicker(cmp.Or(c.opts.SelfPingInterval, 5*time.Minute))
		defer t.Stop()
		selfPing = t.C
	}
	for {
		select {
		case err := <-readErr:
			return ended(err)
		case <-ping:
			c.ping(sess, kill)
		case <-selfPing:
			c.selfPing(ctx, sess)
		case <-c.wake:
			for _, q := range c.takeQueue() {
				switch cmd := q.cmd.(type) {
				case Reconnect:
					c.reload = true
					c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
					kill(errReconnect)
					continue
				case UsePassword:
					c.typed = cmd.Password
					c.emit(ctx, CommandDone{ID: q.id, Command: SafeCommand(q.cmd)})
					kill(errReconnect)
					continue
				}
				if err := c.execute(ctx, sess, q); isNetError(err) {
					kill(fmt.Errorf("write failed: %w", err))
				}
			}
			c.reportStoreErrors(ctx)
		}
	}
}

// ping asks the server for a pong (XEP-0199); no answer within PingTimeout
// means the connection is dead, even if TCP has not noticed (a hung or
// paused server, a dropped route).
func (c *Client) ping(sess *xmpp.Session, kill func(error)) {
	iq := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", c.acct.JID.Domainpart()).Add(xmpp.E(xmpp.NSPing, "ping"))
	err := sess.SendIQFunc(iq, c.opts.PingTimeout, func(_ *xmpp.Element, err error) {
		if errors.Is(err, xmpp.ErrTimeout) {
			kill(fmt.Errorf("no answer to a ping within %v", c.opts.PingTimeout))
		}
	})
	if isNetError(err) {
		kill(fmt.Errorf("ping could not be sent: %w", err))
	}
}

// isNetError reports a failure of the connection itself, as opposed to a
// refusal by the server.
func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// read is the one goroutine that reads the stream: it translates each
// element, answers requests, and hands on events in stream order, in
// batches (see flushBatch) — flushed whenever nothing more is already
// received, so nothing waits while the connection is quiet.
func (c *Client) read(ctx context.Context, sess *xmpp.Session, self Self) error {
	defer sess.Close() // wakes any command waiting on an IQ
	onDrop := func(err error) { c.deliver(Notice{Text: err.Error()}) }
	for {
		el, err := sess.Next(onDrop)
		if err != nil {
			c.flushBatch(ctx, sess)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		evs, reply := Translate(self, el)
		if reply != nil {
			sess.Send(reply)
		}
		for _, ev := range c.expand(ctx, sess, evs) {
			if a, ok := ev.(MessageArchived); ok {
				if ev, ok = c.archived(ctx, a); !ok {
					continue // not one of our queries, or stored already (backfill)
				}
			}
			checked := false // for copies
			if mc, ok := ev.(MessageCorrected); ok {
				m := mc.AsMessage
				if c.duplicate(ctx, mc.Conv, history.In, m.ArchiveID, m.OriginID, "") {
					continue // a copy of a correction seen (applied, or shown as a message)
				}
				checked = true
				if ev, ok = c.correction(ctx, sess, mc); !ok {
					return ctx.Err()
				}
			}
			switch e := ev.(type) {
			case actionIn:
				var alive bool
				if ev, alive = c.applyAction(ctx, sess, e); !alive {
					return ctx.Err()
				}
				if ev == nil {
					continue // a copy already applied, or about a message not stored
				}
			case MessageReceived:
				sid := ""
				if e.Archived {
					sid = e.ID
				}
				if !checked && c.duplicate(ctx, e.Conv, history.In, e.ArchiveID, e.OriginID, sid) {
					continue // a copy: sent again, or by another way (carbon, offline, archive)
				}
				if c.roomHistoryCopy(ctx, e) {
					continue // the history a room without archive sends at every join
				}
				if e.Encrypted != nil {
					d := c.decryptIncoming(ctx, e)
					if d == nil {
						continue // an empty OMEMO message: its session moved on
					}
					e = d.(MessageReceived)
					ev = e
				}
				if e.Archived {
					c.noteCaught(e.Conv)
				}
				if !c.resolveLive(ctx, sess, e.Conv, e.Reply) {
					return ctx.Err()
				}
				c.received(e)
				if e.Receipt && !e.Carbon && c.inRoster(e.Bare) {
					// XEP-0184: confirm once it is stored, and only to
					// contacts (§8: receipts to strangers would tell them
					// we are online).
					c.pend.receipts = append(c.pend.receipts, xmpp.E(xmpp.NSClient, "message", "to", e.From, "id", NewID()).Add(xmpp.E(NSReceipts, "received", "id", e.ID)))
				}
			case ReceiptReceived:
				c.receipt(ctx, e)
			case MarkerReceived:
				c.displayed(ctx, e)
			case CarbonSent:
				if c.duplicate(ctx, e.Conv, history.Out, e.ArchiveID, e.OriginID, "") {
					if e.ArchiveID != "" && e.OriginID != "" && c.opts.Store != nil {
						// A message we sent, now known to the archive too.
						c.storeFailed(c.opts.Store.SetArchiveID(ctx, e.Conv.stored(), e.OriginID, e.ArchiveID))
					}
					continue
				}
				if e.Encrypted != nil {
					d := c.decryptIncoming(ctx, e)
					if d == nil {
						continue
					}
					ev = d
				}
				if !c.resolveLive(ctx, sess, e.Conv, e.Reply) {
					return ctx.Err()
				}
			case OMEMOKeyTransport:
				if n := c.omemoIncoming(ctx, e); n != nil {
					c.deliver(n) // its content was removed on the way
				}
				continue
			case OMEMODeviceListChanged:
				if n := c.omemoListChanged(ctx, e); n != nil {
					c.deliver(n)
				}
			case StanzaError:
				ev = c.bounced(self, e)
			case BookmarksChanged:
				c.bookmarkEvent(sess, e) // hands it on, and joins what it says to
				continue
			}
			c.observe(ev)
			c.discover(sess, self, ev)
			c.deliver(ev)
		}
		if len(c.pend.events) >= batchMax && !c.flushBatch(ctx, sess) {
			return ctx.Err()
		}
	}
}

// fetchRoster asks for the roster (versioned when the server supports it)
// and, once it is in, sends initial presence: RFC 6121 §2.2's order, so
// presence never arrives for contacts we have not yet listed.
//
// The callback emits only on success, which runs on the reader goroutine;
// a failure (timeout, closed session) may be reported from any goroutine,
// even after Run has closed Events, so it only ends the session, giving the
// reason.
func (c *Client) fetchRoster(ctx context.Context, sess *xmpp.Session, kill func(error)) error {
	q := xmpp.E(NSRoster, "query")
	c.state.Lock()
	if sess.Features().Child(NSRosterVer, "ver") != nil {
		q.SetAttr("ver", c.ver)
	}
	c.state.Unlock()
	iq := xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(q)
	return sess.SendIQFunc(iq, c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		if err != nil {
			kill(fmt.Errorf("roster fetch failed: %w", err))
			return
		}
		// From here on: the reader goroutine, in stream order.
		c.state.Lock()
		old, oldVer := c.itemsLocked(), c.ver
		rq := res.Child(NSRoster, "query")
		if rq != nil {
			c.items = map[string]roster.Item{}
			for _, it := range parseRosterItems(rq) {
				if it.Subscription != "remove" {
					c.items[it.JID] = it
				}
			}
			c.ver = rq.Get("ver")
		} // no query: the roster we hold is current (RFC 6121 §2.6.3)
		items := make([]roster.Item, 0, len(c.items))
		for _, it := range c.items {
			items = append(items, it)
		}
		ver := c.ver
		c.state.Unlock()
		if rq != nil || c.cacheStale {
			// A full roster replaces the saved one; an empty answer
			// (unchanged since the version sent) costs nothing more,
			// unless what is saved fell behind the roster held.
			if n := c.saveRoster(ctx, old, oldVer, items, ver); n != nil {
				c.deliver(n)
			}
		}
		c.deliver(RosterReset{Items: items, Version: ver})
		// What was said while we were away, from the archive: asked before
		// our presence, so the server, seeing the archive read, does not
		// also send it all again as offline messages (XEP-0313 §9).
		c.catchUp(ctx, sess)
		c.mu.Lock()
		p := c.presence
		c.mu.Unlock()
		sess.Send(c.presenceElement(p))
		// Copies of what our other devices send and receive (XEP-0280).
		sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "set").Add(xmpp.E(NSCarbons, "enable")), c.opts.IQTimeout, func(*xmpp.Element, error) {})
		// A new session: everything an earlier one left unconfirmed goes
		// again (a copy the server had after all carries the same
		// origin-id); what this session sent already is not sent twice.
		c.flush(sess, false, c.deliver)
		// The server forgot which rooms we were in.
		c.rejoinRooms(ctx, sess)
		c.findServices(sess)
		// The bookmarks, and the rooms they say to join.
		c.loginBookmarks(sess)
		sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E(NSBlocking, "blocklist")), c.opts.IQTimeout,
			func(res *xmpp.Element, err error) {
				if err == nil {
					c.deliver(BlocklistChanged{JIDs: blockItems(res.Child(NSBlocking, "blocklist")), Reset: true})
				}
			})
	})
}
