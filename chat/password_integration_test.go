package chat_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// accountFile writes an account file for alice with the given password
// lines and loads it as gab does at start.
func accountFile(t *testing.T, srv *xmpptest.Server, file, secret string) *config.Account {
	t.Helper()
	body := fmt.Sprintf("jid = \"alice@localhost\"\nserver = %q\nca_file = %q\nresource = \"gab\"\n%s\n", srv.Addr(), srv.CAFile, secret)
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	a, probs := config.LoadAccount(file)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	return a
}

func runFileClient(t *testing.T, acct *config.Account) (*chat.Client, *recorder) {
	t.Helper()
	c := chat.New(acct, chat.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	r := newRecorder(c.Events())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, r
}

// After a wrong password the error names the file to fix, and /reconnect
// uses the file as it is then: its password, or its password_command.
func TestReconnectRereadsTheAccountFile(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	for _, tc := range []struct{ name, wrong, right, source string }{
		{"password", `password = "nope"`, `password = "pw"`, "password in "},
		{"password_command", `password_command = "echo nope"`, `password_command = "echo pw"`, "password_command in "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "alice.toml")
			c, r := runFileClient(t, accountFile(t, srv, file, tc.wrong))
			d, i := r.waitFrom(t, 0, "the refusal", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Final }))
			err := d.(chat.Disconnected).Err
			var se *xmpp.SASLError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.source+file) {
				t.Fatalf("error %q should be an authentication failure naming %s%s", err, tc.source, file)
			}
			if !d.(chat.Disconnected).NeedPassword {
				t.Fatal("a refused password does not offer to type one")
			}
			accountFile(t, srv, file, tc.right) // the user fixes the file
			c.Do(chat.Reconnect{})
			r.waitFrom(t, i+1, "the login with the fixed file", 10*time.Second, is[chat.Connected](nil))
		})
	}
}

// A file broken while gab runs is reported with its line, and nothing is
// tried with it; a password typed for the session logs in without it.
func TestBrokenAccountFileAndTypedPassword(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	file := filepath.Join(t.TempDir(), "alice.toml")
	c, r := runFileClient(t, accountFile(t, srv, file, `password = "nope"`))
	_, i := r.waitFrom(t, 0, "the refusal", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Final }))
	os.WriteFile(file, []byte("jid = \"alice@localhost\"\npasword = \"pw\"\n"), 0o600)
	c.Do(chat.Reconnect{})
	d, i := r.waitFrom(t, i+1, "the broken file", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Final }))
	if err := d.(chat.Disconnected).Err; !strings.Contains(err.Error(), file+":2") {
		t.Fatalf("error %q should name %s:2", err, file)
	}
	id := c.Do(chat.UsePassword{Password: "pw"})
	done, _ := r.waitFrom(t, i+1, "the command's answer", 10*time.Second, is(func(e chat.CommandDone) bool { return e.ID == id }))
	if p, ok := done.(chat.CommandDone).Command.(chat.UsePassword); !ok || p.Password != "" {
		t.Errorf("the answer carries %+v: the password must not travel in events", done)
	}
	r.waitFrom(t, i+1, "the login with the typed password", 10*time.Second, is[chat.Connected](nil))
}
