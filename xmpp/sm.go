package xmpp

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"mellium.im/xmpp/jid"
)

// NSSM is XEP-0198 stream management, version 3.
const NSSM = "urn:xmpp:sm:3"

// SMState is what one session's stream management leaves for the next: a
// resumption token and the stanzas the server never confirmed.
type SMState struct {
	ID       string  // stream to resume; "" when the server offered no resumption
	JID      jid.JID // the full JID bound in that stream
	Inbound  uint32  // stanzas handled from the server (our h)
	Outbound uint32  // stanzas sent (the server's h counts up to this)
	Unacked  []*Element
	// NextID is the last number an IQ id of that stream was made from:
	// a resumed stream goes on from it, so an answer the server still
	// owes the last connection never meets a new request of the same id.
	NextID uint64
	// Abandoned are the ids of requests still unanswered when the
	// connection broke (their callers were told it ended): their answers
	// may yet come in the resumed stream, and are dropped without a word.
	Abandoned []string
}

// maxAbandoned bounds the ids one stream hands the next to recognise.
const maxAbandoned = 1024

// sm is a session's stream-management bookkeeping. Outbound stanzas are
// numbered and kept until the server acknowledges them; inbound ones are
// counted as they are handed to the application.
type sm struct {
	mu        sync.Mutex
	enabled   bool
	id        string
	inbound   uint32
	outbound  uint32
	unacked   []*Element
	resumed   bool
	requested bool // an <r/> is outstanding
}

// isStanza reports whether XEP-0198 counts el.
func isStanza(el *Element) bool {
	if el.Name.Space != NSClient {
		return false
	}
	switch el.Name.Local {
	case "message", "presence", "iq":
		return true
	}
	return false
}

// StreamManagement reports whether XEP-0198 is on for this session.
func (s *Session) StreamManagement() bool {
	s.sm.mu.Lock()
	defer s.sm.mu.Unlock()
	return s.sm.enabled
}

// Resumed reports whether this session resumed an earlier one: the server
// kept the roster, presence and everything in flight.
func (s *Session) Resumed() bool {
	s.sm.mu.Lock()
	defer s.sm.mu.Unlock()
	return s.sm.resumed
}

// StreamState is what a later Dial needs to resume this session and to
// know what was never acknowledged. It is nil when stream management was
// off.
func (s *Session) StreamState() *SMState {
	s.sm.mu.Lock()
	defer s.sm.mu.Unlock()
	if !s.sm.enabled {
		return nil
	}
	return &SMState{
		ID: s.sm.id, JID: s.jid, Inbound: s.sm.inbound, Outbound: s.sm.outbound,
		Unacked: append([]*Element(nil), s.sm.unacked...),
		NextID:  s.nextID.Load(), Abandoned: s.unanswered(),
	}
}

// unanswered is the ids of our requests without an answer: waiting now,
// failed when the session closed, or owed to the stream this one resumed.
func (s *Session) unanswered() []string {
	s.iqMu.Lock()
	defer s.iqMu.Unlock()
	ids := append([]string(nil), s.failed...)
	for id := range s.pending {
		ids = append(ids, id)
	}
	for id := range s.owed {
		ids = append(ids, id)
	}
	// Oldest first, so that the newest are kept: our ids are a prefix
	// and a number in base 36, in order by length, then as text.
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) })
	ids = slices.Compact(ids)
	if len(ids) > maxAbandoned {
		ids = ids[len(ids)-maxAbandoned:]
	}
	return ids
}

// Unacked returns the stanzas sent that the server has not acknowledged.
func (s *Session) Unacked() []*Element {
	s.sm.mu.Lock()
	defer s.sm.mu.Unlock()
	return append([]*Element(nil), s.sm.unacked...)
}

// enableSM turns stream management on after binding (XEP-0198 §3).
// Stanzas that arrive meanwhile are kept for Next.
func (s *Session) enableSM() error {
	if err := s.w.Send(E(NSSM, "enable", "resume", "true")); err != nil {
		return err
	}
	for {
		el, err := s.r.Next()
		if err != nil {
			return fmt.Errorf("enable stream management: %w", err)
		}
		switch {
		case el.Is(NSSM, "enabled"):
			s.sm.enabled = true
			if el.Get("resume") == "true" || el.Get("resume") == "1" {
				s.sm.id = el.Get("id")
			}
			return nil
		case el.Is(NSSM, "failed"):
			return nil // the session works without it
		default:
			s.early = append(s.early, el)
		}
	}
}

// resumeSM tries to resume prev (XEP-0198 §5). It reports false when the
// server refused, and the caller binds a new session instead.
// ErrResumeInvalid is why a resumption failed when the server answered
// <resume/> with something that makes no sense (neither <resumed/> nor
// <failed/>, or counts that do not add up): that state is not worth trying
// again. Any other failure (the connection broke) leaves it resumable.
var ErrResumeInvalid = errors.New("the server's answer to resuming the session is invalid")

func (s *Session) resumeSM(prev *SMState) (bool, error) {
	if err := s.w.Send(E(NSSM, "resume", "previd", prev.ID, "h", strconv.FormatUint(uint64(prev.Inbound), 10))); err != nil {
		return false, err
	}
	el, err := s.r.Next()
	if err != nil {
		return false, fmt.Errorf("resume stream: %w", err)
	}
	if el.Is(NSSM, "failed") {
		return false, nil
	}
	if !el.Is(NSSM, "resumed") {
		return false, fmt.Errorf("resume stream: %w: unexpected <%s/>", ErrResumeInvalid, el.Name.Local)
	}
	h, err := parseH(el)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrResumeInvalid, err)
	}
	s.jid = prev.JID
	s.sm = sm{enabled: true, id: prev.ID, inbound: prev.Inbound, outbound: prev.Outbound, unacked: prev.Unacked, resumed: true}
	s.nextID.Store(prev.NextID)
	s.iqMu.Lock()
	s.owed = make(map[string]bool, len(prev.Abandoned))
	for _, id := range prev.Abandoned {
		s.owed[id] = true
	}
	s.iqMu.Unlock()
	acked, err := s.sm.ack(h)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrResumeInvalid, err)
	}
	if len(acked) > 0 && s.cfg.OnAck != nil {
		s.cfg.OnAck(acked)
	}
	// What the server never got goes again, counted afresh from its h.
	again := s.sm.unacked
	s.sm.unacked, s.sm.outbound = nil, h
	for _, st := range again {
		if err := s.send(st); err != nil {
			return false, err
		}
	}
	return true, nil
}

func parseH(el *Element) (uint32, error) {
	h, err := strconv.ParseUint(el.Get("h"), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("stream management: bad h %q", el.Get("h"))
	}
	return uint32(h), nil
}

var errBadAck = errors.New("the server acknowledged stanzas that were never sent")

// ack drops the stanzas the server confirmed with h and returns them.
// Counters wrap at 2^32 as XEP-0198 says.
func (m *sm) ack(h uint32) ([]*Element, error) {
	acked := m.outbound - uint32(len(m.unacked))
	n := h - acked
	if n > uint32(len(m.unacked)) {
		return nil, errBadAck
	}
	done := m.unacked[:n:n]
	// The rest moves to a fresh array: re-slicing would keep every
	// acknowledged stanza reachable through the old one.
	m.unacked = slices.Clone(m.unacked[n:])
	m.requested = false
	return done, nil
}

// handleSM answers <r/> and takes <a/>. It reports whether el was a
// stream-management element.
func (s *Session) handleSM(el *Element) (bool, error) {
	if el.Name.Space != NSSM {
		return false, nil
	}
	switch el.Name.Local {
	case "r":
		s.sm.mu.Lock()
		h := s.sm.inbound
		s.sm.mu.Unlock()
		return true, s.w.Send(E(NSSM, "a", "h", strconv.FormatUint(uint64(h), 10)))
	case "a":
		h, err := parseH(el)
		if err != nil {
			return true, err
		}
		s.sm.mu.Lock()
		acked, err := s.sm.ack(h)
		var again error
		if err == nil && len(s.sm.unacked) > 0 {
			// More went out after the request this answers: ask again,
			// so the last of a burst is confirmed too.
			s.sm.requested = true
			again = s.w.Send(E(NSSM, "r"))
		}
		s.sm.mu.Unlock()
		if err != nil {
			return true, &StreamError{Condition: "undefined-condition", Text: errBadAck.Error()}
		}
		if len(acked) > 0 && s.cfg.OnAck != nil {
			s.cfg.OnAck(acked)
		}
		return true, again
	}
	return true, nil
}

// send writes a stanza, numbering and keeping it while stream management
// is on, and asks for an acknowledgement after each message and whenever
// ackEvery stanzas are waiting for one.
func (s *Session) send(el *Element) error {
	if !isStanza(el) {
		return s.w.Send(el)
	}
	s.sm.mu.Lock()
	defer s.sm.mu.Unlock()
	if !s.sm.enabled {
		return s.w.Send(el)
	}
	s.sm.outbound++
	s.sm.unacked = append(s.sm.unacked, el)
	if err := s.w.Send(el); err != nil {
		return err
	}
	if !s.sm.requested && (el.Name.Local == "message" || len(s.sm.unacked) >= ackEvery) {
		s.sm.requested = true
		return s.w.Send(E(NSSM, "r"))
	}
	return nil
}

// ackEvery is how many other stanzas (presence, IQ answers) may wait
// unacknowledged before an acknowledgement is requested; without it they
// were kept until the next message went out (logging in with 10,000
// contacts, whose services each ask for our features, held 21 MB).
const ackEvery = 32

// finalAck tells the server, just before the stream closes, how many
// stanzas were received (XEP-0198 §4: an <a/> needs no request). Without
// it the server treats whatever arrived since its last request as
// undelivered and sends it again: Prosody stores such messages offline,
// so they would come back at the next login.
func (s *Session) finalAck() {
	s.sm.mu.Lock()
	on, h := s.sm.enabled, s.sm.inbound
	s.sm.mu.Unlock()
	if on {
		s.w.Send(E(NSSM, "a", "h", strconv.FormatUint(uint64(h), 10)))
	}
}

// handled counts a stanza the application has been given (or that was
// dealt with here).
func (s *Session) handled() {
	s.sm.mu.Lock()
	if s.sm.enabled {
		s.sm.inbound++
	}
	s.sm.mu.Unlock()
}
