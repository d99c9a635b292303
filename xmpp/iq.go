package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"net"
	"strconv"
	"time"

	"mellium.im/xmpp/jid"
)

type pendingIQ struct {
	to    string // the JID asked, as sent; "" for our own account
	reply chan *Element
	fn    func(*Element, error) // for SendIQFunc; runs on Next's goroutine
	timer *time.Timer
}

// ErrTimeout is returned by SendIQ when no answer came in time.
var ErrTimeout = errors.New("no answer in time")

// SendIQ sends an IQ get or set and waits for the answer from the entity it
// was sent to. An error result comes back as *StanzaError. Next must be
// running on another goroutine for the answer to arrive.
func (s *Session) SendIQ(ctx context.Context, iq *Element) (*Element, error) {
	id := iq.Get("id")
	if id == "" {
		id = "q" + strconv.FormatUint(s.nextID.Add(1), 36)
		iq.SetAttr("id", id)
	}
	p := &pendingIQ{to: iq.Get("to"), reply: make(chan *Element, 1)}
	s.iqMu.Lock()
	if s.pending == nil {
		s.iqMu.Unlock()
		return nil, net.ErrClosed
	}
	s.pending[id] = p
	s.iqMu.Unlock()
	defer s.claim(id, p)
	if err := s.Send(iq); err != nil {
		return nil, err
	}
	select {
	case res, ok := <-p.reply:
		if !ok {
			return nil, net.ErrClosed
		}
		if res.Get("type") == "error" {
			return res, ParseStanzaError(res)
		}
		return res, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, ErrTimeout
		}
		return nil, ctx.Err()
	case <-s.closed:
		return nil, net.ErrClosed
	}
}

// deliver hands an IQ result to the request it answers. It reports false
// when no request matches both the id and the sender: anybody can guess an
// id, so an answer from anyone but the one asked is not an answer.
func (s *Session) deliver(res *Element) bool {
	id := res.Get("id")
	s.iqMu.Lock()
	p := s.pending[id]
	if p == nil || !s.answeredBy(p.to, res.Get("from")) {
		s.iqMu.Unlock()
		return false
	}
	delete(s.pending, id)
	s.iqMu.Unlock()
	if p.fn != nil {
		p.timer.Stop()
		if res.Get("type") == "error" {
			p.fn(res, ParseStanzaError(res))
		} else {
			p.fn(res, nil)
		}
		return true
	}
	p.reply <- res
	return true
}

// wasOwed reports whether id is that of a request the stream this session
// resumed was still waiting on: its answer is expected, and nobody is
// left to take it. Each is recognised once.
func (s *Session) wasOwed(id string) bool {
	s.iqMu.Lock()
	defer s.iqMu.Unlock()
	if !s.owed[id] {
		return false
	}
	delete(s.owed, id)
	return true
}

// SendIQFunc sends an IQ get or set and calls fn with its answer on the
// goroutine running Next, before Next reads the next stanza: what fn does
// with the answer is therefore in stream order with everything else read.
// fn gets ErrTimeout after timeout, or net.ErrClosed when the session ends
// first; those calls come from other goroutines.
func (s *Session) SendIQFunc(iq *Element, timeout time.Duration, fn func(*Element, error)) error {
	id := iq.Get("id")
	if id == "" {
		id = "q" + strconv.FormatUint(s.nextID.Add(1), 36)
		iq.SetAttr("id", id)
	}
	p := &pendingIQ{to: iq.Get("to"), fn: fn}
	s.iqMu.Lock()
	if s.pending == nil {
		s.iqMu.Unlock()
		return net.ErrClosed
	}
	s.pending[id] = p
	p.timer = time.AfterFunc(timeout, func() {
		if s.claim(id, p) {
			fn(nil, ErrTimeout)
		}
	})
	s.iqMu.Unlock()
	if err := s.Send(iq); err != nil {
		if s.claim(id, p) {
			p.timer.Stop()
		}
		return err
	}
	return nil
}

// claim removes p from the pending requests if it is still there. Whoever
// claims a request answers it, exactly once: the reader, a timer, a failed
// send or the end of the session.
func (s *Session) claim(id string, p *pendingIQ) bool {
	s.iqMu.Lock()
	defer s.iqMu.Unlock()
	if s.pending == nil || s.pending[id] != p {
		return false
	}
	delete(s.pending, id)
	return true
}

// answeredBy reports whether from may answer an IQ sent to `to`
// (RFC 6120 §8.1.2.1 and §10.3.3: a request without a "to" is answered by
// the account itself, with no "from", our bare or full JID).
func (s *Session) answeredBy(to, from string) bool {
	own := to == ""
	var want jid.JID
	if !own {
		var err error
		if want, err = jid.Parse(to); err != nil {
			return false
		}
		own = want.Equal(s.jid.Bare())
	}
	if from == "" {
		return own
	}
	got, err := jid.Parse(from)
	if err != nil {
		return false
	}
	if own {
		return got.Equal(s.jid.Bare()) || got.Equal(s.jid)
	}
	return got.Equal(want)
}

// failPending wakes every waiting request when the session ends.
func (s *Session) failPending() {
	s.iqMu.Lock()
	var fns []func(*Element, error)
	for id, p := range s.pending {
		// Whoever deletes the entry under the lock owns the answer: a
		// timer that fires now finds it gone and stays quiet.
		if p.fn != nil {
			p.timer.Stop()
			fns = append(fns, p.fn)
		} else {
			close(p.reply)
		}
		delete(s.pending, id)
		s.failed = append(s.failed, id)
	}
	s.pending = nil
	s.iqMu.Unlock()
	for _, fn := range fns {
		fn(nil, net.ErrClosed)
	}
}

// trustedResult tells the reader, from an element's start tag, that it is
// the answer to a request we sent to our own account or our own server —
// a roster, an archive page, the server's disco — coming from there: the
// only stanzas allowed past the per-stanza cap that bounds what peers send
// (Limits.MaxResultBytes).
func (s *Session) trustedResult(start xml.StartElement) bool {
	if start.Name.Space != NSClient || start.Name.Local != "iq" {
		return false
	}
	var typ, id, from string
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "type":
			typ = a.Value
		case "id":
			id = a.Value
		case "from":
			from = a.Value
		}
	}
	if typ != "result" {
		return false
	}
	s.iqMu.Lock()
	defer s.iqMu.Unlock()
	p := s.pending[id]
	if p == nil || !s.answeredBy(p.to, from) {
		return false
	}
	if p.to == "" {
		return true
	}
	to, err := jid.Parse(p.to)
	return err == nil && (to.Equal(s.jid.Bare()) || to.Equal(s.jid.Domain()))
}
