package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/gab-chat/gab/roster"
)

// A terminal gab cannot use is refused with words that say what to do,
// not only the terminal library's own.
func TestUnusableTerminalSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct{ term, want string }{
		{"xyzzy-no-such-terminal", `TERM="xyzzy-no-such-terminal"`},
		{"dumb", `TERM="dumb"`},
		{"", `TERM=""`},
	} {
		t.Setenv("TERM", tc.term)
		term := OpenTerminal()
		app := New([]*Account{{Name: "me", Client: &fakeClient{}, Show: roster.Online}}, Options{Terminal: term})
		err := app.Run(context.Background(), nil)
		term.Close()
		if err == nil {
			t.Fatalf("TERM=%q: the terminal was taken", tc.term)
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "xterm-256color") {
			t.Errorf("TERM=%q: %q does not name the terminal and say what to set", tc.term, msg)
		}
	}
}
