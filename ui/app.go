package ui

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Options configure the App.
type Options struct {
	Settings config.Settings
	Screen   tcell.Screen // nil for the terminal; tests pass a simulation screen
	Version  string
}

// App is gab's terminal interface.
type App struct {
	tv       *tview.Application
	state    *State
	roster   *RosterView
	conv     *ConvView
	tabs     *TabBar
	status   *StatusLine
	composer *tview.InputField
	ticks    chan item
	version  string
}

// New builds the interface for accounts.
func New(accounts []*Account, opts Options) *App {
	state := NewState(accounts)
	if opts.Settings.RosterSort == config.SortName {
		state.Order = roster.ByName
	}
	state.Offline = opts.Settings.ShowOffline
	tf := opts.Settings.TimeFormat
	if tf == "" {
		tf = "15:04"
	}
	a := &App{
		tv:      tview.NewApplication(),
		state:   state,
		ticks:   make(chan item, 64),
		version: opts.Version,
	}
	if opts.Screen != nil {
		a.tv.SetScreen(opts.Screen)
	}
	a.roster = NewRosterView(state)
	a.roster.OnOpen = a.openChat
	a.conv = NewConvView(state, tf)
	a.tabs = NewTabBar(state)
	a.tabs.OnPick = a.switchTo
	a.status = NewStatusLine(state)
	a.status.Hint = "Tab: contacts/composer · Enter: open · Ctrl+N/P: tabs · F1: help · Ctrl+Q: quit"
	a.composer = tview.NewInputField().SetLabel("> ").SetFieldStyle(tcell.StyleDefault).SetLabelStyle(tcell.StyleDefault.Bold(true))
	a.composer.SetChangedFunc(a.composerChanged)
	a.composer.SetDoneFunc(func(k tcell.Key) {
		if k == tcell.KeyEnter {
			a.submit()
		}
	})
	right := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(a.tabs, 1, 0, false).
		AddItem(a.conv, 0, 1, false).
		AddItem(a.composer, 1, 0, true)
	main := tview.NewFlex().
		AddItem(a.roster, 30, 0, false).
		AddItem(right, 0, 1, true)
	root := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(main, 0, 1, true).
		AddItem(a.status, 1, 0, false)
	a.tv.SetRoot(root, true).SetFocus(a.composer).EnableMouse(true).EnablePaste(true)
	a.tv.SetInputCapture(a.keys)
	state.Log(LineInfo, "gab %s — F1 or /help lists keys and commands", opts.Version)
	return a
}

// State is the model the interface shows; for tests.
func (a *App) State() *State { return a.state }

// Run shows the interface until the user quits or ctx ends. sources are
// the accounts' event streams by account name.
func (a *App) Run(ctx context.Context, sources map[string]<-chan chat.Event) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan item, 256)
	var wg sync.WaitGroup
	for name, src := range sources {
		wg.Add(1)
		go forward(ctx, &wg, name, src, in)
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case it := <-a.ticks:
				select {
				case in <- it:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { defer wg.Done(); a.pump(ctx, in) }()
	stop := context.AfterFunc(ctx, a.tv.Stop)
	defer stop()
	err := a.tv.Run()
	cancel()
	wg.Wait()
	for _, c := range a.state.Convs {
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	return err
}

// Quit stops the interface.
func (a *App) Quit() { a.tv.Stop() }

// apply runs on the UI goroutine.
func (a *App) apply(it item) {
	if it.tick != nil {
		if st, ok := it.tick.States.Tick(a.state.Now()); ok {
			a.sendState(it.tick, st)
		}
		a.schedule(it.tick)
		return
	}
	a.state.Apply(it.account, it.ev)
	if e, ok := it.ev.(chat.CommandDone); ok {
		if p, ok := e.Command.(chat.SetPresence); ok {
			if acct := a.state.Account(it.account); acct != nil {
				acct.Show, acct.Status = p.Show, p.Status
			}
		}
	}
}

// keys are the bindings that work wherever the focus is.
func (a *App) keys(ev *tcell.EventKey) *tcell.EventKey {
	a.state.Status = ""
	switch ev.Key() {
	case tcell.KeyCtrlQ, tcell.KeyCtrlC:
		a.tv.Stop()
		return nil
	case tcell.KeyTab:
		if a.tv.GetFocus() == a.composer {
			a.tv.SetFocus(a.roster)
		} else {
			a.tv.SetFocus(a.composer)
		}
		return nil
	case tcell.KeyCtrlN:
		a.switchTo((a.state.Active + 1) % len(a.state.Convs))
		return nil
	case tcell.KeyCtrlP:
		a.switchTo((a.state.Active + len(a.state.Convs) - 1) % len(a.state.Convs))
		return nil
	case tcell.KeyCtrlW:
		a.closeTab(a.state.Active)
		return nil
	case tcell.KeyPgUp:
		a.conv.ScrollBy(a.conv.PageRows())
		return nil
	case tcell.KeyPgDn:
		a.conv.ScrollBy(-a.conv.PageRows())
		return nil
	case tcell.KeyF1:
		a.help()
		return nil
	case tcell.KeyLeft, tcell.KeyRight:
		if ev.Modifiers()&tcell.ModAlt != 0 {
			d := 1
			if ev.Key() == tcell.KeyLeft {
				d = len(a.state.Convs) - 1
			}
			a.switchTo((a.state.Active + d) % len(a.state.Convs))
			return nil
		}
	case tcell.KeyRune:
		if ev.Modifiers()&tcell.ModAlt != 0 && ev.Rune() >= '1' && ev.Rune() <= '9' {
			a.switchTo(int(ev.Rune() - '1'))
			return nil
		}
	}
	return ev
}

// switchTo makes tab i active, moving chat-state focus with it.
func (a *App) switchTo(i int) {
	if i < 0 || i >= len(a.state.Convs) || i == a.state.Active {
		return
	}
	now := a.state.Now()
	if old := a.state.Current(); !old.IsConsole() {
		if st, ok := old.States.Focus(now, false); ok {
			a.sendState(old, st)
		}
		a.schedule(old)
	}
	a.state.Active = i
	c := a.state.Current()
	c.Unread = 0
	if !c.IsConsole() {
		if acct := a.state.Account(c.Account); acct != nil {
			if ct := acct.Roster.Get(c.Peer); ct != nil {
				ct.Unread = 0
			}
		}
		if st, ok := c.States.Focus(now, true); ok {
			a.sendState(c, st)
		}
	}
}

func (a *App) openChat(account, jid string) {
	_, i := a.state.Open(account, jid)
	a.switchTo(i)
	a.tv.SetFocus(a.composer)
}

func (a *App) closeTab(i int) {
	if i <= 0 || i >= len(a.state.Convs) {
		a.state.SetStatus(true, "the console cannot be closed")
		return
	}
	c := a.state.Convs[i]
	if st, ok := c.States.Close(a.state.Now()); ok {
		a.sendState(c, st)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	a.state.Convs = append(a.state.Convs[:i], a.state.Convs[i+1:]...)
	if a.state.Active >= i {
		a.state.Active = max(0, a.state.Active-1)
	}
}

func (a *App) sendState(c *Conversation, st chat.ChatState) {
	if acct := a.state.Account(c.Account); acct != nil && acct.Client != nil && acct.Conn == "online" {
		acct.Client.Do(chat.SendChatState{To: c.Peer, State: st})
	}
}

// schedule arms c's chat-state timer for when the machine next has
// something to say. The timer only posts to the pump; the state changes on
// the UI goroutine.
func (a *App) schedule(c *Conversation) {
	next := c.States.NextTick()
	if next.IsZero() {
		if c.timer != nil {
			c.timer.Stop()
		}
		return
	}
	d := max(0, next.Sub(a.state.Now()))
	if c.timer == nil {
		c.timer = time.AfterFunc(d, func() {
			select {
			case a.ticks <- item{tick: c}:
			default: // the pump is behind; the next keystroke re-arms
			}
		})
		return
	}
	c.timer.Reset(d)
}

func (a *App) composerChanged(text string) {
	c := a.state.Current()
	if c.IsConsole() || strings.HasPrefix(text, "/") {
		return
	}
	now := a.state.Now()
	var st chat.ChatState
	var ok bool
	if text == "" {
		st, ok = c.States.Cleared(now)
	} else {
		st, ok = c.States.Keystroke(now)
	}
	if ok {
		a.sendState(c, st)
	}
	a.schedule(c)
}

// submit sends the composer's text as a message or runs it as a command.
func (a *App) submit() {
	text := a.composer.GetText()
	if strings.TrimSpace(text) == "" {
		return
	}
	c := a.state.Current()
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		a.composer.SetText("")
		a.command(text)
		return
	}
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	if c.IsConsole() {
		a.state.SetStatus(true, "this is the console: open a conversation first (Enter on a contact, or /msg JID)")
		return
	}
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil {
		return
	}
	acct.Client.Do(chat.SendMessage{To: c.Peer, Body: text})
	c.States.MessageSent(a.state.Now())
	a.schedule(c)
	a.composer.SetText("")
	c.Scroll = 0
}
