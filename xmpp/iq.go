package xmpp

import (
	"context"
	"errors"
	"net"
	"strconv"

	"mellium.im/xmpp/jid"
)

type pendingIQ struct {
	to    string // the JID asked, as sent; "" for our own account
	reply chan *Element
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
	defer func() {
		s.iqMu.Lock()
		if s.pending != nil && s.pending[id] == p {
			delete(s.pending, id)
		}
		s.iqMu.Unlock()
	}()
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
	p.reply <- res
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
	defer s.iqMu.Unlock()
	for id, p := range s.pending {
		close(p.reply)
		delete(s.pending, id)
	}
	s.pending = nil
}
