package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"mellium.im/xmpp/jid"
)

// languageTag is the shape of a BCP 47 language tag (RFC 5646): what
// xml:lang may hold.
var languageTag = regexp.MustCompile(`^([A-Za-z]{2,8}|[xXiI])(-[A-Za-z0-9]{1,8})*$`)

// The contact list's width, in columns.
const (
	MinRosterWidth = 12
	MaxRosterWidth = 80
)

// What becomes of subscription requests from strangers
// (Settings.StrangerRequests).
const (
	StrangersAsk    = "ask"    // listed and announced like any request
	StrangersIgnore = "ignore" // left unanswered, without a word
)

// Sort orders for the roster.
const (
	SortPresence = "presence"
	SortName     = "name"
)

// Settings is gab.toml: settings of the interface, shared by all accounts.
type Settings struct {
	File        string
	RosterSort  string // SortPresence or SortName
	ShowOffline bool
	TimeFormat  string // Go time layout for message timestamps
	RosterWidth int    // columns of the contact list, MinRosterWidth to MaxRosterWidth
	Language    string // preferred xml:lang for message bodies; empty for $LANG
	// StrangerRequests is what becomes of a subscription request from
	// someone not in the contacts: StrangersAsk or StrangersIgnore.
	StrangerRequests string
	// Styling draws messages with XEP-0393 message styling; off, their
	// text is plain.
	Styling bool
	// OpenCommand opens a link: the program and its arguments, the URL
	// appended as one more (never through a shell).
	OpenCommand []string

	Notify Notify
	Away   Away
	// Theme maps element names (see ThemeElements) to colours as written:
	// a name ("green", "default"), "#rrggbb" or "colorN".
	Theme map[string]string
	// Keys maps action names (see KeyActions) to keys as written
	// ("Ctrl+K", "F2"); actions not named keep DefaultKeys.
	Keys map[string][]string
}

// Notify says how gab tells of new messages in a tab not in view or while
// the terminal is not focused.
type Notify struct {
	Bell     bool     // ring the terminal bell
	Title    bool     // unread count in the window title
	Desktop  string   // DesktopOff, DesktopOSC777 or DesktopOSC9
	Command  string   // run by sh -c for each notification; "" for none
	ShowBody bool     // let the text of the message into notifications
	Mute     []string // bare JIDs never notified of
}

// Desktop notification escapes.
const (
	DesktopOff    = "off"
	DesktopOSC777 = "osc777"
	DesktopOSC9   = "osc9"
)

// Away is auto-away: presence turns away, then extended away, after so
// long without a key pressed; 0 turns a step off.
type Away struct {
	After   time.Duration
	XAAfter time.Duration
	Message string
}

// DefaultSettings are used when gab.toml is absent and for keys it omits.
func DefaultSettings() Settings {
	return Settings{RosterSort: SortPresence, ShowOffline: true, StrangerRequests: StrangersAsk, TimeFormat: "15:04", RosterWidth: 30,
		Styling: true, OpenCommand: DefaultOpenCommand(),
		Notify: Notify{Bell: true, Title: true, Desktop: DesktopOff},
		Away:   Away{After: 10 * time.Minute, XAAfter: 30 * time.Minute, Message: "away (idle)"}}
}

// ThemeElements are the parts of the screen a theme colours.
var ThemeElements = []string{
	"background", "text", "dim", "border", "border_focus", "title",
	"online", "away", "xa", "dnd", "offline", "group", "selected",
	"unread", "highlight", "error", "tab", "tab_active", "tab_unread",
	"status_bar", "status_text", "composer", "code", "quote",
}

// KeyActions are the actions a key can be bound to in [keys].
var KeyActions = []string{
	"quit", "help", "status", "quick_jump", "next_tab", "prev_tab", "close_tab",
	"toggle_offline", "focus", "page_up", "page_down", "scroll_top", "scroll_bottom", "correct",
	"requests",
	"toggle_roster", "toggle_occupants", "cancel_upload", "select_message",
	"select_up", "select_down", "reply", "react", "edit_selected", "retract", "moderate", "copy",
	"open_links", "go_to_reply",
}

func settingsFields(s *Settings) map[string]field {
	m := map[string]field{
		"ui": {kind: kindTable},
		"ui.roster_sort": {kindString, func(v any) error {
			switch v.(string) {
			case SortPresence, SortName:
				s.RosterSort = v.(string)
				return nil
			}
			return fmt.Errorf("%q is not a sort order; use %q or %q", v, SortPresence, SortName)
		}},
		"ui.show_offline": {kindBool, func(v any) error { s.ShowOffline = v.(bool); return nil }},
		"ui.requests_from_strangers": {kindString, func(v any) error {
			switch v.(string) {
			case StrangersAsk, StrangersIgnore:
				s.StrangerRequests = v.(string)
				return nil
			}
			return fmt.Errorf("%q is not one of %q or %q", v, StrangersAsk, StrangersIgnore)
		}},
		"ui.time_format": {kindString, func(v any) error {
			if v.(string) == "" {
				return errors.New("must not be empty")
			}
			s.TimeFormat = v.(string)
			return nil
		}},
		"ui.language": {kindString, func(v any) error {
			if v.(string) != "" && !languageTag.MatchString(v.(string)) {
				return fmt.Errorf("%q is not a language tag; use one like \"en\" or \"pt-BR\"", v)
			}
			s.Language = v.(string)
			return nil
		}},
		"ui.styling": {kindBool, func(v any) error { s.Styling = v.(bool); return nil }},
		"ui.open_command": {kindArgv, func(v any) error {
			words := v.([]string)
			if len(words) == 0 || words[0] == "" {
				return errors.New("names no program")
			}
			s.OpenCommand = words
			return nil
		}},
		"ui.roster_width": {kindInt, func(v any) error {
			n := v.(int64)
			if n < MinRosterWidth || n > MaxRosterWidth {
				return fmt.Errorf("%d is not between %d and %d columns", n, MinRosterWidth, MaxRosterWidth)
			}
			s.RosterWidth = int(n)
			return nil
		}},
		"notify":       {kind: kindTable},
		"notify.bell":  {kindBool, func(v any) error { s.Notify.Bell = v.(bool); return nil }},
		"notify.title": {kindBool, func(v any) error { s.Notify.Title = v.(bool); return nil }},
		"notify.desktop": {kindString, func(v any) error {
			switch v.(string) {
			case DesktopOff, DesktopOSC777, DesktopOSC9:
				s.Notify.Desktop = v.(string)
				return nil
			}
			return fmt.Errorf("%q is not a way to notify; use %q, %q or %q", v, DesktopOff, DesktopOSC777, DesktopOSC9)
		}},
		"notify.command":   {kindString, func(v any) error { s.Notify.Command = v.(string); return nil }},
		"notify.show_body": {kindBool, func(v any) error { s.Notify.ShowBody = v.(bool); return nil }},
		"notify.mute": {kindStrings, func(v any) error {
			for _, j := range v.([]string) {
				if _, err := jid.Parse(j); err != nil || j == "" {
					return fmt.Errorf("%q is not a JID", j)
				}
			}
			s.Notify.Mute = v.([]string)
			return nil
		}},
		"away":          {kind: kindTable},
		"away.after":    {kindInt, minutes(&s.Away.After)},
		"away.xa_after": {kindInt, minutes(&s.Away.XAAfter)},
		"away.message":  {kindString, func(v any) error { s.Away.Message = v.(string); return nil }},
		"theme":         {kind: kindTable},
		"keys":          {kind: kindTable},
	}
	for _, e := range ThemeElements {
		m["theme."+e] = field{kindString, func(v any) error {
			if _, ok := ParseColor(v.(string)); !ok {
				return fmt.Errorf("%q is not a colour; use a name (green, default), #rrggbb or colorN", v)
			}
			if s.Theme == nil {
				s.Theme = map[string]string{}
			}
			s.Theme[e] = v.(string)
			return nil
		}}
	}
	for _, a := range KeyActions {
		m["keys."+a] = field{kindStrings, func(v any) error {
			if s.Keys == nil {
				s.Keys = map[string][]string{}
			}
			s.Keys[a] = v.([]string)
			return nil
		}}
	}
	return m
}

// minutes sets d from a whole number of minutes, 0 (off) to a day.
func minutes(d *time.Duration) func(v any) error {
	return func(v any) error {
		n := v.(int64)
		if n < 0 || n > 24*60 {
			return fmt.Errorf("%d is not between 0 (off) and 1440 minutes", n)
		}
		*d = time.Duration(n) * time.Minute
		return nil
	}
}

// LoadSettings reads dir/gab.toml; a missing file gives the defaults.
func LoadSettings(dir string) (Settings, Problems) {
	s := DefaultSettings()
	s.File = filepath.Join(dir, "gab.toml")
	data, err := os.ReadFile(s.File)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, Problems{{File: s.File, Msg: err.Error()}}
	}
	lines := keyLines(data)
	probs := append(decodeFile(s.File, data, settingsFields(&s)), s.checkKeys(lines)...)
	if s.Notify.Command != "" {
		if p, bad := writableByOthers(s.File, lines["notify.command"], "[notify] command"); bad {
			probs = append(probs, p)
		}
	}
	if _, set := lines["ui.open_command"]; set {
		if p, bad := writableByOthers(s.File, lines["ui.open_command"], "[ui] open_command"); bad {
			probs = append(probs, p)
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return s, probs
}
