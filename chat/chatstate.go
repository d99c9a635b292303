package chat

import "time"

// XEP-0085 timings.
const (
	PausedAfter   = 5 * time.Second // composing → paused without a keystroke
	InactiveAfter = 2 * time.Minute // active → inactive while unfocused
)

// StateMachine decides which chat states our side of one conversation
// sends (XEP-0085). It is pure: every method takes the current time and
// returns the state to send, if any. It never asks to send the same state
// twice in a row. Whether the peer supports chat states is the Client's
// decision, not this machine's.
type StateMachine struct {
	sent        ChatState // last state sent, "" before any
	lastKey     time.Time
	focused     bool
	unfocusedAt time.Time
}

// NewStateMachine starts a conversation that has focus.
func NewStateMachine() *StateMachine { return &StateMachine{focused: true} }

func (m *StateMachine) move(to ChatState) (ChatState, bool) {
	if m.sent == to {
		return "", false
	}
	m.sent = to
	return to, true
}

// Keystroke: the user typed into the composer, which is not empty.
func (m *StateMachine) Keystroke(now time.Time) (ChatState, bool) {
	m.lastKey = now
	return m.move(StateComposing)
}

// Cleared: the user emptied the composer without sending.
func (m *StateMachine) Cleared(now time.Time) (ChatState, bool) {
	if m.sent == StateComposing || m.sent == StatePaused {
		return m.move(StateActive)
	}
	return "", false
}

// MessageSent: a message went out carrying <active/>; nothing separate is
// sent.
func (m *StateMachine) MessageSent(now time.Time) {
	m.sent = StateActive
}

// Focus: the conversation gained (true) or lost (false) focus.
func (m *StateMachine) Focus(now time.Time, focused bool) (ChatState, bool) {
	m.focused = focused
	if focused {
		if m.sent == StateComposing {
			return "", false // still typing: nothing changed for the peer
		}
		return m.move(StateActive)
	}
	m.unfocusedAt = now
	if m.sent == StateComposing {
		return m.move(StatePaused)
	}
	return "", false
}

// Tick moves on with time: composing becomes paused after PausedAfter
// without a keystroke; an unfocused conversation becomes inactive after
// InactiveAfter.
func (m *StateMachine) Tick(now time.Time) (ChatState, bool) {
	if m.sent == StateComposing && now.Sub(m.lastKey) >= PausedAfter {
		return m.move(StatePaused)
	}
	if !m.focused && m.sent != StateGone && m.sent != StateInactive && m.sent != StateComposing &&
		now.Sub(m.unfocusedAt) >= InactiveAfter {
		return m.move(StateInactive)
	}
	return "", false
}

// NextTick is when Tick may next have something to send; zero when nothing
// is pending.
func (m *StateMachine) NextTick() time.Time {
	switch {
	case m.sent == StateComposing:
		return m.lastKey.Add(PausedAfter)
	case !m.focused && m.sent != StateGone && m.sent != StateInactive:
		return m.unfocusedAt.Add(InactiveAfter)
	}
	return time.Time{}
}

// Close: the conversation was closed.
func (m *StateMachine) Close(now time.Time) (ChatState, bool) {
	return m.move(StateGone)
}

// Sent is the last state sent.
func (m *StateMachine) Sent() ChatState { return m.sent }
