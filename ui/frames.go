package ui

import (
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
)

// floodFrame is the shortest time between two frames while input is
// waiting: a paste the terminal sends as keys (without bracketed paste)
// arrives as thousands of key events, and tview draws after each one.
const floodFrame = 50 * time.Millisecond

// frameSkipper draws at most one frame per floodFrame while more input is
// already waiting, so a flood of keys costs what handling the keys costs,
// not a frame each; keys behind the flood (Ctrl+Q) are reached at once.
// The frame after the last key is always drawn: either no input is
// waiting then, or a catch-up frame is asked for.
type frameSkipper struct {
	tcell.Screen
	skip    bool // the frame being drawn is skipped: Show does nothing
	shown   time.Time
	mu      sync.Mutex // guards catchUp: stop may come from another goroutine
	catchUp *time.Timer
	redraw  func() // asks for a frame later, from any goroutine
	first   func() // called after the first frame is shown, then dropped
}

// Clear starts a frame (tview clears before every frame): here it is
// decided whether the frame is skipped, before the clearing costs anything.
func (s *frameSkipper) Clear() {
	s.skip = s.HasPendingEvent() && time.Since(s.shown) < floodFrame
	if s.skip {
		if s.redraw != nil {
			s.mu.Lock()
			if s.catchUp == nil {
				s.catchUp = time.AfterFunc(floodFrame, s.redraw)
			} else {
				s.catchUp.Reset(floodFrame)
			}
			s.mu.Unlock()
		}
		return
	}
	s.Screen.Clear()
}

// Show shows the frame unless it is being skipped.
func (s *frameSkipper) Show() {
	if s.skip {
		return
	}
	s.shown = time.Now()
	s.Screen.Show()
	if f := s.first; f != nil {
		s.first = nil
		f()
	}
}

// before reports, before a frame is drawn, whether Clear skipped it; true
// skips the drawing.
func (s *frameSkipper) before() bool { return s.skip }

// stop cancels a pending catch-up frame, when the interface ends.
func (s *frameSkipper) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.catchUp != nil {
		s.catchUp.Stop()
	}
}
