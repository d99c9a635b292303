package ui

import (
	"testing"
	"unicode/utf8"
)

func forbidden(r rune) bool {
	return r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F) ||
		(r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

// FuzzSanitize: whatever comes in, what goes to a tview label holds no
// control or bidi character, and every "]" that could close a tag is
// escaped; what the cell renderer draws holds no control either.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"[red]x[-]", "[:::https://evil]click[:::-]", "a\u009b31m", "\x1b[2J", "\u202eabc", "日本語 👩‍👩‍👧 e\u0301", "[[a]]", "]["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		open := false
		prev := rune(0)
		for _, r := range out {
			if forbidden(r) {
				t.Fatalf("Sanitize(%q) kept %U", s, r)
			}
			switch r {
			case '[':
				open = true
			case ']':
				if open && prev != '[' {
					t.Fatalf("Sanitize(%q) = %q leaves a tag open", s, out)
				}
				open = false
			}
			prev = r
		}
		for _, c := range clusters(s) {
			for _, r := range c.runes {
				if forbidden(r) {
					t.Fatalf("clusters(%q) kept %U", s, r)
				}
			}
			if c.width < 1 || c.width > 2 {
				t.Fatalf("clusters(%q): width %d", s, c.width)
			}
		}
		for _, w := range []int{1, 7, 40} {
			for _, line := range wrap(clusters(s), w) {
				n := 0
				for _, c := range line {
					n += c.width
				}
				if n > w && len(line) > 1 {
					t.Fatalf("wrap(%q, %d) made a line of width %d", s, w, n)
				}
			}
		}
	})
}
