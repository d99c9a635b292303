package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gdamore/tcell/v2"
)

// noPassword fails if secret is anywhere on the screen or in the console.
func (h *harness) noPassword(secret string) {
	h.t.Helper()
	if s := h.screenText(); strings.Contains(s, secret) {
		h.t.Fatalf("the password is on the screen:\n%s", s)
	}
	h.onUI(func() {
		for _, l := range h.app.State().Console().Lines {
			if strings.Contains(l.Body, secret) {
				h.t.Errorf("the password is in the console: %q", l.Body)
			}
		}
	})
}

// A refused password is a notice, never a dialog that takes the keyboard;
// the user opens it from the list and types the password into a masked
// field, which goes to the client for this session and nowhere else.
func TestPasswordNoticeAndMaskedEntry(t *testing.T) {
	const secret = "s3cret-Pa55"
	h := newHarness(t, 100, 30)
	h.typeText("half a li")
	h.waitFor("> half a li")
	h.send(chat.Disconnected{Err: errors.New("authentication failed: not-authorized (password in /x/me.toml)"), Final: true, NeedPassword: true})
	h.waitFor("1 password · F4 to answer")
	h.consoleHas("account me: no password it could log in with — F4 or /password")
	// The keyboard stayed with the composer.
	h.typeText("ne")
	h.waitFor("> half a line")
	if strings.Contains(h.screenText(), " Password ") {
		t.Fatal("the password dialog opened by itself")
	}
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)

	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer", "password for account me")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor(" Password ", "not-authorized (password in /x/me.toml)", "not saved")
	// The field and both buttons are in view at once.
	h.waitUntil("the field and the buttons", func(lines []string) bool {
		s := strings.Join(lines, "\n")
		return strings.Contains(s, "Password  ") && strings.Contains(s, "Log in") && strings.Contains(s, "Later")
	})
	// Enter with nothing typed logs in with nothing.
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Type the password first.")
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.UsePassword); ok {
			t.Fatalf("an empty password was sent: %#v", c)
		}
	}
	h.typeText(secret)
	h.waitFor("Password " + strings.Repeat("*", len(secret)))
	h.gone("Type the password first.")
	h.noPassword(secret)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone(" Password ", "Waiting for your answer", "· F4 to answer")
	h.consoleHas("account me: logging in with the password you typed (for this session only)")
	h.waitCommands(chat.UsePassword{Password: secret})
	h.noPassword(secret)
	// Focus is back in the composer.
	h.typeText("still typing")
	h.waitFor("> still typing")
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)

	// Refused again, no password command this time; /password opens it,
	// Esc keeps it for later; connecting drops it.
	h.send(chat.Disconnected{Err: errors.New("no password: password_command failed: exit status 1"), Final: true, NeedPassword: true})
	h.waitFor("1 password · F4 to answer")
	h.typeText("/password")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor(" Password ", "password_command failed")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.gone(" Password ")
	h.consoleHas("account me: the password waits")
	h.waitFor("1 password · F4 to answer")
	h.send(chat.Connected{JID: "me@x/gab", Mechanism: "SCRAM-SHA-1"})
	h.gone("· F4 to answer")
	h.typeText("/password")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("no account is waiting for a password")

	// A final failure that is not about the password offers nothing.
	h.send(chat.Disconnected{Err: errors.New("stream error: conflict"), Final: true})
	h.consoleHas("stream error: conflict")
	if strings.Contains(h.screenText(), "1 password") {
		t.Fatal("a password was asked for a failure a password cannot mend")
	}
}
