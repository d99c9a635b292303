package ui

import (
	"github.com/gab-chat/gab/chat"
	"sort"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// jumpTarget is one thing quick-jump can open: a contact or an open tab.
type jumpTarget struct {
	account string
	conv    chat.Conv // zero: the console
	label   string    // remote text: a name and JID
	score   int
	storeID int64 // for search results: the message
}

// fuzzyScore matches query against s as a subsequence, case-insensitively.
// Higher is better; -1 means no match. Consecutive and early matches, and
// matches at word starts, score higher.
func fuzzyScore(query, s string) int {
	q := []rune(strings.ToLower(query))
	if len(q) == 0 {
		return 0
	}
	r := []rune(strings.ToLower(s))
	score, qi, last := 0, 0, -2
	for i := 0; i < len(r) && qi < len(q); i++ {
		if r[i] != q[qi] {
			continue
		}
		score += 10
		if i == last+1 {
			score += 15
		}
		if i == 0 || strings.ContainsRune(" @._-", r[i-1]) {
			score += 10
		}
		score -= i / 4
		last = i
		qi++
	}
	if qi < len(q) {
		return -1
	}
	return score
}

// JumpList shows quick-jump matches, drawn cell by cell.
type JumpList struct {
	*tview.Box
	items    []jumpTarget
	selected int
}

// Draw draws the matches, the selected one reversed.
func (j *JumpList) Draw(screen tcell.Screen) {
	j.Box.DrawForSubclass(screen, j)
	x, y, w, h := j.GetInnerRect()
	top := max(0, j.selected-h+1)
	for i := 0; i < h && top+i < len(j.items); i++ {
		style := tcell.StyleDefault
		if top+i == j.selected {
			style = style.Reverse(true)
			fill(screen, x, y+i, w, style)
		}
		drawText(screen, x+1, y+i, w-1, j.items[top+i].label, style)
	}
	if len(j.items) == 0 {
		drawText(screen, x+1, y, w-1, "no match", tcell.StyleDefault.Foreground(theme.Dim))
	}
}

const jumpPage = "jump"

// jumpTargets lists open tabs, the rooms and every contact.
func (a *App) jumpTargets() []jumpTarget {
	var out []jumpTarget
	seen := map[string]bool{}
	add := func(account string, conv chat.Conv, label string) {
		if k := account + "\x00" + string(conv.Kind) + "\x00" + conv.JID; !seen[k] {
			seen[k] = true
			out = append(out, jumpTarget{account: account, conv: conv, label: label})
		}
	}
	for _, c := range a.state.Convs {
		if c.IsConsole() {
			add("", chat.Conv{}, "console")
			continue
		}
		add(c.Account, c.Conv, a.targetLabel(c.Account, c.Conv))
	}
	for _, acct := range a.state.Accounts {
		if acct.Rooms != nil {
			for _, r := range acct.Rooms.All() {
				conv := chat.RoomConv(r.JID)
				add(acct.Name, conv, a.targetLabel(acct.Name, conv))
			}
		}
		for _, c := range acct.Roster.Sorted(a.state.Order, true) {
			conv := chat.ChatWith(c.JID)
			add(acct.Name, conv, a.targetLabel(acct.Name, conv))
		}
	}
	return out
}

func (a *App) targetLabel(account string, conv chat.Conv) string {
	label := conv.JID
	if acct := a.state.Account(account); acct != nil && conv.Kind == chat.KindChat {
		if c := acct.Roster.Get(conv.JID); c != nil && c.Name != "" {
			label = c.Name + "  " + conv.JID
		}
	}
	if conv.Kind == chat.KindRoom {
		label += "  (room)"
	}
	if len(a.state.Accounts) > 1 {
		label += "  (" + account + ")"
	}
	return label
}

// filterBy returns what shows, for a query typed, the targets of all
// that match it, best first, with the first selected.
func (l *JumpList) filterBy(all []jumpTarget) func(q string) {
	return func(q string) {
		l.items = l.items[:0]
		for _, t := range all {
			if t.score = fuzzyScore(q, t.label); t.score >= 0 {
				l.items = append(l.items, t)
			}
		}
		sort.SliceStable(l.items, func(i, j int) bool { return l.items[i].score > l.items[j].score })
		l.selected = 0
	}
}

// jumpDialog is Ctrl+K: type part of a name or JID, Enter opens it.
func (a *App) jumpDialog() {
	if a.pages.HasPage(jumpPage) {
		return
	}
	all := a.jumpTargets()
	list := &JumpList{Box: tview.NewBox()}
	filter := list.filterBy(all)
	filter("")
	input := tview.NewInputField().SetLabel("Go to: ").SetFieldStyle(tcell.StyleDefault.Underline(true))
	input.SetChangedFunc(filter)
	input.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch ev.Key() {
		case tcell.KeyUp, tcell.KeyCtrlP:
			list.selected = max(0, list.selected-1)
			return nil
		case tcell.KeyDown, tcell.KeyCtrlN:
			list.selected = min(len(list.items)-1, list.selected+1)
			return nil
		case tcell.KeyEnter:
			a.closeDialog(jumpPage)
			if list.selected < len(list.items) && len(list.items) > 0 {
				t := list.items[list.selected]
				if t.conv.IsZero() {
					a.switchTo(0)
				} else {
					a.openConv(t.account, t.conv)
				}
			}
			return nil
		case tcell.KeyEscape, tcell.KeyCtrlK:
			a.closeDialog(jumpPage)
			return nil
		}
		return ev
	})
	box := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(input, 1, 0, true).AddItem(list, 0, 1, false)
	box.SetBorder(true).SetTitle(" Quick jump (Ctrl+K) ")
	a.showDialog(jumpPage, box, 64, 16)
}
