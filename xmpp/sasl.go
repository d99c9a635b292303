package xmpp

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mellium.im/sasl"
)

// mechanisms in order of preference. PLAIN is last and only ever used over
// TLS (every gab session is TLS before authentication).
var mechanisms = []sasl.Mechanism{
	sasl.ScramSha256Plus, sasl.ScramSha1Plus, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain,
}

// ErrPlainWithPin refuses to send the password in the clear (inside TLS)
// to a server whose certificate only a pin vouches for. A pin is trust on
// first use: if that first connection was intercepted, whoever pinned
// their own certificate reads everything inside TLS, and PLAIN would hand
// them the password itself. SCRAM never sends the password (the server
// learns a salted hash at most, and SCRAM's proof shows the server knew
// the password already), so gab still logs in with SCRAM there.
var ErrPlainWithPin = errors.New("the server offers only PLAIN authentication, which sends the password itself, and its certificate is trusted only because you pinned it (no authority vouches for it): refusing to send the password. Set allow_plain_with_pinned = true in the account file to accept this")

// plusOf gives each SCRAM mechanism its channel-binding twin: the same
// computation, whose GS2 header can say "y" (see authPlan).
var plusOf = map[string]sasl.Mechanism{
	sasl.ScramSha256.Name: sasl.ScramSha256Plus,
	sasl.ScramSha1.Name:   sasl.ScramSha1Plus,
}

// Channel-binding types (RFC 5929, RFC 9266) and XEP-0440's stream feature
// that names those the server supports.
const (
	cbUnique   = "tls-unique"
	cbExporter = "tls-exporter"
	NSSASLCB   = "urn:xmpp:sasl-cb:0"
)

// tlsBinding is what the TLS connection can offer to bind to.
type tlsBinding struct {
	tls13    bool // TLS 1.3: tls-unique is undefined there (RFC 9266)
	unique   bool // tls-unique data is available (TLS 1.2, full handshake)
	exporter bool // RFC 5705 keying material: TLS 1.3, or 1.2 with extended master secret
}

func bindingOf(cs *tls.ConnectionState) tlsBinding {
	if cs == nil {
		return tlsBinding{}
	}
	b := tlsBinding{tls13: cs.Version >= tls.VersionTLS13, unique: cs.Version < tls.VersionTLS13 && len(cs.TLSUnique) > 0}
	if cs.Version >= tls.VersionTLS12 {
		// Go refuses to export without TLS 1.3 or extended master secret.
		_, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		b.exporter = err == nil
	}
	return b
}

// cbTypes reads XEP-0440's <sasl-channel-binding/> feature: the binding
// types the server supports, and whether it said at all.
func cbTypes(features *Element) (types []string, advertised bool) {
	f := features.Child(NSSASLCB, "sasl-channel-binding")
	if f == nil {
		return nil, false
	}
	for _, c := range f.ChildrenIn(NSSASLCB) {
		if c.Name.Local == "channel-binding" {
			types = append(types, c.Get("type"))
		}
	}
	return types, true
}

// chooseBinding picks the channel-binding type for -PLUS, "" for none
// (docs/decisions/0004-channel-binding.md). A server that advertises its
// types (XEP-0440) gets one of those, tls-exporter first. A server that
// does not gets tls-unique where it is defined (TLS 1.2), and on TLS 1.3
// nothing: tls-unique does not exist there and the server may not know
// tls-exporter (ejabberd 23.01 offers -PLUS over TLS 1.3 yet implements only
// tls-unique), and guessing wrong would fail the login every time.
func chooseBinding(server []string, advertised bool, b tlsBinding) string {
	if !advertised {
		if b.unique && !b.tls13 {
			return cbUnique
		}
		return ""
	}
	has := func(t string) bool {
		for _, s := range server {
			if s == t {
				return true
			}
		}
		return false
	}
	switch {
	case b.exporter && has(cbExporter):
		return cbExporter
	case b.unique && !b.tls13 && has(cbUnique):
		return cbUnique
	}
	return ""
}

// authPlan is how to authenticate: the mechanism name to send, the
// mechanism that computes the exchange, and the TLS state it is given.
type authPlan struct {
	name    string // sent in <auth mechanism=.../>
	mech    sasl.Mechanism
	binding string // channel-binding type for -PLUS; "" otherwise
	gs2Y    bool   // SCRAM without binding, telling the server we could have bound
}

// chooseMechanism picks the best mechanism both sides support. -PLUS is
// chosen only with a binding type chosen by chooseBinding. Without -PLUS,
// the SCRAM GS2 header says "y" (we support channel binding, and believe
// the server does not) when the server offered no -PLUS at all and this
// connection could bind; "n" when the server offered -PLUS we cannot use —
// "y" would make it suspect a downgrade and refuse us.
func chooseMechanism(offered []string, binding string, b tlsBinding) (authPlan, bool) {
	offeredPlus := false
	for _, o := range offered {
		offeredPlus = offeredPlus || strings.HasSuffix(o, "-PLUS")
	}
	for _, m := range mechanisms {
		plus := strings.HasSuffix(m.Name, "-PLUS")
		if plus && binding == "" {
			continue
		}
		for _, o := range offered {
			if o != m.Name {
				continue
			}
			p := authPlan{name: m.Name, mech: m}
			if plus {
				p.binding = binding
			} else if twin, ok := plusOf[m.Name]; ok && !offeredPlus && (b.unique && !b.tls13 || b.exporter) {
				p.mech, p.gs2Y = twin, true
			}
			return p, true
		}
	}
	return authPlan{}, false
}

// saslTLSState is the TLS state handed to the SASL library, adjusted so it
// binds with the type chosen: it uses tls-exporter exactly when the version
// says TLS 1.3, and tls-unique otherwise.
func saslTLSState(cs tls.ConnectionState, binding string) tls.ConnectionState {
	switch binding {
	case cbExporter:
		cs.Version = tls.VersionTLS13 // the exporter itself is the connection's own
	case cbUnique:
		cs.Version = tls.VersionTLS12
	}
	return cs
}

func (s *Session) authenticate(features *Element) error {
	mechsEl := features.Child(NSSASL, "mechanisms")
	if mechsEl == nil {
		return errors.New("server offers no SASL authentication")
	}
	var offered []string
	for _, m := range mechsEl.ChildrenIn(NSSASL) {
		if m.Name.Local == "mechanism" {
			offered = append(offered, strings.TrimSpace(m.Text))
		}
	}
	tc, ok := s.conn.(*tls.Conn)
	if !ok {
		return errors.New("refusing to authenticate without TLS")
	}
	cs := tc.ConnectionState()
	b := bindingOf(&cs)
	types, advertised := cbTypes(features)
	plan, ok := chooseMechanism(offered, chooseBinding(types, advertised, b), b)
	if !ok {
		return fmt.Errorf("no supported SASL mechanism among %s", strings.Join(offered, ", "))
	}
	if plan.name == sasl.Plain.Name && s.pinOnly && !s.cfg.AllowPlainWithPin {
		// Before a byte of the password goes out.
		return ErrPlainWithPin
	}
	mech := plan.mech
	s.mech, s.binding = plan.name, plan.binding
	if tap := s.cfg.Tap; tap != nil {
		note := "authenticating with " + plan.name
		switch {
		case plan.binding != "":
			note += " (channel binding " + plan.binding + ")"
		case plan.gs2Y:
			note += " (no channel binding: the server offers none)"
		}
		tap.log("NOTE", []byte(note))
		tap.redact.Store(true)
		defer tap.redact.Store(false)
	}
	user, pass := []byte(s.cfg.JID.Localpart()), []byte(s.cfg.Password)
	neg := sasl.NewClient(mech,
		sasl.Credentials(func() ([]byte, []byte, []byte) { return user, pass, nil }),
		sasl.TLSState(saslTLSState(cs, plan.binding)),
		// For "y" the -PLUS twin runs but the server offered no -PLUS:
		// the library then writes "y" into the GS2 header.
		sasl.RemoteMechanisms(offered...),
	)
	_, resp, err := neg.Step(nil)
	if err != nil {
		return fmt.Errorf("SASL %s: %w", plan.name, err)
	}
	if err := s.w.Send(E(NSSASL, "auth", "mechanism", plan.name).WithText(encode64(resp))); err != nil {
		return err
	}
	scram, sawFirst := strings.HasPrefix(plan.name, "SCRAM-"), false
	for {
		el, err := s.r.Next()
		if err != nil {
			return fmt.Errorf("SASL %s: %w", plan.name, err)
		}
		switch {
		case el.Is(NSSASL, "challenge"):
			data, err := decode64(el.Text)
			if err != nil {
				return s.abortSASL(plan.name, err)
			}
			if scram && !sawFirst {
				sawFirst = true
				if err := checkServerFirst(data); err != nil {
					return s.abortSASL(plan.name, err)
				}
			}
			_, resp, err := neg.Step(data)
			if err != nil {
				return s.abortSASL(plan.name, err)
			}
			if err := s.w.Send(E(NSSASL, "response").WithText(encode64(resp))); err != nil {
				return err
			}
		case el.Is(NSSASL, "success"):
			// SCRAM's final message proves the server knows the password
			// too; a success that skips it is not accepted.
			if strings.HasPrefix(plan.name, "SCRAM-") && neg.State()&sasl.StepMask != sasl.ValidServerResponse {
				data, err := decode64(el.Text)
				if err != nil || len(data) == 0 {
					return fmt.Errorf("SASL %s: server sent no final verification", plan.name)
				}
				if _, _, err := neg.Step(data); err != nil {
					return fmt.Errorf("SASL %s: server signature does not verify: %w", plan.name, err)
				}
			}
			return nil
		case el.Is(NSSASL, "failure"):
			e := &SASLError{Condition: "not-authorized"}
			for _, c := range el.ChildrenIn(NSSASL) {
				if c.Name.Local == "text" {
					e.Text = c.Text
				} else {
					e.Condition = c.Name.Local
				}
			}
			return e
		default:
			return fmt.Errorf("SASL %s: unexpected <%s/>", plan.name, el.Name.Local)
		}
	}
}

// MaxSCRAMIterations is the most PBKDF2 iterations a server may ask of us
// in SCRAM. RFC 5802 and RFC 7677 ask for at least 4096; ejabberd uses 4096
// and Prosody 10,000. A million is a hundred times what servers use and
// costs about a second of one core here (SCRAM-SHA-1); a server asking for
// more — 2,000,000,000 would take half an hour, beyond any timeout, since
// the computation cannot be interrupted — is refused before computing.
const MaxSCRAMIterations = 1_000_000

// checkServerFirst reads a SCRAM server-first-message (RFC 5802 §5.1:
// [m=ext,]r=nonce,s=salt,i=count) before the SASL library computes the
// salted password from it, and refuses an iteration count out of bounds.
func checkServerFirst(msg []byte) error {
	var r, salt, iter bool
	for _, f := range strings.Split(string(msg), ",") {
		if len(f) < 2 || f[1] != '=' {
			return errors.New("malformed SCRAM challenge from the server")
		}
		switch f[0] {
		case 'm':
			return errors.New("the server requires a SCRAM extension gab does not know")
		case 'r':
			r = len(f) > 2
		case 's':
			_, err := base64.StdEncoding.DecodeString(f[2:])
			salt = err == nil && len(f) > 2
		case 'i':
			n, err := strconv.ParseUint(f[2:], 10, 64)
			if err != nil || n == 0 {
				return fmt.Errorf("the server sent an invalid SCRAM iteration count %s", quoteShort(f[2:]))
			}
			if n > MaxSCRAMIterations {
				return fmt.Errorf("the server asks for %d SCRAM iterations, more than the %d gab computes (a server asking that much is broken or hostile)", n, MaxSCRAMIterations)
			}
			iter = true
		}
	}
	if !r || !salt || !iter {
		return errors.New("incomplete SCRAM challenge from the server (nonce, salt or iteration count missing)")
	}
	return nil
}

func (s *Session) abortSASL(mech string, err error) error {
	s.w.Send(E(NSSASL, "abort"))
	return fmt.Errorf("SASL %s: %w", mech, err)
}

// encode64 is base64 as RFC 6120 §6.4.2 wants it: "=" for an empty response.
func encode64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decode64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}
