package ui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

// F1 at 80×24: a description too long for its row goes on under the
// description column, not at the dialog's left edge among the keys.
func TestHelpWrapsUnderTheDescriptions(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.key(tcell.KeyF1, 0, tcell.ModNone)
	ls := h.waitFor("gab help", "move between the contact list and")
	var next string
	for i, l := range ls {
		if strings.Contains(l, "move between the contact list and") && i+1 < len(ls) {
			next = ls[i+1]
		}
	}
	at := strings.Index(next, "the composer")
	if at < 0 {
		t.Fatalf("the description's end is not on the next row:\n%s", strings.Join(ls, "\n"))
	}
	if lead := []rune(next[:at]); len(lead) < 20 || strings.TrimLeft(string(lead[2:]), " ") != "" {
		t.Fatalf("the description goes on at column %d, not under itself:\n%s", len(lead), strings.Join(ls, "\n"))
	}
}

// hangingText keeps every row within the width, keeps every word, and
// cuts only words longer than a row.
func TestHangingText(t *testing.T) {
	text := "  Ctrl+K                                 quick jump to a contact or tab (in the composer: delete to the end first)\n" +
		"  A launch sentence long enough to wrap onto a second row of the help view for sure.\n" +
		"Title\n" +
		"  " + strings.Repeat("x", 100)
	for _, w := range []int{30, 50, 76, 200} {
		out := hangingText(text, w)
		for _, row := range strings.Split(out, "\n") {
			if width(row) > w {
				t.Errorf("width %d: row %q is %d cells", w, row, width(row))
			}
		}
		if got, want := strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(text), " "); w >= 100 && got != want {
			t.Errorf("width %d: words changed:\n%q\n%q", w, got, want)
		}
		if strings.ReplaceAll(strings.ReplaceAll(out, "\n", ""), " ", "") != strings.ReplaceAll(strings.ReplaceAll(text, "\n", ""), " ", "") {
			t.Errorf("width %d: characters lost or added:\n%s", w, out)
		}
	}
	if out := hangingText(text, 76); !strings.Contains(out, "\n"+strings.Repeat(" ", keyColumn)+"first)") && !strings.Contains(out, "\n"+strings.Repeat(" ", keyColumn)) {
		t.Errorf("a key's description does not go on under itself:\n%s", out)
	}
}
