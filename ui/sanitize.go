package ui

import (
	"strings"
)

// Replacement is drawn in place of characters that could act on the
// terminal or on the text around them.
const Replacement = '\uFFFD'

// cleanRune classifies one rune of remote text: ok to draw as is, to be
// replaced by Replacement, or to be dropped.
//
// Replaced: C0 and C1 controls (U+009B is a one-byte CSI on some
// terminals), DEL, and the bidi embeddings, overrides and isolates that
// would reorder the text around them. Dropped: the invisible bidi marks
// (LRM, RLM, ALM), which only nudge neighbouring characters.
func cleanRune(r rune) (out rune, keep bool) {
	switch {
	case r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F):
		return Replacement, true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return Replacement, true
	case r == 0x200E || r == 0x200F || r == 0x061C:
		return 0, false
	case r == 0xFEFF:
		return 0, false
	}
	return r, true
}

// plainText cleans remote text for a widget that shows text literally but
// would pass control characters to the terminal (the composer): controls
// and bidi overrides as cleanRune says, newlines and tabs as spaces.
func plainText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '\n' || r == '\t' {
			r = ' '
		}
		if out, keep := cleanRune(r); keep {
			b.WriteRune(out)
		}
	}
	return b.String()
}

// Sanitize makes remote text (a contact's name, a status, a JID) safe for a
// tview label: controls and bidi overrides are replaced as cleanRune says,
// newlines become spaces, and every "[" that could open a tview tag is
// neutralised, including link tags like "[:::https://…]" that tview.Escape
// lets through.
func Sanitize(s string) string {
	return escapeTags(plainText(s))
}

// escapeTags rewrites every "[...]" so tview shows it literally: tview reads
// "[x[]" as the text "[x]". A "]" is escaped whenever a "[" is open before
// it, whatever lies between.
func escapeTags(s string) string {
	if !strings.ContainsRune(s, '[') {
		return s
	}
	var b strings.Builder
	open := false
	for _, r := range s {
		switch r {
		case '[':
			open = true
		case ']':
			if open {
				b.WriteRune('[')
				open = false
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
