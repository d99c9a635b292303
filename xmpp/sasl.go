package xmpp

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"mellium.im/sasl"
)

// mechanisms in order of preference. PLAIN is last and only ever used over
// TLS (every gab session is TLS before authentication).
var mechanisms = []sasl.Mechanism{
	sasl.ScramSha256Plus, sasl.ScramSha1Plus, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain,
}

// chooseMechanism picks the best mechanism both sides support. Channel
// binding (-PLUS) is chosen only when the TLS connection can provide it.
func chooseMechanism(offered []string, cs *tls.ConnectionState) (sasl.Mechanism, bool) {
	for _, m := range mechanisms {
		if strings.HasSuffix(m.Name, "-PLUS") && !canBind(cs) {
			continue
		}
		for _, o := range offered {
			if o == m.Name {
				return m, true
			}
		}
	}
	return sasl.Mechanism{}, false
}

func canBind(cs *tls.ConnectionState) bool {
	if cs == nil {
		return false
	}
	if cs.Version >= tls.VersionTLS13 {
		return true // tls-exporter (RFC 9266)
	}
	return len(cs.TLSUnique) > 0
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
	mech, ok := chooseMechanism(offered, &cs)
	if !ok {
		return fmt.Errorf("no supported SASL mechanism among %s", strings.Join(offered, ", "))
	}
	s.mech = mech.Name
	if tap := s.cfg.Tap; tap != nil {
		tap.log("NOTE", []byte("authenticating with "+mech.Name))
		tap.redact.Store(true)
		defer tap.redact.Store(false)
	}
	user, pass := []byte(s.cfg.JID.Localpart()), []byte(s.cfg.Password)
	neg := sasl.NewClient(mech,
		sasl.Credentials(func() ([]byte, []byte, []byte) { return user, pass, nil }),
		sasl.TLSState(cs),
		sasl.RemoteMechanisms(offered...),
	)
	_, resp, err := neg.Step(nil)
	if err != nil {
		return fmt.Errorf("SASL %s: %w", mech.Name, err)
	}
	if err := s.w.Send(E(NSSASL, "auth", "mechanism", mech.Name).WithText(encode64(resp))); err != nil {
		return err
	}
	for {
		el, err := s.r.Next()
		if err != nil {
			return fmt.Errorf("SASL %s: %w", mech.Name, err)
		}
		switch {
		case el.Is(NSSASL, "challenge"):
			data, err := decode64(el.Text)
			if err != nil {
				return s.abortSASL(mech.Name, err)
			}
			_, resp, err := neg.Step(data)
			if err != nil {
				return s.abortSASL(mech.Name, err)
			}
			if err := s.w.Send(E(NSSASL, "response").WithText(encode64(resp))); err != nil {
				return err
			}
		case el.Is(NSSASL, "success"):
			// SCRAM's final message proves the server knows the password
			// too; a success that skips it is not accepted.
			if strings.HasPrefix(mech.Name, "SCRAM-") && neg.State()&sasl.StepMask != sasl.ValidServerResponse {
				data, err := decode64(el.Text)
				if err != nil || len(data) == 0 {
					return fmt.Errorf("SASL %s: server sent no final verification", mech.Name)
				}
				if _, _, err := neg.Step(data); err != nil {
					return fmt.Errorf("SASL %s: server signature does not verify: %w", mech.Name, err)
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
			return fmt.Errorf("SASL %s: unexpected <%s/>", mech.Name, el.Name.Local)
		}
	}
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
