package ui

import (
	"context"
	"os"
	"time"

	"golang.org/x/term"
)

// stopGrace is how long the interface may take to stop once asked (Ctrl+Q,
// /quit, a signal) before gab gives the terminal back itself and goes on
// without it.
const stopGrace = 1500 * time.Millisecond

// quit ends the interface, from any goroutine, at once and only once.
//
// It never waits on the UI goroutine: that may be far behind, working
// through a flood of keystrokes (a paste into a terminal without bracketed
// paste). From now on every queued event is dropped unhandled and nothing
// is drawn, so the backlog drains quickly; the screen is finalised away
// from tview's lock (tview's Stop holds it while the screen shuts down,
// and the screen's shutdown waits for its queued events to be taken — by
// the UI goroutine, which needs that lock to draw), then tview is stopped.
func (a *App) quit() {
	a.quitOnce.Do(func() {
		a.quitting.Store(true)
		close(a.quitReq)
		go func() {
			// A terminal's screen locks itself against the draws still
			// under way; only a real terminal can be flooded.
			if a.tty != nil {
				a.screen.Fini()
			}
			a.tv.Stop()
		}()
	})
}

// userQuit quits at the user's word, on the UI goroutine: the tabs as
// they are now are the ones saved.
func (a *App) userQuit() {
	a.noteTabs()
	a.quit()
}

// runTerminal runs the tview application until it stops, the user quits
// or ctx ends. If the application has not returned stopGrace after being
// asked to, the terminal is restored here and runTerminal returns anyway:
// quitting never waits on the interface catching up.
func (a *App) runTerminal(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- a.tv.Run() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		a.quit()
	case <-a.quitReq:
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		a.tty.restore()
		return nil
	}
}

// savedTerminal is the terminal's state before gab took it over, to put
// back if the screen cannot shut down in time.
type savedTerminal struct {
	f     *os.File
	state *term.State
}

// saveTerminal records the controlling terminal's state; nil when there is
// none (tests on a simulation screen).
func saveTerminal() *savedTerminal {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	st, err := term.GetState(int(f.Fd()))
	if err != nil {
		f.Close()
		return nil
	}
	return &savedTerminal{f: f, state: st}
}

// resetModes leaves the alternate screen and turns off what gab turned on:
// mouse reports, bracketed paste, focus reports; it shows the cursor and
// resets colours.
const resetModes = "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1004l\x1b[0m\x1b[?25h\x1b[?1049l"

func (s *savedTerminal) restore() {
	if s == nil {
		return
	}
	term.Restore(int(s.f.Fd()), s.state)
	s.f.WriteString(resetModes)
}

func (s *savedTerminal) close() {
	if s != nil {
		s.f.Close()
	}
}
