package ui

import (
	"os"

	"github.com/gab-chat/gab/config"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Theme is the colour of each part of the screen. The defaults are the
// terminal's own foreground and background and the first sixteen palette
// colours, so they follow the terminal's scheme, dark or light, and work
// on 16-colour terminals; [theme] in gab.toml overrides any of them.
type Theme struct {
	Background, Text, Dim, Border, BorderFocus, Title       tcell.Color
	Online, Away, XA, DND, Offline, Group, Selected, Unread tcell.Color
	Highlight, Error, Tab, TabActive, TabUnread, StatusBar  tcell.Color
	StatusText, Composer, Code, Quote                       tcell.Color
	// NoColor: NO_COLOR is set. Everything is drawn in the terminal's
	// colours, told apart by bold, reverse and the presence marks.
	NoColor bool
}

// theme is the one in use; New sets it before anything is drawn.
var theme = defaultTheme()

func defaultTheme() Theme {
	d := tcell.ColorDefault
	return Theme{
		Background: d, Text: d, Dim: tcell.ColorGray, Border: d, BorderFocus: d, Title: d,
		Online: tcell.ColorGreen, Away: tcell.ColorOlive, XA: tcell.ColorOlive, DND: tcell.ColorMaroon,
		Offline: tcell.ColorGray, Group: tcell.ColorTeal, Selected: d, Unread: tcell.ColorOlive,
		Highlight: d, Error: tcell.ColorMaroon, Tab: d, TabActive: d, TabUnread: tcell.ColorOlive,
		StatusBar: tcell.ColorNavy, StatusText: tcell.ColorWhite, Composer: d,
		Code: tcell.ColorTeal, Quote: tcell.ColorGreen,
	}
}

// fields are the theme's colours by the element names of
// config.ThemeElements.
func (t *Theme) fields() map[string]*tcell.Color {
	return map[string]*tcell.Color{
		"background": &t.Background, "text": &t.Text, "dim": &t.Dim, "border": &t.Border,
		"border_focus": &t.BorderFocus, "title": &t.Title, "online": &t.Online, "away": &t.Away,
		"xa": &t.XA, "dnd": &t.DND, "offline": &t.Offline, "group": &t.Group, "selected": &t.Selected,
		"unread": &t.Unread, "highlight": &t.Highlight, "error": &t.Error, "tab": &t.Tab,
		"tab_active": &t.TabActive, "tab_unread": &t.TabUnread, "status_bar": &t.StatusBar,
		"status_text": &t.StatusText, "composer": &t.Composer, "code": &t.Code, "quote": &t.Quote,
	}
}

// buildTheme applies the settings' colours (already checked by config)
// to the defaults; noColor sets every one to the terminal's own.
func buildTheme(colors map[string]string, noColor bool) Theme {
	t := defaultTheme()
	fields := t.fields()
	if noColor {
		for _, f := range fields {
			*f = tcell.ColorDefault
		}
		t.NoColor = true
		return t
	}
	for name, value := range colors {
		if f, ok := fields[name]; ok {
			if c, ok := config.ParseColor(value); ok {
				*f = c
			}
		}
	}
	return t
}

// noColor reports NO_COLOR (https://no-color.org): set and not empty.
func noColor() bool { return os.Getenv("NO_COLOR") != "" }

// apply makes the theme the one in use, for gab's own widgets and for
// tview's (dialogs, forms, borders).
func (t Theme) apply() {
	theme = t
	tview.Styles = tview.Theme{
		PrimitiveBackgroundColor:    t.Background,
		ContrastBackgroundColor:     t.Selected,
		MoreContrastBackgroundColor: t.Selected,
		BorderColor:                 t.Border,
		TitleColor:                  t.Title,
		GraphicsColor:               t.Border,
		PrimaryTextColor:            t.Text,
		SecondaryTextColor:          t.Dim,
		TertiaryTextColor:           t.Group,
		InverseTextColor:            t.Background,
		ContrastSecondaryTextColor:  t.Dim,
	}
}

// selection is the style of a selected row: the theme's colour behind it,
// or reverse video when it has none.
func (t Theme) selection(s tcell.Style) tcell.Style {
	if t.Selected != tcell.ColorDefault {
		return s.Background(t.Selected)
	}
	return s.Reverse(true)
}

// status is the status line's style: its colours, or reverse video when
// it has none.
func (t Theme) status() tcell.Style {
	if t.StatusBar == tcell.ColorDefault && t.StatusText == tcell.ColorDefault {
		return tcell.StyleDefault.Reverse(true)
	}
	return tcell.StyleDefault.Background(t.StatusBar).Foreground(t.StatusText)
}
