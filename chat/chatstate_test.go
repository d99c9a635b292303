package chat

import (
	"testing"
	"time"
)

func TestStateMachine(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		name string
		do   func(m *StateMachine) (ChatState, bool)
		want ChatState // "" means nothing is sent
	}
	steps := []step{
		{"first keystroke composes", func(m *StateMachine) (ChatState, bool) { return m.Keystroke(at(0)) }, StateComposing},
		{"more typing sends nothing", func(m *StateMachine) (ChatState, bool) { return m.Keystroke(at(time.Second)) }, ""},
		{"4.9s after last key: still composing", func(m *StateMachine) (ChatState, bool) { return m.Tick(at(5900 * time.Millisecond)) }, ""},
		{"5s after last key: paused", func(m *StateMachine) (ChatState, bool) { return m.Tick(at(6 * time.Second)) }, StatePaused},
		{"paused is not repeated", func(m *StateMachine) (ChatState, bool) { return m.Tick(at(7 * time.Second)) }, ""},
		{"typing again composes", func(m *StateMachine) (ChatState, bool) { return m.Keystroke(at(8 * time.Second)) }, StateComposing},
		{"sending carries active", func(m *StateMachine) (ChatState, bool) { m.MessageSent(at(9 * time.Second)); return "", false }, ""},
		{"focus after send: already active", func(m *StateMachine) (ChatState, bool) { return m.Focus(at(10*time.Second), true) }, ""},
		{"unfocus sends nothing at once", func(m *StateMachine) (ChatState, bool) { return m.Focus(at(20*time.Second), false) }, ""},
		{"1m59s unfocused: nothing", func(m *StateMachine) (ChatState, bool) { return m.Tick(at(20*time.Second + 119*time.Second)) }, ""},
		{"2m unfocused: inactive", func(m *StateMachine) (ChatState, bool) { return m.Tick(at(20*time.Second + 2*time.Minute)) }, StateInactive},
		{"focus again: active", func(m *StateMachine) (ChatState, bool) { return m.Focus(at(3*time.Minute), true) }, StateActive},
		{"type then clear: active", func(m *StateMachine) (ChatState, bool) {
			m.Keystroke(at(4 * time.Minute))
			return m.Cleared(at(4*time.Minute + time.Second))
		}, StateActive},
		{"close: gone", func(m *StateMachine) (ChatState, bool) { return m.Close(at(5 * time.Minute)) }, StateGone},
		{"gone is not repeated", func(m *StateMachine) (ChatState, bool) { return m.Close(at(5 * time.Minute)) }, ""},
	}
	m := NewStateMachine()
	for _, s := range steps {
		got, ok := s.do(m)
		if (s.want == "") == ok || got != s.want {
			t.Fatalf("%s: got %q (%v), want %q", s.name, got, ok, s.want)
		}
	}
}

func TestStateMachineUnfocusWhileComposing(t *testing.T) {
	t0 := time.Unix(0, 0)
	m := NewStateMachine()
	m.Keystroke(t0)
	if st, ok := m.Focus(t0.Add(time.Second), false); !ok || st != StatePaused {
		t.Fatalf("leaving a conversation mid-sentence: %q %v", st, ok)
	}
	if next := m.NextTick(); !next.Equal(t0.Add(time.Second + InactiveAfter)) {
		t.Fatalf("NextTick = %v", next)
	}
	if st, ok := m.Tick(t0.Add(time.Second + InactiveAfter)); !ok || st != StateInactive {
		t.Fatalf("then inactive: %q %v", st, ok)
	}
	if !m.NextTick().IsZero() {
		t.Fatal("nothing should be pending once inactive")
	}
}
