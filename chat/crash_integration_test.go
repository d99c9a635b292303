package chat_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"mellium.im/xmpp/jid"
)

// TestMain lets the test binary play a client process to be killed.
func TestMain(m *testing.M) {
	if os.Getenv("GAB_CRASH_CLIENT") == "1" {
		crashClient()
		return
	}
	os.Exit(m.Run())
}

// crashClient runs alice with a store and prints every message as it is
// shown ("SHOWN body"), until it is killed.
func crashClient() {
	store, err := history.Open(os.Getenv("GAB_DB"))
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	c := chat.New(&config.Account{
		Name: "alice", JID: jid.MustParse("alice@localhost"), Password: "pw", Resource: "crash",
		Server: os.Getenv("GAB_SERVER"), CAFile: os.Getenv("GAB_CA"), TLS: config.TLSStartTLS, Status: "online",
	}, chat.Options{Store: store})
	go c.Run(context.Background())
	out := bufio.NewWriter(os.Stdout)
	for ev := range c.Events() {
		switch e := ev.(type) {
		case chat.RosterReset:
			if !e.Cached { // the server's: logged in
				fmt.Fprintln(out, "READY")
			}
		case chat.MessageReceived:
			fmt.Fprintln(out, "SHOWN", e.Body)
		}
		out.Flush()
	}
}

func TestKillDuringAFloodLosesNothingShown(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	db := filepath.Join(t.TempDir(), "alice.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GAB_CRASH_CLIENT=1", "GAB_DB="+db, "GAB_SERVER="+srv.Addr(), "GAB_CA="+srv.CAFile)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 20000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		if l != "READY" {
			t.Fatalf("client: %s", l)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("the client never got ready")
	}

	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	const n = 10000
	go func() {
		for i := 0; i < n; i++ {
			b.c.Do(chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: fmt.Sprintf("flood %05d", i)})
		}
	}()
	var shown []string
	for len(shown) < 3000 {
		select {
		case l := <-lines:
			shown = append(shown, strings.TrimPrefix(l, "SHOWN "))
		case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
			t.Fatalf("only %d messages shown", len(shown))
		}
	}
	cmd.Process.Signal(syscall.SIGKILL) // mid-flood
	cmd.Wait()
	for l := range lines {
		shown = append(shown, strings.TrimPrefix(l, "SHOWN "))
	}
	t.Logf("killed after %d of %d messages were shown", len(shown), n)

	store, err := history.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	stored, _, err := store.Before(context.Background(), history.Conv{Peer: "bob@localhost"}, 0, n+10)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, m := range stored {
		have[m.Body] = true
	}
	for _, s := range shown {
		if !have[s] {
			t.Fatalf("%q was shown but is not in the store (%d stored)", s, len(stored))
		}
	}
	if len(stored) < len(shown) {
		t.Fatalf("%d stored, %d shown", len(stored), len(shown))
	}
}
