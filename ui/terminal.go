package ui

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gdamore/tcell/v2"
)

var errTerminalUsed = errors.New("ui: the terminal is in use already")

// Terminal is the terminal gab draws on, taken over in the background
// while the accounts' stores are read: setting it up (its description,
// raw mode, the alternate screen, its size) then costs the first frame
// nothing.
type Terminal struct {
	tty  *savedTerminal
	done chan struct{} // closed once scr and err are set
	scr  tcell.Screen
	err  error
	used bool // handed to an App, which gives the terminal back
}

// OpenTerminal starts taking over the controlling terminal. Give it to
// the App through Options.Terminal, or Close it if the App never runs.
func OpenTerminal() *Terminal {
	t := &Terminal{tty: saveTerminal(), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		scr, err := tcell.NewScreen()
		if err == nil {
			err = scr.Init()
		}
		if err != nil {
			err = terminalError(err)
		}
		t.scr, t.err = scr, err
	}()
	return t
}

// Close gives the terminal back as it was, unless an App has it (the App
// gives it back when it stops). Safe to call more than once.
func (t *Terminal) Close() {
	<-t.done
	if t.used {
		return
	}
	t.used = true
	if t.err == nil {
		t.scr.Fini()
	}
	t.tty.close()
}

// take waits for the terminal and hands it over: the App finalises the
// screen and restores the saved state from now on.
func (t *Terminal) take() (tcell.Screen, *savedTerminal, error) {
	<-t.done
	if t.used {
		return nil, nil, errTerminalUsed
	}
	t.used = true
	if t.err != nil {
		t.tty.close()
		return nil, nil, t.err
	}
	return initialised{t.scr}, t.tty, nil
}

// initialised is a screen set up already: tview initialises the screen it
// is given, which must not happen twice.
type initialised struct{ tcell.Screen }

func (initialised) Init() error { return nil }

// terminalError says what to do about a terminal gab cannot use: the
// terminal library's own words name neither the setting nor the remedy.
func terminalError(err error) error {
	if strings.Contains(err.Error(), "/dev/tty") {
		return fmt.Errorf("no terminal to draw on (%w): gab runs in a terminal", err)
	}
	return fmt.Errorf("cannot use the terminal TERM=%q (%w): set TERM to the terminal's name, e.g. xterm-256color", os.Getenv("TERM"), err)
}
