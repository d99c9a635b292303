package ui

import (
	"strings"
	"unicode"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/room"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/rivo/uniseg"
)

// Selecting a message to act on: select_message gives the conversation
// view the focus with the newest message selected; keys move the
// selection like a list's and act on the message (reply, react, correct,
// retract, moderate, copy, open its links, go to the message it
// answers); Esc gives the composer its focus back.

// selection is the selection mode's state, and what the composer's next
// text answers or reacts to.
type selection struct {
	conv *Conversation // the tab selected in; nil while not selecting
	id   int64         // the selected message's store row
	// ask is a y/N question about the selected message, waiting for its
	// answer: y runs it, any other key drops it. askText and askQuote are
	// the question and the first line of the message it is about, which
	// the status line shows while ask waits (see StatusLine.Question).
	ask      func()
	askText  string
	askQuote string
	// older: Up at the oldest message loaded asked for older ones; the
	// selection moves up when they come.
	older bool
	// jumpTo: the row asked for with LoadAround, to select when it comes.
	jumpTo int64
	reply  *target // the message the composer's next text answers
	react  *target // the message /react reacts to
	// normalHint is the status line's hint to show again after selecting.
	normalHint string
}

// target is a message the composer's text is about.
type target struct {
	conv *Conversation
	id   int64
	who  string // remote text
	text string // its first line, remote text
}

// selectable lines are messages with a store row: the commands name a
// message by it.
func selectable(l *Line) bool {
	return (l.Kind == LineIn || l.Kind == LineOut) && l.StoreID != 0
}

// selecting reports whether a message is selected and shown so.
func (a *App) selecting() bool {
	return a.sel.conv != nil && a.sel.conv == a.state.Current() && a.tv.GetFocus() == a.conv
}

// selectedLine is the selected message's line, nil when it is no longer
// in the window.
func (a *App) selectedLine() *Line {
	if a.sel.conv == nil {
		return nil
	}
	if i := lineIndex(a.sel.conv, a.sel.id); i >= 0 {
		return &a.sel.conv.Lines[i]
	}
	return nil
}

func lineIndex(c *Conversation, id int64) int {
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if c.Lines[i].StoreID == id {
			return i
		}
	}
	return -1
}

// newestSelectable is the index of the newest selectable line, -1 for none.
func newestSelectable(c *Conversation) int {
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if selectable(&c.Lines[i]) {
			return i
		}
	}
	return -1
}

// selectionHint is the status line's hint while selecting.
func (a *App) selectionHint() string {
	move := a.keyFor("select_up") + "/" + a.keyFor("select_down")
	if a.bindings["Up"] == "select_up" && a.bindings["Down"] == "select_down" {
		move = "↑↓"
	}
	// Esc comes early: at 80 columns the hint is cut short, and how to
	// leave must show.
	return "selecting: " + move + " move · Esc leaves · " +
		a.keyFor("reply") + " reply · " + a.keyFor("react") + " react · " + a.keyFor("edit_selected") + " correct · " +
		a.keyFor("retract") + " retract · " + a.keyFor("moderate") + " moderate · " + a.keyFor("copy") + " copy · " +
		a.keyFor("open_links") + " links · " + a.keyFor("go_to_reply") + " quoted · F1 keys"
}

// startSelection selects the newest message of the current tab.
func (a *App) startSelection() {
	c := a.state.Current()
	i := newestSelectable(c)
	if c.IsConsole() || i < 0 {
		a.state.SetStatus(true, "no message to select here")
		return
	}
	a.selectAt(c, c.Lines[i].StoreID)
}

// selectAt selects the message with store row id in c and gives the
// view the focus.
func (a *App) selectAt(c *Conversation, id int64) {
	if a.sel.conv == nil {
		a.sel.normalHint = a.status.Hint
	}
	a.sel.conv, a.sel.id, a.sel.ask, a.sel.older = c, id, nil, false
	a.status.Hint = a.selectionHint()
	a.tv.SetFocus(a.conv)
}

// leaveSelection ends selecting; the composer gets the focus.
func (a *App) leaveSelection() {
	if a.sel.conv == nil {
		return
	}
	a.sel.conv, a.sel.ask, a.sel.older = nil, nil, false
	a.status.Hint = a.sel.normalHint
	if a.tv.GetFocus() == a.conv {
		a.tv.SetFocus(a.composer)
	}
}

// selectionGone ends selecting, before a frame, once the view has lost
// the focus other than to a dialog (a click on the composer or the
// list), so that the status line stops listing the selection's keys. It
// runs while drawing: HasFocus, not GetFocus.
func (a *App) selectionGone() {
	if a.sel.conv != nil && !a.dialogOpen() && (!a.conv.HasFocus() || a.sel.conv != a.state.Current()) {
		a.sel.conv, a.sel.ask, a.sel.older = nil, nil, false
		a.status.Hint = a.sel.normalHint
	}
}

// selectionKey handles a key while selecting; false lets it go on (to
// the bindings that work everywhere).
func (a *App) selectionKey(ev *tcell.EventKey) bool {
	if ask := a.sel.ask; ask != nil {
		a.sel.ask = nil
		if ev.Key() == tcell.KeyRune && (ev.Rune() == 'y' || ev.Rune() == 'Y') && ev.Modifiers()&(tcell.ModAlt|tcell.ModCtrl) == 0 {
			ask()
		} else {
			a.state.SetStatus(false, "nothing done")
		}
		return true
	}
	action := a.bindings[keyName(ev)]
	if ev.Key() == tcell.KeyEscape || action == "select_message" {
		a.leaveSelection()
		return true
	}
	c := a.sel.conv
	switch action {
	case "select_up":
		a.moveSelection(c, -1)
	case "select_down":
		a.moveSelection(c, 1)
	case "page_up":
		a.moveSelectionRows(c, -a.conv.PageRows())
	case "page_down":
		a.moveSelectionRows(c, a.conv.PageRows())
	case "scroll_top":
		for i := range c.Lines {
			if selectable(&c.Lines[i]) {
				a.sel.id = c.Lines[i].StoreID
				break
			}
		}
		if c.More {
			a.loadOlder(c)
		}
	case "scroll_bottom":
		if i := newestSelectable(c); i >= 0 {
			a.sel.id = c.Lines[i].StoreID
		}
	case "focus":
		a.leaveSelection()
	case "help":
		return false
	default:
		if config.IsSelectionAction(action) {
			if l := a.selectedLine(); l != nil {
				a.actOnSelected(c, l, action)
			} else {
				a.state.SetStatus(true, "the selected message is no longer shown")
			}
			return true
		}
		if action != "" {
			// An action of everywhere (another tab, quit): selecting ends.
			a.leaveSelection()
			return false
		}
		if ev.Key() == tcell.KeyRune && !unicode.IsSpace(ev.Rune()) {
			a.state.SetStatus(false, "selecting a message: Esc goes back to the composer")
		}
	}
	return true
}

// moveSelection selects the next selectable message in direction dir
// (-1 older, +1 newer). Past the oldest loaded, older ones are read from
// the store, as scrolling does, and the selection moves when they come.
func (a *App) moveSelection(c *Conversation, dir int) {
	i := lineIndex(c, a.sel.id)
	if i < 0 {
		if j := newestSelectable(c); j >= 0 {
			a.sel.id = c.Lines[j].StoreID
		}
		return
	}
	for j := i + dir; j >= 0 && j < len(c.Lines); j += dir {
		if selectable(&c.Lines[j]) {
			a.sel.id = c.Lines[j].StoreID
			return
		}
	}
	switch {
	case dir > 0:
		a.state.SetStatus(false, "this is the newest message")
	case c.More:
		a.sel.older = true
		a.loadOlder(c)
		a.state.SetStatus(false, "reading older messages…")
	default:
		a.state.SetStatus(false, "this is the first message")
	}
}

// moveSelectionRows moves the selection by about rows screen rows
// (negative: back in time), for PgUp and PgDn.
func (a *App) moveSelectionRows(c *Conversation, rows int) {
	_, _, w, _ := a.conv.GetInnerRect()
	i := lineIndex(c, a.sel.id)
	if i < 0 {
		a.moveSelection(c, 1)
		return
	}
	dir, left := 1, rows
	if rows < 0 {
		dir, left = -1, -rows
	}
	for j := i + dir; j >= 0 && j < len(c.Lines) && left > 0; j += dir {
		left -= len(a.conv.lineRows(&c.Lines[j], max(1, w), c.Conv.Kind))
		if selectable(&c.Lines[j]) {
			a.sel.id = c.Lines[j].StoreID
		}
	}
	if left > 0 {
		a.moveSelection(c, dir) // at an end: say so, or read older ones
	}
}

// selectionLoaded follows a page of history into the tab selected in:
// Up waiting at the oldest message moves on; a quoted message asked for
// is selected.
func (a *App) selectionLoaded(account string, e chat.HistoryLoaded) {
	c, _ := a.state.Find(account, e.Conv)
	if c == nil {
		return
	}
	if a.sel.jumpTo != 0 && e.Around == a.sel.jumpTo {
		a.sel.jumpTo = 0
		if lineIndex(c, e.Around) >= 0 && c == a.state.Current() {
			a.selectAt(c, e.Around)
		}
		return
	}
	if a.sel.older && c == a.sel.conv {
		a.sel.older = false
		a.moveSelection(c, -1)
	}
}

// selectedID is what the view shows selected, while it has the focus.
// Called while drawing, when the application's lock is held: no
// GetFocus here (the view asks HasFocus), and nothing changes here.
func (a *App) selectedID() int64 {
	c := a.sel.conv
	if c == nil || c != a.state.Current() {
		return 0
	}
	return a.sel.id
}

// selectionLeft ends selecting once the selected message has left the
// window (trimmed by a flood, or the tab's lines replaced by a page of
// history), saying so: no other message becomes the one the next key
// acts on. Called after every change the interface applies.
func (a *App) selectionLeft() {
	c := a.sel.conv
	// A page of older messages only adds lines before the selected one,
	// so reading them is no reason to wait: only a jump to a quoted
	// message, which replaces the tab's lines, picks the next one itself.
	if c == nil || lineIndex(c, a.sel.id) >= 0 || a.sel.jumpTo != 0 {
		return
	}
	a.leaveSelection()
	a.state.SetStatus(true, "selecting ended: the message left the window")
}

// quoted is a message's first line, shortened, in quotation marks, for
// a question about it.
func quoted(text string) string {
	return "“" + shorten(text, quoteCells) + "”"
}

// quoteCells is how wide a question's quote of a message may be.
const quoteCells = 40

// question is the y/N question waiting for its answer and the text of
// the message it is about; "" when none waits.
func (a *App) question() (text, quote string) {
	if a.sel.ask == nil {
		return "", ""
	}
	return a.sel.askText, a.sel.askQuote
}

// banner says what the composer's text will answer or react to.
func (a *App) banner() string {
	c := a.state.Current()
	if t := a.sel.react; t != nil && t.conv == c {
		return "reacting to " + shorten(t.who, nickCells) + ": " + t.text + " · type emojis, Enter sends, Esc cancels"
	}
	if t := a.sel.reply; t != nil && t.conv == c {
		return "replying to " + shorten(t.who, nickCells) + ": " + t.text + " · Esc cancels"
	}
	return ""
}

// cancelTargets drops a reply or reaction waiting in the composer; it
// reports whether there was one.
func (a *App) cancelTargets() bool {
	c := a.state.Current()
	switch {
	case a.sel.react != nil && a.sel.react.conv == c:
		a.sel.react = nil
		a.composer.Clear()
		a.state.SetStatus(false, "reaction cancelled")
	case a.sel.reply != nil && a.sel.reply.conv == c:
		a.sel.reply = nil
		a.state.SetStatus(false, "reply cancelled")
	default:
		return false
	}
	return true
}

func targetOf(c *Conversation, l *Line) *target {
	text := hideKeys(firstWords(l.Body))
	if l.Retracted != nil {
		text = tombstone(l.Retracted)
	} else if text == "" && l.File != nil {
		text = fileText(l.File)
	}
	return &target{conv: c, id: l.StoreID, who: l.Sender, text: text}
}

// firstWords is the first line of s with something on it besides
// spaces: a message that starts with blank lines is named by its words.
func firstWords(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimRight(line, "\r\n"); strings.TrimSpace(line) != "" {
			return line
		}
	}
	return ""
}

// actOnSelected does a selection action to the selected line l of c.
func (a *App) actOnSelected(c *Conversation, l *Line, action string) {
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil {
		return
	}
	switch action {
	case "reply":
		if l.Retracted != nil {
			a.state.SetStatus(true, "that message was removed")
			return
		}
		a.correcting = ""
		a.sel.react = nil
		a.sel.reply = targetOf(c, l)
		a.leaveSelection()
	case "react":
		if l.Retracted != nil {
			a.state.SetStatus(true, "that message was removed")
			return
		}
		a.correcting = ""
		a.sel.react = targetOf(c, l)
		a.leaveSelection()
		a.composer.SetText("/react ", true)
	case "edit_selected":
		own := c.lastOwn()
		if own == nil || own.StoreID != l.StoreID || l.Retracted != nil {
			a.state.SetStatus(true, "only your last message here can be corrected")
			return
		}
		a.leaveSelection()
		a.sel.reply, a.sel.react = nil, nil
		a.startCorrection()
	case "retract":
		if l.Kind != LineOut {
			if c.Conv.Kind == chat.KindRoom {
				a.state.SetStatus(true, "only your own messages can be retracted (a room's moderators can remove others': %s)", a.keyFor("moderate"))
			} else {
				a.state.SetStatus(true, "only your own messages can be retracted")
			}
			return
		}
		if l.Retracted != nil {
			a.state.SetStatus(true, "that message was removed already")
			return
		}
		id := l.StoreID
		a.sel.ask = func() {
			acct.Client.Do(chat.RetractMessage{Conv: c.Conv, StoreID: id})
			a.state.SetStatus(false, "asked to retract the message")
		}
		// The question names the message, so an answer is never about
		// another one; the key comes first, and while the question waits
		// the status line makes room for it (see StatusLine.Question).
		a.sel.askText, a.sel.askQuote = "retract for everyone? y: yes, any other key: no", targetOf(c, l).text
		a.state.SetStatus(true, "%s · %s", a.sel.askText, quoted(a.sel.askQuote))
	case "moderate":
		a.moderate(acct, c, l)
	case "copy":
		text := l.Body
		if l.Retracted != nil {
			a.state.SetStatus(true, "that message was removed")
			return
		}
		if text == "" && l.File != nil {
			text = l.File.URL
		}
		if a.screen == nil {
			return
		}
		// tcell sends OSC 52 with the text in base64, so nothing in it
		// reaches the terminal as a sequence; controls are dropped so
		// that a paste of it cannot end a shell's bracketed paste.
		a.screen.SetClipboard([]byte(clipText(text)))
		a.state.SetStatus(false, "copied to the terminal's clipboard (where the terminal allows it: OSC 52)")
	case "open_links":
		a.openSelectedLinks(c, l)
	case "go_to_reply":
		a.goToReply(acct, c, l)
	}
}

// clipText is text as it goes to the clipboard: line breaks and tabs
// kept, every other control character (escape, bidi overrides) dropped.
func clipText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if o, keep := cleanRune(r); !keep || o == Replacement && r != Replacement {
			return -1
		}
		return r
	}, s)
}

// openSelectedLinks opens the selected message's link: its last, as
// /open opens the conversation's newest.
func (a *App) openSelectedLinks(c *Conversation, l *Line) {
	a.openLinks(c, l, 1)
}

// goToReply selects the message l answers: where it is shown already,
// at once; otherwise the store reads it with its context, as a search
// result is opened, and it is selected when it comes.
func (a *App) goToReply(acct *Account, c *Conversation, l *Line) {
	if l.Reply == nil {
		a.state.SetStatus(true, "this message is not a reply")
		return
	}
	id := l.Reply.StoreID
	if id == 0 {
		a.state.SetStatus(true, "the message it answers is not stored here")
		return
	}
	if lineIndex(c, id) >= 0 {
		a.sel.id = id
		return
	}
	a.sel.jumpTo = id
	acct.Client.Do(chat.LoadAround{Conv: c.Conv, StoreID: id})
	a.state.SetStatus(false, "reading the message it answers…")
}

// moderate asks a reason for removing l from the room, then y/N.
func (a *App) moderate(acct *Account, c *Conversation, l *Line) {
	if c.Conv.Kind != chat.KindRoom {
		a.state.SetStatus(true, "moderation is for room messages")
		return
	}
	r := a.state.Room(c.Account, c.Conv.JID)
	var self *room.Occupant
	if r != nil {
		self = r.Self()
	}
	if self == nil || self.Role != room.Moderator {
		a.state.SetStatus(true, "only the room's moderators can remove a message")
		return
	}
	if l.Retracted != nil {
		a.state.SetStatus(true, "that message was removed already")
		return
	}
	id, who := l.StoreID, l.Sender
	input := tview.NewInputField().SetLabel("Reason (may be empty): ").SetFieldStyle(tcell.StyleDefault.Underline(true))
	question := &labelView{Box: tview.NewBox()}
	question.text = "Enter goes on to y/N; Esc cancels"
	quote := &labelView{Box: tview.NewBox()}
	quote.text = quoted(targetOf(c, l).text)
	reason, asking := "", false
	box := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(quote, 1, 0, false).AddItem(input, 1, 0, true).AddItem(question, 1, 0, false)
	box.SetBorder(true).SetTitle(" Remove " + Sanitize(shorten(who, nickCells)) + "'s message for everyone ")
	input.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if asking {
			a.closeDialog(moderatePage)
			if ev.Key() == tcell.KeyRune && (ev.Rune() == 'y' || ev.Rune() == 'Y') && ev.Modifiers()&(tcell.ModAlt|tcell.ModCtrl) == 0 {
				acct.Client.Do(chat.ModerateMessage{Conv: c.Conv, StoreID: id, Reason: reason})
				a.state.SetStatus(false, "asked the room to remove the message")
			} else {
				a.state.SetStatus(false, "nothing done")
			}
			return nil
		}
		switch ev.Key() {
		case tcell.KeyEscape:
			a.closeDialog(moderatePage)
			a.state.SetStatus(false, "nothing done")
			return nil
		case tcell.KeyEnter:
			reason, asking = strings.TrimSpace(input.GetText()), true
			question.text = "Remove it for everyone? y: yes, any other key: no"
			return nil
		}
		return ev
	})
	a.showDialog(moderatePage, box, 64, 5)
}

const moderatePage = "moderate"

// labelView is one row of our own text.
type labelView struct {
	*tview.Box
	text string
}

func (v *labelView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, _ := v.GetInnerRect()
	drawText(screen, x, y, w, v.text, tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background).Bold(true))
}

// reactCommand is /react [EMOJI…]: it toggles each emoji of ours on the
// message picked with the react key, else on the newest message from the
// other side; without emojis it removes ours.
func (a *App) reactCommand(rest string) {
	c := a.state.Current()
	t := a.sel.react
	a.sel.react = nil
	var l *Line
	if t != nil && t.conv == c {
		if i := lineIndex(c, t.id); i >= 0 {
			l = &c.Lines[i]
		}
	} else {
		for i := len(c.Lines) - 1; i >= 0; i-- {
			if c.Lines[i].Kind == LineIn && selectable(&c.Lines[i]) && c.Lines[i].Retracted == nil {
				l = &c.Lines[i]
				break
			}
		}
	}
	if c.IsConsole() || l == nil {
		a.state.SetStatus(true, "no message to react to here (select one with %s)", a.keyFor("select_message"))
		return
	}
	given, err := parseEmojis(rest)
	if err != nil {
		// Nothing lost: the line stays to be fixed, and the message
		// picked stays the one it reacts to.
		a.state.SetStatus(true, "%v", err)
		a.sel.react = t
		a.composer.SetText("/react "+rest, true)
		return
	}
	var set []string
	for _, r := range l.Reactions {
		if r.Own {
			set = append(set, r.Emoji)
		}
	}
	if len(given) == 0 {
		set = nil
	}
	for _, e := range given {
		if i := indexOf(set, e); i >= 0 {
			set = append(set[:i], set[i+1:]...)
		} else {
			set = append(set, e)
		}
	}
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil {
		return
	}
	acct.Client.Do(chat.SendReaction{Conv: c.Conv, StoreID: l.StoreID, Emojis: set})
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// parseEmojis splits what follows /react into emojis, one grapheme
// cluster each (spaces between them optional); anything that is not an
// emoji is refused.
func parseEmojis(s string) ([]string, error) {
	var out []string
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		e := g.Str()
		if strings.TrimSpace(e) == "" {
			continue
		}
		if !isEmoji(e) {
			return nil, errNotEmoji(e)
		}
		if indexOf(out, e) < 0 {
			out = append(out, e)
		}
	}
	return out, nil
}

type errNotEmoji string

func (e errNotEmoji) Error() string {
	return "“" + Sanitize(string(e)) + "” is not an emoji: /react takes emojis, like /react 👍"
}

// isEmoji reports whether a grapheme cluster is a pictograph or symbol
// (what reactions are), not a letter, digit or punctuation alone.
func isEmoji(cluster string) bool {
	for _, r := range cluster {
		if r == 0x20E3 || unicode.Is(unicode.So, r) || (r >= 0x1F000 && r <= 0x1FAFF) {
			return true
		}
	}
	return false
}

// messageCommandName names the commands on one message, for "could not …".
func messageCommandName(c chat.Command) (string, bool) {
	switch c := c.(type) {
	case chat.SendReaction:
		return "react to the message in " + c.Conv.JID, true
	case chat.RetractMessage:
		return "retract the message in " + c.Conv.JID, true
	case chat.ModerateMessage:
		return "remove the message from " + c.Conv.JID, true
	}
	return "", false
}
