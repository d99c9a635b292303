package xmpp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"
)

var errNoPEM = errors.New("no PEM certificate found")

// Config says how to reach and log in to an account.
type Config struct {
	JID       jid.JID // the account's bare JID
	Password  string
	Resource  string         // requested resource; the server may assign another
	Server    string         // host:port; empty to look up SRV records
	DirectTLS bool           // XEP-0368 implicit TLS instead of STARTTLS
	RootCAs   *x509.CertPool // nil: the system's roots plus ExtraRoots
	// ExtraRoots are PEM certificates trusted besides the system's when
	// RootCAs is nil. The pool is built at the TLS handshake, so loading
	// the system's roots overlaps with connecting.
	ExtraRoots []byte
	Pinned     *x509.Certificate // trusted on first use; then the only one accepted
	// AllowPlainWithPin lets PLAIN send the password to a server whose
	// certificate only the pin vouches for (see ErrPlainWithPin).
	AllowPlainWithPin bool
	Lang              string // xml:lang of our stream; "en" when empty or not a valid tag
	// TLSMaxVersion caps the TLS version (e.g. tls.VersionTLS12); zero
	// allows the highest Go supports.
	TLSMaxVersion uint16

	ConnectTimeout   time.Duration // per TCP connection attempt; default 10 s
	NegotiateTimeout time.Duration // whole negotiation; default 30 s
	WriteTimeout     time.Duration // per write; default 30 s
	KeepAlive        time.Duration // TCP keep-alive period; 0 for Go's default
	Limits           Limits        // zero value means DefaultLimits
	Resolver         Resolver      // nil for net.DefaultResolver

	// StreamManagement turns on XEP-0198 where the server offers it.
	StreamManagement bool
	// Resume is an earlier session to resume instead of binding anew.
	Resume *SMState
	// Tap receives the raw stream, authentication redacted; nil for none.
	Tap *Tap

	// BeforeWait is called by Next, on its goroutine, when nothing already
	// received is left to read and it is about to wait for the network: the
	// moment to hand on whatever was gathered.
	BeforeWait func()

	// OnAck receives the stanzas the server acknowledged, oldest first. It
	// runs on the goroutine calling Next (or Dial, for a resumption) and
	// must not block.
	OnAck func([]*Element)
}

func (cfg *Config) connectTimeout() time.Duration {
	if cfg.ConnectTimeout > 0 {
		return cfg.ConnectTimeout
	}
	return 10 * time.Second
}

func (cfg *Config) negotiateTimeout() time.Duration {
	if cfg.NegotiateTimeout > 0 {
		return cfg.NegotiateTimeout
	}
	return 30 * time.Second
}

func (cfg *Config) resolver() Resolver {
	if cfg.Resolver != nil {
		return cfg.Resolver
	}
	return net.DefaultResolver
}

// Session is one negotiated XMPP stream: TLS up, authenticated, resource
// bound. Next must be called from one goroutine; Send, SendIQ and Close may
// be called from any.
type Session struct {
	cfg      Config
	conn     net.Conn
	r        *Reader
	w        *Writer
	jid      jid.JID // full JID the server bound
	features *Element
	mech     string
	binding  string // channel-binding type used by -PLUS, if any
	pinOnly  bool   // the certificate is trusted only because it is pinned

	iqMu    sync.Mutex
	pending map[string]*pendingIQ
	nextID  atomic.Uint64
	failed  []string        // ids of requests failed when the session closed
	owed    map[string]bool // ids the resumed stream's server may still answer

	closeOnce sync.Once
	closed    chan struct{}

	sm    sm         // XEP-0198 bookkeeping
	early []*Element // stanzas read during negotiation, for Next
}

// Dial connects, secures, authenticates and binds a resource. Every step is
// bounded by cfg.NegotiateTimeout and by ctx.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	cfg.Lang = streamLang(cfg.Lang)
	domain := cfg.JID.Domainpart()
	conn, secure, err := connect(ctx, &cfg, domain)
	if err != nil {
		return nil, err
	}
	s := &Session{cfg: cfg, conn: conn, pending: map[string]*pendingIQ{}, closed: make(chan struct{})}
	// Closing the connection is the one way to unblock a read, so a
	// cancelled context or the deadline ends negotiation at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	deadline := time.Now().Add(cfg.negotiateTimeout())
	if err := s.negotiate(ctx, secure, deadline); err != nil {
		s.conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("server did not finish negotiation within %s: %w", cfg.negotiateTimeout(), err)
		}
		return nil, err
	}
	s.conn.SetDeadline(time.Time{})
	return s, nil
}

func (s *Session) negotiate(ctx context.Context, secure bool, deadline time.Time) error {
	s.conn.SetDeadline(deadline)
	features, err := s.openStream()
	if err != nil {
		return err
	}
	if !secure {
		if features.Child(NSTLS, "starttls") == nil {
			return errors.New("server does not offer STARTTLS; refusing to continue without TLS")
		}
		if err := s.startTLS(ctx, deadline); err != nil {
			return err
		}
		if features, err = s.openStream(); err != nil {
			return err
		}
	}
	if tc, ok := s.conn.(*tls.Conn); ok && s.cfg.Pinned != nil {
		cs := tc.ConnectionState()
		s.pinOnly = !s.cfg.authorityVouches(cs)
	}
	if err := s.authenticate(features); err != nil {
		return err
	}
	if features, err = s.openStream(); err != nil {
		return err
	}
	s.features = features
	offersSM := features.Child(NSSM, "sm") != nil
	if prev := s.cfg.Resume; prev != nil && prev.ID != "" && offersSM {
		resumed, err := s.resumeSM(prev)
		if err != nil || resumed {
			return err
		}
	}
	if err := s.bind(features); err != nil {
		return err
	}
	if s.cfg.StreamManagement && offersSM {
		return s.enableSM()
	}
	return nil
}

// openStream (re)starts the stream on the current connection and returns
// the server's features.
func (s *Session) openStream() (*Element, error) {
	var in io.Reader = s.conn
	if s.cfg.Tap != nil {
		in = tapReader{r: s.conn, tap: s.cfg.Tap}
	}
	s.r = NewReader(in, s.cfg.Limits)
	s.r.Trusted = s.trustedResult
	s.w = NewWriter(s.conn, s.cfg.WriteTimeout)
	s.w.tap = s.cfg.Tap
	var b strings.Builder
	b.WriteString(`<?xml version='1.0'?><stream:stream to='`)
	b.WriteString(xmlAttrEscape(s.cfg.JID.Domainpart()))
	if _, ok := s.conn.(*tls.Conn); ok {
		b.WriteString(`' from='`)
		b.WriteString(xmlAttrEscape(s.cfg.JID.Bare().String()))
	}
	b.WriteString(`' version='1.0' xml:lang='`)
	b.WriteString(xmlAttrEscape(s.cfg.Lang))
	b.WriteString(`' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`)
	if err := s.w.Raw(b.String()); err != nil {
		return nil, err
	}
	if _, err := s.r.StreamStart(); err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	el, err := s.r.Next()
	if err != nil {
		return nil, fmt.Errorf("stream features: %w", err)
	}
	if !el.Is(NSStream, "features") {
		return nil, fmt.Errorf("expected stream features, got <%s/>", el.Name.Local)
	}
	return el, nil
}

func (s *Session) startTLS(ctx context.Context, deadline time.Time) error {
	if err := s.w.Send(E(NSTLS, "starttls")); err != nil {
		return err
	}
	el, err := s.r.Next()
	if err != nil {
		return fmt.Errorf("starttls: %w", err)
	}
	if !el.Is(NSTLS, "proceed") {
		return errors.New("server refused STARTTLS")
	}
	conf, err := s.cfg.tlsConfig(s.cfg.JID.Domainpart(), false)
	if err != nil {
		return err
	}
	tc := tls.Client(s.conn, conf)
	tc.SetDeadline(deadline)
	if err := tc.HandshakeContext(ctx); err != nil {
		return tlsError(err, s.cfg.Pinned)
	}
	s.conn = tc
	return nil
}

func (s *Session) bind(features *Element) error {
	if features.Child(NSBind, "bind") == nil {
		return errors.New("server offers no resource binding")
	}
	b := E(NSBind, "bind")
	if s.cfg.Resource != "" {
		b.Add(E(NSBind, "resource").WithText(s.cfg.Resource))
	}
	res, err := s.syncIQ(E(NSClient, "iq", "type", "set", "id", "bind-1").Add(b))
	if err != nil {
		return fmt.Errorf("bind resource: %w", err)
	}
	j, err := jid.Parse(res.Child(NSBind, "bind").ChildText(NSBind, "jid"))
	if err != nil {
		return fmt.Errorf("bind resource: server sent an invalid JID: %w", err)
	}
	if !j.Bare().Equal(s.cfg.JID.Bare()) || j.Resourcepart() == "" {
		return fmt.Errorf("bind resource: server bound %s, not a resource of %s", j, s.cfg.JID.Bare())
	}
	s.jid = j
	// RFC 3921 session establishment, only where a server still requires it.
	if sess := features.Child(NSSession, "session"); sess != nil && sess.Child(NSSession, "optional") == nil {
		if _, err := s.syncIQ(E(NSClient, "iq", "type", "set", "id", "sess-1").Add(E(NSSession, "session"))); err != nil {
			return fmt.Errorf("establish session: %w", err)
		}
	}
	return nil
}

// syncIQ sends an IQ during negotiation and reads its answer directly: no
// other reader runs yet.
func (s *Session) syncIQ(iq *Element) (*Element, error) {
	if err := s.w.Send(iq); err != nil {
		return nil, err
	}
	for {
		el, err := s.r.Next()
		if err != nil {
			return nil, err
		}
		if !el.Is(NSClient, "iq") || el.Get("id") != iq.Get("id") {
			continue
		}
		if el.Get("type") == "error" {
			return nil, ParseStanzaError(el)
		}
		if el.Get("type") != "result" {
			continue
		}
		return el, nil
	}
}

// JID is the full JID the server bound for this session.
func (s *Session) JID() jid.JID { return s.jid }

// PinnedOnly reports a server certificate that no authority (the system's
// roots, Config.RootCAs or ExtraRoots) vouches for: only the pin made it
// trusted. False when it was verified through an authority.
func (s *Session) PinnedOnly() bool { return s.pinOnly }

// Mechanism is the SASL mechanism that authenticated the session.
func (s *Session) Mechanism() string { return s.mech }

// ChannelBinding is the channel-binding type the SASL mechanism used
// (tls-exporter or tls-unique), "" without -PLUS.
func (s *Session) ChannelBinding() string { return s.binding }

// Features are the stream features offered after authentication (stream
// management, roster versioning, ...).
func (s *Session) Features() *Element { return s.features }

// Send writes one stanza. It is safe to call from any goroutine. With
// stream management on, the stanza is kept until the server acknowledges
// it (see Unacked and Config.OnAck).
func (s *Session) Send(el *Element) error {
	select {
	case <-s.closed:
		return net.ErrClosed
	default:
	}
	return s.send(el)
}

// Next returns the next stanza for the application, in stream order. IQ
// results and errors go to the SendIQ call waiting for them (or are dropped
// when nobody asked, or the sender is not the one asked); pings are
// answered here. A *DroppedError is reported through onDrop and reading
// goes on. Next must be called from one goroutine only.
func (s *Session) Next(onDrop func(error)) (*Element, error) {
	for {
		var el *Element
		if len(s.early) > 0 {
			el, s.early = s.early[0], s.early[1:]
		} else {
			if s.cfg.BeforeWait != nil && !s.r.Buffered() {
				s.cfg.BeforeWait()
			}
			var err error
			el, err = s.r.Next()
			if err != nil {
				var de *DroppedError
				if errors.As(err, &de) {
					if de.Space == NSClient {
						s.handled() // the server sent it; it will not come again
					}
					if onDrop != nil {
						onDrop(err)
					}
					continue
				}
				return nil, err
			}
		}
		if ok, err := s.handleSM(el); ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		if isStanza(el) {
			s.handled()
		}
		if !el.Is(NSClient, "iq") {
			return el, nil
		}
		switch el.Get("type") {
		case "result", "error":
			if !s.deliver(el) && !s.wasOwed(el.Get("id")) && onDrop != nil {
				onDrop(&DroppedError{Name: "iq", Space: NSClient, Reason: "a result nobody asked for (id " + quoteShort(el.Get("id")) + ")"})
			}
			continue
		case "get", "set":
			if reply := s.answerIQ(el); reply != nil {
				s.Send(reply)
				continue
			}
			return el, nil
		default:
			// RFC 6120 §8.2.3: an IQ without a valid type is bad-request, but
			// answering malformed stanzas invites loops; drop it.
			if onDrop != nil {
				onDrop(&DroppedError{Name: "iq", Space: NSClient, Reason: "no valid type"})
			}
		}
	}
}

// answerIQ handles the requests the protocol layer answers itself: pings,
// and requests that are malformed (an IQ get/set must have exactly one
// child). It returns nil to pass the request up.
func (s *Session) answerIQ(iq *Element) *Element {
	if len(iq.Children) != 1 {
		return ErrorReply(iq, "modify", "bad-request")
	}
	if iq.Get("type") == "get" && iq.Children[0].Is(NSPing, "ping") {
		return ResultReply(iq)
	}
	return nil
}

// Close ends the stream politely and closes the connection. It is safe to
// call more than once and from any goroutine.
func (s *Session) Close() error {
	var err error
	closer := false
	s.closeOnce.Do(func() {
		closer = true
		close(s.closed)
		// A sender stuck on a full socket holds the writer; shortening the
		// deadline frees it, so closing never waits the full write timeout.
		s.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		s.finalAck()
		s.w.closeStream()
		err = s.conn.Close()
	})
	// Waiting requests are failed outside the Once: their callbacks may
	// call Close themselves.
	if closer {
		s.failPending()
	}
	return err
}

// Done is closed when Close was called.
func (s *Session) Done() <-chan struct{} { return s.closed }

// ResultReply is an empty result answering iq.
func ResultReply(iq *Element) *Element {
	r := E(NSClient, "iq", "type", "result", "id", iq.Get("id"))
	if from := iq.Get("from"); from != "" {
		r.SetAttr("to", from)
	}
	return r
}

// ErrorReply answers a stanza with an error of the given type and defined
// condition (RFC 6120 §8.3).
func ErrorReply(st *Element, typ, condition string) *Element {
	r := E(NSClient, st.Name.Local, "type", "error")
	if id := st.Get("id"); id != "" {
		r.SetAttr("id", id)
	}
	if from := st.Get("from"); from != "" {
		r.SetAttr("to", from)
	}
	return r.Add(E(NSClient, "error", "type", typ).Add(E(NSStanzas, condition)))
}

// attrEscaper is made once: building a Replacer costs more than using it.
var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", "'", "&apos;", `"`, "&quot;")

func xmlAttrEscape(s string) string {
	return attrEscaper.Replace(s)
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

var _ io.Closer = (*Session)(nil)
