package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
)

// DefaultKeys are the bindings of every action in KeyActions; [keys] in
// gab.toml replaces an action's list.
var DefaultKeys = map[string][]string{
	"quit":           {"Ctrl+Q"},
	"help":           {"F1"},
	"status":         {"F2"},
	"quick_jump":     {"Ctrl+K"},
	"next_tab":       {"Ctrl+N", "Alt+Right"},
	"prev_tab":       {"Ctrl+P", "Alt+Left"},
	"close_tab":      {"Ctrl+W"},
	"toggle_offline": {"Ctrl+O"},
	"focus":          {"Tab", "Shift+Tab"},
	"page_up":        {"PgUp"},
	"page_down":      {"PgDn"},
	"scroll_top":     {"Home", "Alt+Home"},
	"scroll_bottom":  {"End", "Alt+End"},
	"correct":        {"Alt+Up"},
	"requests":       {"F4"},
	"toggle_roster":  {"F5"},
	// F6 beside F5: the list of a room's occupants, as F5 is the
	// contact list.
	"toggle_occupants": {"F6"},
	// Alt+S ("select") works in every terminal and in tmux; Ctrl+Up is
	// what Telegram Desktop uses to pick a message to answer, where the
	// terminal passes it on.
	"select_message": {"Alt+S", "Ctrl+Up"},
	// While a message is selected: single keys, as in a list.
	"select_up":     {"Up", "k"},
	"select_down":   {"Down", "j"},
	"reply":         {"r"},
	"react":         {"e", "+"},
	"edit_selected": {"c"},
	"retract":       {"d"},
	"moderate":      {"m"},
	"copy":          {"y"},
	"open_links":    {"o"},
	"go_to_reply":   {"Enter"},
	// Ctrl+X: cut short, as in editors and shells; free in the composer.
	"cancel_upload": {"Ctrl+X"},
}

// SelectionActions act on the selected message and only while one is
// selected (see select_message): they may be bound to a character alone,
// which types nothing then.
var SelectionActions = []string{"select_up", "select_down", "reply", "react", "edit_selected",
	"retract", "moderate", "copy", "open_links", "go_to_reply"}

// IsSelectionAction reports whether action is one of SelectionActions.
func IsSelectionAction(action string) bool { return slices.Contains(SelectionActions, action) }

// CanonicalKeyFor is CanonicalKey for a key bound to action: a
// selection action may also take a character alone ("r", "+"), spelt in
// lower case as the key reports it.
func CanonicalKeyFor(action, s string) (string, error) {
	if IsSelectionAction(action) && utf8.RuneCountInString(strings.TrimSpace(s)) == 1 {
		return strings.ToLower(strings.TrimSpace(s)), nil
	}
	return CanonicalKey(s)
}

// keyNames are the named keys, lower case to canonical.
var keyNames = map[string]string{}

func init() {
	for _, n := range []string{"Enter", "Tab", "Backspace", "Esc", "Up", "Down", "Left", "Right",
		"Home", "End", "PgUp", "PgDn", "Insert", "Delete", "Space"} {
		keyNames[strings.ToLower(n)] = n
	}
	for i := 1; i <= 12; i++ {
		keyNames["f"+strconv.Itoa(i)] = "F" + strconv.Itoa(i)
	}
	keyNames["escape"], keyNames["pageup"], keyNames["pagedown"], keyNames["del"], keyNames["return"] = "Esc", "PgUp", "PgDn", "Delete", "Enter"
}

// CanonicalKey reads a key as written in gab.toml ("ctrl+k", "Alt+Up",
// "F2") and returns it in the one spelling gab compares: modifiers in the
// order Ctrl, Alt, Shift, then the key; a letter upper case after Ctrl,
// lower case after Alt alone.
// A printable key needs Ctrl or Alt: bound alone it could not be typed
// (CanonicalKeyFor allows it for the actions on a selected message).
func CanonicalKey(s string) (string, error) {
	parts := strings.Split(s, "+")
	if strings.HasSuffix(s, "++") { // the plus key itself
		parts = append(parts[:len(parts)-2], "+")
	}
	base := parts[len(parts)-1]
	var ctrl, alt, shift bool
	for _, m := range parts[:len(parts)-1] {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "ctrl", "control", "c":
			ctrl = true
		case "alt", "meta", "m":
			alt = true
		case "shift", "s":
			shift = true
		default:
			return "", fmt.Errorf("%q: unknown modifier %q (use Ctrl, Alt or Shift)", s, m)
		}
	}
	base = strings.TrimSpace(base)
	if n, ok := keyNames[strings.ToLower(base)]; ok {
		base = n
	} else if utf8.RuneCountInString(base) == 1 {
		if !ctrl && !alt {
			return "", fmt.Errorf("%q: a character key needs Ctrl or Alt, or it could not be typed", s)
		}
		if ctrl {
			base = strings.ToUpper(base)
			if r := base[0]; len(base) != 1 || r < 'A' || r > 'Z' {
				return "", fmt.Errorf("%q: terminals send Ctrl only with letters", s)
			}
		} else {
			base = strings.ToLower(base) // Alt+W is the w key with Alt
		}
	} else {
		return "", fmt.Errorf("%q: unknown key %q", s, base)
	}
	return KeySpelling(ctrl, alt, shift, base), nil
}

// KeySpelling is a key with its modifiers as CanonicalKey spells it.
func KeySpelling(ctrl, alt, shift bool, base string) string {
	var b strings.Builder
	if ctrl {
		b.WriteString("Ctrl+")
	}
	if alt {
		b.WriteString("Alt+")
	}
	if shift {
		b.WriteString("Shift+")
	}
	b.WriteString(base)
	return b.String()
}

// keysOf is an action's keys as written: from [keys], else the defaults.
func (s Settings) keysOf(action string) []string {
	if keys, ok := s.Keys[action]; ok {
		return keys
	}
	return DefaultKeys[action]
}

// Bindings resolves the key bindings: every action's keys, from [keys] or
// the defaults, in canonical spelling, as key → action.
func (s Settings) Bindings() map[string]string {
	out := map[string]string{}
	for _, a := range KeyActions {
		for _, k := range s.keysOf(a) {
			if c, err := CanonicalKeyFor(a, k); err == nil {
				out[c] = a
			}
		}
	}
	return out
}

// checkKeys reports key names gab does not know and keys bound to two
// actions, at the lines of [keys] that cause them.
func (s Settings) checkKeys(lines map[string]int) Problems {
	var probs Problems
	owner := map[string]string{}
	for _, a := range KeyActions {
		for _, k := range s.keysOf(a) {
			c, err := CanonicalKeyFor(a, k)
			if err != nil {
				probs = append(probs, Problem{File: s.File, Line: lines["keys."+a], Msg: "keys." + a + ": " + err.Error()})
				continue
			}
			if prev, taken := owner[c]; taken && prev != a {
				line := lines["keys."+a]
				if line == 0 {
					line = lines["keys."+prev]
				}
				probs = append(probs, Problem{File: s.File, Line: line, Msg: fmt.Sprintf("%s is bound to both %s and %s", c, prev, a)})
				continue
			}
			owner[c] = a
		}
	}
	slices.SortStableFunc(probs, func(x, y Problem) int { return x.Line - y.Line })
	return probs
}

// ParseColor reads a colour as a theme writes it: a name ("green",
// "default"), "#rrggbb" or "colorN" (0–255).
func ParseColor(s string) (tcell.Color, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "default" || s == "" {
		return tcell.ColorDefault, true
	}
	if n, ok := strings.CutPrefix(s, "color"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 256 {
			return tcell.PaletteColor(i), true
		}
		return 0, false
	}
	if c := tcell.GetColor(s); c != tcell.ColorDefault {
		return c, true
	}
	return 0, false
}
