// Command demo starts a throw-away Prosody on loopback with a demo account
// and an echo contact, then opens gab on it: a working chat for someone who
// has no account of their own. Everything is removed on exit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"mellium.im/xmpp/jid"
)

func main() {
	gab := flag.String("gab", "bin/gab", "the gab binary to run")
	flag.Parse()
	if err := run(*gab); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(gab string) error {
	dir, err := os.MkdirTemp("", "gab-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := xmpptest.NewServer(filepath.Join(dir, "server"), xmpptest.Options{})
	if srv != nil {
		defer srv.Stop()
	}
	if err != nil {
		return err
	}
	for _, u := range []string{"demo", "echo", "ada", "grace", "visitor"} {
		if err := srv.RegisterUser(u, u+"-password"); err != nil {
			return err
		}
	}
	// Rosters are read on first login, so writing them now takes effect.
	if err := srv.WriteRoster("demo", []xmpptest.RosterEntry{
		{JID: "echo@localhost", Name: "Echo", Subscription: "both", Groups: []string{"Bots"}},
		{JID: "ada@localhost", Name: "Ada Lovelace", Subscription: "both", Groups: []string{"Friends"}},
		{JID: "grace@localhost", Name: "Grace Hopper", Subscription: "both", Groups: []string{"Friends"}},
	}); err != nil {
		return err
	}
	if err := srv.WriteRoster("echo", []xmpptest.RosterEntry{{JID: "demo@localhost", Subscription: "both"}}); err != nil {
		return err
	}
	cfgDir, dataDir := filepath.Join(dir, "config"), filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(cfgDir, "accounts"), 0o700); err != nil {
		return err
	}
	acct := fmt.Sprintf("# demo account on a throw-away local server\njid = \"demo@localhost\"\npassword = \"demo-password\"\nserver = %q\nca_file = %q\nresource = \"gab\"\nstatus_message = \"trying gab\"\n", srv.Addr(), srv.CAFile)
	if err := os.WriteFile(filepath.Join(cfgDir, "accounts", "demo.toml"), []byte(acct), 0o600); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); runEcho(ctx, srv) }()
	go func() { defer wg.Done(); runVisitor(ctx, srv) }()
	defer func() { cancel(); wg.Wait() }()

	cmd := exec.Command(gab, "--config", cfgDir, "--data", dataDir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

// bot is a demo contact's client.
func bot(srv *xmpptest.Server, user, status string) *chat.Client {
	return chat.New(&config.Account{
		Name: user, JID: jid.MustParse(user + "@localhost"), Password: user + "-password", Resource: "bot",
		Server: srv.Addr(), CAFile: srv.CAFile, TLS: config.TLSStartTLS, Status: "chat", StatusMessage: status,
	}, chat.Options{Version: "demo"})
}

// runVisitor asks to see the demo user's presence, to show how requests
// are answered, and says thanks when approved.
func runVisitor(ctx context.Context, srv *xmpptest.Server) {
	c := bot(srv, "visitor", "new here")
	go c.Run(ctx)
	asked := false
	for ev := range c.Events() {
		switch e := ev.(type) {
		case chat.RosterReset:
			if !asked {
				asked = true
				c.Do(chat.Subscribe{JID: "demo@localhost", Nick: "A Visitor"})
			}
		case chat.SubscriptionChanged:
			if e.Type == "subscribed" {
				c.Do(chat.SendMessage{Conv: chat.ChatWith("demo@localhost"), Body: "Thanks for approving me! Now we see each other's presence."})
			}
		case chat.SubscriptionRequested:
			c.Do(chat.ApproveSubscription{JID: e.From})
		}
	}
}

// runEcho is the echo contact: it shows it is typing, then says back what
// it was told, and approves anyone who asks to see its presence.
func runEcho(ctx context.Context, srv *xmpptest.Server) {
	c := bot(srv, "echo", "I repeat what you say")
	go c.Run(ctx)
	var timers []*time.Timer
	defer func() {
		for _, t := range timers {
			t.Stop()
		}
	}()
	for ev := range c.Events() {
		switch e := ev.(type) {
		case chat.MessageReceived:
			c.Do(chat.SendChatState{Conv: e.Conv, State: chat.StateComposing})
			reply := "You said: " + e.Body
			if strings.EqualFold(strings.TrimSpace(e.Body), "hello") || strings.EqualFold(strings.TrimSpace(e.Body), "hi") {
				reply = "Hello! I am the echo contact. Type anything and I will say it back."
			}
			to := e.Conv
			timers = append(timers, time.AfterFunc(1200*time.Millisecond, func() {
				c.Do(chat.SendMessage{Conv: to, Body: reply})
			}))
		case chat.SubscriptionRequested:
			c.Do(chat.ApproveSubscription{JID: e.From})
			c.Do(chat.Subscribe{JID: e.From})
		}
	}
}
