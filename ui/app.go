package ui

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// Terminal is the terminal taken over early (OpenTerminal); nil
	// takes it over when Run starts. Unused with Screen.
	Terminal *Terminal
	// FirstFrame, if set, is called once the first frame is on the
	// screen, on the interface's goroutine: it must not block.
	FirstFrame func()
	Version    string
	// Tabs keeps the open tabs from one run to the next: they are
	// reopened at launch; nil keeps nothing.
	Tabs TabStore
}

// App is gab's terminal interface.
type App struct {
	asks     *roomAsk // room lists and forms the user asked for (roomdialogs.go)
	tv       *tview.Application
	state    *State
	pages    *tview.Pages
	right    *rightPane
	main     *mainPane
	roster   *RosterView
	conv     *ConvView
	convRow  *convRow // the conversation and, in a room, its occupants
	tabs     *TabBar
	status   *StatusLine
	composer *Composer
	ticks    chan item
	version  string
	dialogs  []dialog
	// prompts are the questions from the network waiting for the user
	// (subscription requests, certificates), oldest first.
	prompts []pendingPrompt
	// promptList is the list of prompts while it is open.
	promptList *JumpList
	// openPrompt is the prompt whose dialog is open, nil for none.
	openPrompt *pendingPrompt
	// correcting is the message being corrected (XEP-0308), "" for none.
	correcting string
	// sel is the message selected to act on, and what the composer's
	// text answers or reacts to (selection.go).
	sel selection
	// bindings maps keys (config.CanonicalKey spelling) to actions.
	bindings map[string]string
	notify   *notifier
	screen   tcell.Screen // nil until Run when the terminal's is used
	frames   *frameSkipper
	away     *autoAway
	// tty is the terminal's state before gab took it over (nil on a
	// simulation screen).
	tty        *savedTerminal
	term       *Terminal // the terminal to take in Run
	firstFrame func()
	// quitting is set once the user or a signal asked gab to quit: from
	// then on, queued input is dropped and nothing is drawn.
	quitting atomic.Bool
	quitOnce sync.Once
	quitReq  chan struct{} // closed by quit
	// ignoreStrangers drops subscription requests from people not in the
	// contacts (ui.requests_from_strangers = "ignore").
	ignoreStrangers bool
	// tabSaver keeps the open tabs for the next run (nil: not kept);
	// keptTabs are the saved tabs of accounts not running in this run,
	// saved again after the others.
	tabSaver *tabSaver
	keptTabs []TabRef
	// openCommand opens a link (ui.open_command): the URL is appended.
	openCommand []string
}

// singleClicks turns off tview's double-click detection, once per process:
// gab has no double-click actions, and tview reports a second click within
// half a second as a double-click, which its buttons ignore — a quick click
// on a contact and then on a dialog button would be lost.
var singleClicks sync.Once

// New builds the interface for accounts.
func New(accounts []*Account, opts Options) *App {
	singleClicks.Do(func() { tview.DoubleClickInterval = 0 })
	// Before any widget exists: tview's widgets take their colours from
	// tview.Styles when they are made.
	buildTheme(opts.Settings.Theme, noColor()).apply()
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
		asks:            newRoomAsk(),
		tv:              tview.NewApplication(),
		state:           state,
		ticks:           make(chan item, 64),
		quitReq:         make(chan struct{}),
		ignoreStrangers: opts.Settings.StrangerRequests == config.StrangersIgnore,
		version:         opts.Version,
		bindings:        opts.Settings.Bindings(),
		notify:          newNotifier(opts.Settings.Notify),
		openCommand:     opts.Settings.OpenCommand,
	}
	a.notify.report = func(msg string) { a.post(func() { a.state.Log(LineError, "%s", msg) }) }
	a.away = newAutoAway(a, opts.Settings.Away)
	a.term, a.firstFrame = opts.Terminal, opts.FirstFrame
	if opts.Screen != nil {
		a.useScreen(opts.Screen)
	}
	a.roster = NewRosterView(state)
	a.roster.OnOpen = a.openFromRoster
	a.roster.OnRoom = a.openRoom
	a.roster.OnAdd = func(account string) { a.addDialog(account, "") }
	a.roster.OnRemove = a.removeDialog
	a.roster.OnType = func(ev *tcell.EventKey) {
		// Typing is for the composer: focus moves there with the key. A
		// space alone only moves the focus: as the first character it
		// would turn a command typed next into a message.
		a.tv.SetFocus(a.composer)
		if ev.Rune() != ' ' {
			a.composer.handle(ev)
		}
	}
	a.roster.OnPaste = func(text string) {
		a.tv.SetFocus(a.composer)
		a.composer.PasteHandler()(text, func(tview.Primitive) {})
	}
	a.conv = NewConvView(state, tf)
	a.conv.Styling = opts.Settings.Styling
	a.conv.OnTop = func() {
		if c := a.state.Current(); c.More {
			a.loadOlder(c)
		}
	}
	a.conv.Selected = a.selectedID
	a.conv.Banner = a.banner
	a.conv.OnPaste = func(text string) {
		// Text, not keys: to the composer, as on the contact list.
		a.leaveSelection()
		a.tv.SetFocus(a.composer)
		a.composer.PasteHandler()(text, func(tview.Primitive) {})
	}
	a.convRow = &convRow{Box: tview.NewBox(), conv: a.conv, occ: NewOccupantView(state), want: true}
	a.tabs = NewTabBar(state)
	a.tabs.OnPick = a.switchTo
	a.status = NewStatusLine(state)
	// Most needed first: at 80 columns the end may be cut off.
	a.status.Hint = fmt.Sprintf("%s: help · %s: quit · %s: select · %s: contacts/composer · %s: jump",
		a.keyFor("help"), a.keyFor("quit"), a.keyFor("select_message"), a.keyFor("focus"), a.keyFor("quick_jump"))
	a.status.Pending = a.pendingSummary
	a.status.Question = a.question
	a.status.Selected = func() *roster.Contact {
		// Called while drawing, when the application's lock is held:
		// HasFocus, not GetFocus.
		if !a.roster.HasFocus() {
			return nil
		}
		return a.roster.SelectedContact()
	}
	a.composer = NewComposer()
	a.composer.Encrypted = func() bool { return a.state.encrypting(a.state.Current()) }
	a.composer.OnSubmit = a.submit
	a.composer.OnChange = a.composerChanged
	a.composer.Candidates = a.candidates
	a.composer.Complete = pathCompletion
	a.status.Upload = func(width int) string {
		acct, u, more := a.state.uploading()
		if u == nil {
			return ""
		}
		name := ""
		if len(a.state.Accounts) > 1 {
			name = acct.Name
		}
		return uploadText(name, u, more, a.keyFor("cancel_upload"), width)
	}
	a.composer.Secret = func(line string) bool {
		// "/join ROOM PASSWORD": Up must not bring the password back.
		f := strings.Fields(line)
		return len(f) > 2 && f[0] == "/join"
	}
	a.composer.OnJump = func() {
		// Ctrl+K with nothing after the cursor: quick jump, while Ctrl+K
		// is its key.
		if a.bindings["Ctrl+K"] == "quick_jump" {
			a.jumpDialog()
		}
	}
	a.right = &rightPane{Flex: tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(a.tabs, 1, 0, false).
		AddItem(a.convRow, 0, 1, false).
		AddItem(a.composer, 1, 0, true), composer: a.composer}
	rw := opts.Settings.RosterWidth
	if rw == 0 {
		rw = config.DefaultSettings().RosterWidth
	}
	a.main = &mainPane{Flex: tview.NewFlex(), roster: a.roster, right: a.right, width: rw, want: true}
	a.main.lay(true)
	root := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(a.main, 0, 1, true).
		AddItem(a.status, 1, 0, false)
	a.pages = tview.NewPages().AddPage("main", root, true, true)
	a.tv.SetRoot(&sizeGuard{Pages: a.pages, quit: a.keyFor("quit")}, true).SetFocus(a.composer).EnableMouse(true).EnablePaste(true)
	a.tv.SetInputCapture(a.keys)
	a.tv.SetBeforeDrawFunc(func(tcell.Screen) bool {
		a.noteTabs()
		a.selectionGone()
		if a.quitting.Load() {
			return true // nothing more is drawn
		}
		a.updateTitle()
		return a.frames != nil && a.frames.before()
	})
	state.Log(LineInfo, "gab %s — F1 or /help lists keys and commands", opts.Version)
	if opts.Tabs != nil {
		a.tabSaver = newTabSaver(opts.Tabs, func(err error) {
			a.post(func() { a.state.Log(LineError, "could not save the open tabs: %v", err) })
		})
		a.restoreTabs(opts.Tabs)
	}
	return a
}

// useScreen draws on scr, with the terminal's focus reports going to the
// notifier.
func (a *App) useScreen(scr tcell.Screen) {
	a.screen = scr
	a.frames = &frameSkipper{Screen: scr, redraw: func() { a.post(func() {}) }, first: a.firstFrame}
	a.tv.SetScreen(&focusScreen{Screen: a.frames, n: a.notify})
	// tview turns on the mouse and bracketed paste only for a screen it
	// makes itself, or when asked after the screen is set: gab hands it
	// the screen, so it turns them on here. Without bracketed paste a
	// pasted text arrives as keystrokes, each line sent on its own.
	scr.EnableMouse()
	scr.EnablePaste()
	scr.EnableFocus()
	a.notify.beep = func() { scr.Beep() }
	a.notify.title = scr.SetTitle
	a.notify.out = func() io.Writer {
		if tty, ok := scr.Tty(); ok {
			return tty
		}
		return nil
	}
}

// keyFor is the first key bound to action, for hints.
func (a *App) keyFor(action string) string {
	best := ""
	for k, act := range a.bindings {
		if act == action && (best == "" || len(k) < len(best) || (len(k) == len(best) && k < best)) {
			best = k
		}
	}
	if best == "" {
		return "(unbound)"
	}
	return best
}

// post runs fn on the UI goroutine, from any goroutine, never waiting:
// dropped if the queue is full.
func (a *App) post(fn func()) {
	select {
	case a.ticks <- item{fn: fn}:
	default:
	}
}

// State is the model the interface shows; for tests.
func (a *App) State() *State { return a.state }

// Run shows the interface until the user quits or ctx ends. sources are
// the accounts' event streams by account name.
func (a *App) Run(ctx context.Context, sources map[string]<-chan chat.Event) error {
	if a.screen == nil {
		t := a.term
		if t == nil {
			t = OpenTerminal()
		}
		scr, tty, err := t.take()
		if err != nil {
			return err
		}
		a.tty = tty
		defer a.tty.close()
		a.useScreen(scr)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan item, 256)
	var wg sync.WaitGroup
	if a.notify.cfg.Command != "" {
		wg.Add(1)
		go func() { defer wg.Done(); a.notify.commands(ctx) }()
	}
	defer a.away.stop()
	a.applyWaiting(sources)
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
	if a.tabSaver != nil {
		go a.tabSaver.run()
	}
	err := a.runTerminal(ctx)
	if a.tabSaver != nil {
		// The tabs as they were at the last frame or the quit key.
		a.tabSaver.finish(stopGrace)
	}
	if a.frames != nil {
		a.frames.stop()
	}
	cancel()
	wg.Wait()
	for _, c := range a.state.Convs {
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	return err
}

// applyWaiting applies the events already waiting when the interface
// starts (the saved contact list, emitted before the network is asked
// anything), so that the first frame shows them. It runs before the
// application does, so nothing else touches the model meanwhile.
func (a *App) applyWaiting(sources map[string]<-chan chat.Event) {
	n := 0
	for name, src := range sources {
	drain:
		for n < batchMax {
			select {
			case ev, ok := <-src:
				if !ok {
					break drain
				}
				a.apply(item{account: name, ev: ev})
				n++
			default:
				break drain
			}
		}
	}
	if n > 0 {
		a.afterBatch()
	}
}

// apply runs on the UI goroutine.
func (a *App) apply(it item) {
	defer a.selectionLeft()
	if it.fn != nil {
		it.fn()
		return
	}
	if it.tick != nil {
		if st, ok := it.tick.States.Tick(a.state.Now()); ok {
			a.sendState(it.tick, st)
		}
		a.schedule(it.tick)
		return
	}
	if e, ok := it.ev.(chat.SubscriptionRequested); ok && a.ignoreStrangers && a.stranger(it.account, e.From) {
		return // ui.requests_from_strangers = "ignore": left unanswered, without a word
	}
	a.state.Apply(it.account, it.ev)
	if e, ok := it.ev.(chat.HistoryLoaded); ok {
		a.selectionLoaded(it.account, e)
	}
	a.loadFresh()
	a.markSeen()
	a.roomDialogEvent(it.account, it.ev)
	switch e := it.ev.(type) {
	case chat.CommandFailed:
		a.uploadRefused(it.account, e)
		a.omemoRefused(it.account, e)
	case chat.MessageReceived:
		if acct := a.state.Account(it.account); acct != nil && a.roomNotifies(it.account, e) {
			c, i := a.state.Find(it.account, e.Conv)
			name, _ := a.state.author(acct, e.Conv, e.Nick, e.OccupantID)
			if e.Conv.Kind == chat.KindRoom {
				name = shorten(name, nickCells) + " in " + shortenMiddle(e.Conv.JID, nickCells)
			}
			a.notify.message(it.account, e, name, c != nil && i == a.state.Active)
		}
	case chat.MessageRetracted:
		a.notify.retracted(it.account, e)
	case chat.InvitationReceived:
		a.noteInvitation(it.account, e)
	case chat.RoomJoined:
		a.dropInvitation(it.account, e.Room)
	case chat.SubscriptionRequested:
		a.noteRequest(it.account, e)
	case chat.SubscriptionChanged:
		if e.Type == "unsubscribe" {
			a.withdrawRequest(it.account, e.From)
		}
	case chat.Connected:
		a.connected(it.account)
	case chat.SearchResults:
		partial := ""
		if e.Unsearched > 0 {
			partial = fmt.Sprintf(" (the search index is still being rebuilt: about %d messages not searched yet)", e.Unsearched)
		}
		if len(e.Hits) == 0 {
			a.state.SetStatus(false, "nothing found for “%s”%s", e.Text, partial)
		} else {
			a.searchDialog(it.account, e)
			if partial != "" {
				a.state.SetStatus(false, "%s", strings.TrimSpace(partial))
			}
		}
	case chat.Disconnected:
		if e.Untrusted != nil {
			a.noteUntrusted(it.account, e.Untrusted)
		}
		if e.NeedPassword {
			a.notePassword(it.account, e.Err)
		}
	case chat.CommandDone:
		if p, ok := e.Command.(chat.SetPresence); ok {
			if acct := a.state.Account(it.account); acct != nil {
				acct.Show, acct.Status = p.Show, p.Status
			}
		}
		if !a.bookmarkDone(e.Command) {
			a.roomCommandDone(e.Command)
		}
	}
}

// afterBatch runs once a batch of events is applied: the batch's
// notifications.
func (a *App) afterBatch() {
	a.state.Flush()
	a.notify.flush()
}

// updateTitle puts the unread count in the window title; it runs before
// every frame (reading the tabs is cheap; the title is written only when
// it changes).
func (a *App) updateTitle() {
	unread := 0
	for _, c := range a.state.Convs {
		if !c.IsConsole() {
			unread += c.Unread
		}
	}
	a.notify.setTitle(unread)
}

// keys are the bindings that work wherever the focus is. While a dialog is
// open only Ctrl+C and Ctrl+Q act here; the dialog has the rest.
func (a *App) keys(ev *tcell.EventKey) *tcell.EventKey {
	if a.quitting.Load() {
		return nil
	}
	a.state.Status = ""
	a.away.input()
	switch ev.Key() {
	case tcell.KeyCtrlC:
		a.userQuit()
		return nil
	}
	if a.dialogOpen() {
		if a.bindings[keyName(ev)] == "quit" {
			a.userQuit()
			return nil
		}
		return ev
	}
	if a.tv.GetFocus() == a.roster && !a.main.shown {
		a.tv.SetFocus(a.composer) // the list was hidden while it had the focus
	}
	if a.sel.conv != nil && !a.selecting() {
		a.leaveSelection() // the focus went elsewhere (a click, another tab)
	}
	if a.selecting() && a.selectionKey(ev) {
		return nil
	}
	inComposer := a.tv.GetFocus() == a.composer
	composerEmpty := a.composer.GetText() == ""
	alt := ev.Modifiers()&tcell.ModAlt != 0
	key := keyName(ev)
	if action, ok := a.bindings[key]; ok {
		// Keys that edit text in a non-empty composer (Tab completes,
		// Ctrl+W deletes a word, Ctrl+K deletes to the end, Home and End
		// move) do that there, whatever they are bound to elsewhere.
		if inComposer && !composerEmpty && composerKeys[key] {
			return ev
		}
		if a.act(action) {
			return nil
		}
		return ev
	}
	switch ev.Key() {
	case tcell.KeyEscape:
		if a.correcting != "" {
			a.correcting = ""
			a.composer.Clear()
			a.state.SetStatus(false, "correction cancelled")
			return nil
		}
		if a.cancelTargets() {
			return nil
		}
	case tcell.KeyRune:
		if alt && ev.Rune() >= '1' && ev.Rune() <= '9' {
			a.switchTo(int(ev.Rune() - '1'))
			return nil
		}
	}
	return ev
}

// composerKeys edit text in a non-empty composer before any binding.
var composerKeys = map[string]bool{"Tab": true, "Ctrl+W": true, "Ctrl+K": true, "Home": true, "End": true}

// act does what a bound action does; false lets the key go on.
func (a *App) act(action string) bool {
	switch action {
	case "quit":
		a.userQuit()
	case "help":
		a.helpDialog()
	case "status":
		a.statusDialog()
	case "quick_jump":
		a.jumpDialog()
	case "next_tab":
		a.switchTo((a.state.Active + 1) % len(a.state.Convs))
	case "prev_tab":
		a.switchTo((a.state.Active + len(a.state.Convs) - 1) % len(a.state.Convs))
	case "close_tab":
		a.closeTab(a.state.Active)
	case "toggle_offline":
		a.state.Offline = !a.state.Offline
		if a.state.Offline {
			a.state.SetStatus(false, "showing offline contacts")
		} else {
			a.state.SetStatus(false, "hiding offline contacts")
		}
	case "focus":
		a.toggleFocus()
	case "page_up":
		a.scrollUp(a.conv.PageRows())
	case "page_down":
		a.conv.ScrollBy(-a.conv.PageRows())
	case "scroll_top":
		a.scrollUp(1 << 30)
	case "scroll_bottom":
		a.conv.ScrollBy(-(1 << 30))
	case "correct":
		a.sel.reply, a.sel.react = nil, nil
		a.startCorrection()
	case "select_message":
		a.startSelection()
	case "requests":
		a.openPrompts()
	case "cancel_upload":
		return a.cancelUpload()
	case "toggle_occupants":
		a.convRow.want = !a.convRow.want
		switch key := a.keyFor("toggle_occupants"); {
		case !a.convRow.want:
			a.state.SetStatus(false, "occupant list hidden (%s shows it)", key)
		case !a.convRow.fits():
			a.state.SetStatus(true, "the window is too narrow for the occupant list")
		default:
			a.state.SetStatus(false, "occupant list shown in room tabs (%s hides it)", key)
		}
	case "toggle_roster":
		a.main.want = !a.main.want
		if !a.main.want {
			if a.tv.GetFocus() == a.roster {
				a.tv.SetFocus(a.composer)
			}
			a.state.SetStatus(false, "contact list hidden (%s shows it)", a.keyFor("toggle_roster"))
		} else if !a.main.fits() {
			a.state.SetStatus(true, "the window is too narrow for the contact list")
		}
	default:
		return false
	}
	return true
}

// keyName spells a key event as config.CanonicalKey does.
func keyName(ev *tcell.EventKey) string {
	m := ev.Modifiers()
	ctrl, alt, shift := m&tcell.ModCtrl != 0, m&tcell.ModAlt != 0, m&tcell.ModShift != 0
	base := ""
	switch k := ev.Key(); {
	case k == tcell.KeyRune:
		if ev.Rune() == ' ' {
			base = "Space"
		} else {
			base = strings.ToLower(string(ev.Rune()))
		}
		shift = false // the character says it
	case k >= tcell.KeyCtrlA && k <= tcell.KeyCtrlZ && k != tcell.KeyTab && k != tcell.KeyEnter && k != tcell.KeyBackspace:
		ctrl, base = true, string(rune('A'+k-tcell.KeyCtrlA))
	case k == tcell.KeyBacktab:
		shift, base = true, "Tab"
	case k == tcell.KeyTab:
		base = "Tab"
	case k == tcell.KeyEnter:
		base = "Enter"
	case k == tcell.KeyBackspace || k == tcell.KeyBackspace2:
		base = "Backspace"
	case k == tcell.KeyEscape:
		base = "Esc"
	case k >= tcell.KeyF1 && k <= tcell.KeyF12:
		base = "F" + strconv.Itoa(int(k-tcell.KeyF1)+1)
	default:
		base = namedKeys[k]
		if base == "" {
			return ""
		}
	}
	return config.KeySpelling(ctrl, alt, shift, base)
}

var namedKeys = map[tcell.Key]string{
	tcell.KeyUp: "Up", tcell.KeyDown: "Down", tcell.KeyLeft: "Left", tcell.KeyRight: "Right",
	tcell.KeyHome: "Home", tcell.KeyEnd: "End", tcell.KeyPgUp: "PgUp", tcell.KeyPgDn: "PgDn",
	tcell.KeyInsert: "Insert", tcell.KeyDelete: "Delete",
}

func (a *App) toggleFocus() {
	if a.tv.GetFocus() == a.composer && !a.main.shown {
		a.state.SetStatus(true, "the contact list is hidden: %s shows it", a.keyFor("toggle_roster"))
		return
	}
	if a.tv.GetFocus() == a.composer {
		a.tv.SetFocus(a.roster)
	} else {
		a.tv.SetFocus(a.composer)
	}
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
	a.leaveSelection()
	a.state.Current().leave()
	a.state.Active = i
	c := a.state.Current()
	c.Unread = 0
	a.markSeen()
	if c.Conv.Kind == chat.KindRoom {
		if r := a.state.Room(c.Account, c.Conv.JID); r != nil {
			r.Unread, r.Mentions = 0, 0
		}
	}
	if !c.IsConsole() {
		if acct := a.state.Account(c.Account); acct != nil {
			if ct := acct.Roster.Get(c.Conv.JID); ct != nil && c.Conv.Kind == chat.KindChat {
				ct.Unread = 0
			}
		}
		if st, ok := c.States.Focus(now, true); ok {
			a.sendState(c, st)
		}
	}
}

// openFromRoster opens a conversation, or the request of someone who asks
// to see our presence.
func (a *App) openFromRoster(account, jid string) {
	if acct := a.state.Account(account); acct != nil {
		if c := acct.Roster.Get(jid); c != nil && c.PendingIn {
			a.openRequest(account, jid, c.RequestNick)
			return
		}
	}
	a.openChat(account, jid)
}

// markSeen tells the peer of the active tab that we read its newest
// message (XEP-0333), once: only when the tab shows its newest lines.
func (a *App) markSeen() {
	c := a.state.Current()
	if c.IsConsole() || c.Scroll > 0 {
		return
	}
	for i := len(c.Lines) - 1; i >= 0; i-- {
		l := c.Lines[i]
		if l.Kind != LineIn || l.ID == "" {
			continue
		}
		if l.Markable && l.ID != c.marked {
			c.marked = l.ID
			if acct := a.state.Account(c.Account); acct != nil && acct.Client != nil && acct.Conn == "online" {
				acct.Client.Do(chat.MarkDisplayed{Conv: c.Conv, ID: l.ID})
			}
		}
		return
	}
}

// startCorrection puts our last message in the composer to be corrected.
func (a *App) startCorrection() {
	c := a.state.Current()
	l := c.lastOwn()
	if c.IsConsole() || l == nil {
		a.state.SetStatus(true, "no message of yours to correct here")
		return
	}
	a.correcting = l.ID
	a.composer.SetText(l.Body, true)
	a.tv.SetFocus(a.composer)
	a.state.SetStatus(false, "correcting your last message: Enter sends the correction, Esc cancels")
}

// loadFresh asks for the latest history of every tab just opened.
func (a *App) loadFresh() {
	for _, c := range a.state.TakeFresh() {
		a.loadOlder(c)
	}
}

// loadOlder asks the account for the page of history before what c shows.
func (a *App) loadOlder(c *Conversation) {
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil || c.Loading || c.IsConsole() {
		return
	}
	c.Loading = true
	acct.Client.Do(chat.LoadHistory{Conv: c.Conv, Before: c.oldestStored(), Limit: historyPage})
}

// historyPage is how many stored messages a tab reads at a time.
const historyPage = 100

// scrollUp scrolls back and, at the top of what is loaded, reads more.
func (a *App) scrollUp(rows int) {
	c := a.state.Current()
	if a.conv.AtTop() && c.More {
		a.loadOlder(c)
	}
	a.conv.ScrollBy(rows)
}

// openChat opens (or goes to) the chat with a contact's bare JID.
func (a *App) openChat(account, jid string) {
	a.openConv(account, chat.ChatWith(jid))
	a.omemoLookUp(account, jid) // omemo.go
}

// openConv opens (or goes to) a conversation's tab and puts the cursor in
// the composer.
func (a *App) openConv(account string, conv chat.Conv) {
	_, i := a.state.Open(account, conv)
	a.loadFresh()
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
		acct.Client.Do(chat.SendChatState{Conv: c.Conv, State: st})
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
func (a *App) submit(text string) {
	c := a.state.Current()
	if f := strings.Fields(text); len(f) == 0 || f[0] != "/react" {
		a.sel.react = nil // the composer was put to another use
	}
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		a.composer.Clear()
		a.command(text)
		return
	}
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	if c.IsConsole() {
		a.state.SetStatus(true, "this is the console: open a conversation first (Enter on a contact, Ctrl+K, or /msg JID)")
		return
	}
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil {
		return
	}
	if c.Conv.Kind != chat.KindChat {
		// A room (or someone in it) gab is not in: a tab reopened from
		// the last run, or one left. The text stays in the composer.
		if r := acct.rooms().Get(c.Conv.Room()); r == nil || !r.State.In() {
			a.state.SetStatus(true, "you are not in %s: /join it first", roomText(c.Conv.Room()))
			return
		}
	}
	switch r := a.sel.reply; {
	case a.correcting != "":
		acct.Client.Do(chat.CorrectMessage{Conv: c.Conv, ReplaceID: a.correcting, Body: text})
		a.correcting = ""
	case r != nil && r.conv == c:
		acct.Client.Do(chat.SendMessage{Conv: c.Conv, Body: text, ReplyTo: r.id, Encrypt: a.state.encrypting(c)})
		a.sel.reply = nil
	default:
		acct.Client.Do(chat.SendMessage{Conv: c.Conv, Body: text, Encrypt: a.state.encrypting(c)})
	}
	c.States.MessageSent(a.state.Now())
	a.schedule(c)
	a.composer.Clear()
	c.Scroll = 0
	c.Mark = -1
}

// candidates feeds Tab completion.
func (a *App) candidates(line string) []string {
	if nicks, ok := a.nickCandidates(line); ok {
		return nicks
	}
	cmds := make([]string, 0, len(commandHelp))
	for _, c := range commandHelp {
		cmds = append(cmds, strings.Fields(c[0])[0])
	}
	var jids, names []string
	for _, acct := range a.state.Accounts {
		for _, c := range acct.Roster.Contacts() {
			// Remote text, going into the composer: cleaned like any label.
			jids = append(jids, plainText(c.JID))
			if c.Name != "" {
				names = append(names, plainText(c.Name))
			}
		}
	}
	return completions(line, cmds, jids, names)
}

// rightPane is the tab bar, the conversation and the composer. Before
// each draw it gives the composer the rows its text needs at the width
// the pane has now, leaving the conversation at least as many.
type rightPane struct {
	*tview.Flex
	composer *Composer
}

func (p *rightPane) Draw(screen tcell.Screen) {
	_, _, w, h := p.GetRect()
	rows := min(p.composer.WantRows(w), max(1, (h-1)/2))
	p.ResizeItem(p.composer, rows, 0)
	p.Flex.Draw(screen)
}

// mainPane is the contact list beside the right pane. The list shows when
// the user wants it and the window leaves the conversation minChatWidth
// columns beside it.
type mainPane struct {
	*tview.Flex
	roster *RosterView
	right  *rightPane
	width  int  // the list's columns (ui.roster_width)
	want   bool // toggle_roster
	shown  bool // as last laid out
}

// minChatWidth is the narrowest the conversation gets beside the list.
const minChatWidth = 40

func (p *mainPane) fits() bool {
	_, _, w, _ := p.GetRect()
	return w >= p.width+minChatWidth
}

// lay puts the list (when show) and the right pane in the row.
func (p *mainPane) lay(show bool) {
	p.Clear()
	if show {
		p.AddItem(p.roster, p.width, 0, false)
	}
	p.AddItem(p.right, 0, 1, true)
	p.shown = show
}

func (p *mainPane) Draw(screen tcell.Screen) {
	if show := p.want && p.fits(); show != p.shown {
		p.lay(show)
	}
	p.Flex.Draw(screen)
}

// PasteHandler passes a paste on to what has the focus. The list may have
// stepped aside while it had the focus (the window narrowed): it is no
// longer in the row, but its handler still hands the paste to the
// composer, so nothing pasted is lost.
func (p *mainPane) PasteHandler() func(string, func(tview.Primitive)) {
	if !p.shown && p.roster.HasFocus() {
		return p.roster.PasteHandler()
	}
	return p.Flex.PasteHandler()
}

// HasFocus counts the list as inside the pane even while it stands aside,
// so tview still delivers what is meant for it.
func (p *mainPane) HasFocus() bool {
	return p.Flex.HasFocus() || !p.shown && p.roster.HasFocus()
}

// Below this size gab shows only a note that the window is too small.
const minWidth, minHeight = 40, 10

// sizeGuard draws the interface, or in a window too small for it a note
// saying so; keys still work (the quit key quits).
type sizeGuard struct {
	*tview.Pages
	quit string // the quit key, for the note
}

func (g *sizeGuard) Draw(screen tcell.Screen) {
	x, y, w, h := g.GetRect()
	if w >= minWidth && h >= minHeight {
		g.Pages.Draw(screen)
		return
	}
	screen.HideCursor()
	style := tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background)
	for i := 0; i < h; i++ {
		fill(screen, x, y+i, w, style)
	}
	lines := []string{"window too small", fmt.Sprintf("%d×%d, gab needs %d×%d", w, h, minWidth, minHeight), g.quit + " quits"}
	if width(lines[1]) > w {
		// Two lines rather than one cut: the size needed is the point.
		lines = []string{lines[0], fmt.Sprintf("%d×%d", w, h), fmt.Sprintf("needs %d×%d", minWidth, minHeight), lines[2]}
	}
	top := y + max(0, (h-len(lines))/2)
	for i, l := range lines {
		if top+i < y+h {
			lw := width(l)
			drawText(screen, x+max(0, (w-lw)/2), top+i, w, l, style)
		}
	}
}
