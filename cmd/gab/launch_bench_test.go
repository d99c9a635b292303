package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/ui"
	"github.com/gab-chat/gab/xmpp"
	"github.com/gdamore/tcell/v2"
	"mellium.im/xmpp/jid"
)

// From opening an account's store to its saved 10,000-contact roster
// drawn in the contact list, as at launch: the store opened, the client
// started (its dial waits for ever: no server answers), the saved roster
// it emits first applied and the list drawn. Only the process start and
// the terminal are not in it.
func BenchmarkLaunchSavedRoster10k(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "a.db")
	st, err := history.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	items := make([]history.RosterItem, 10000)
	for i := range items {
		items[i] = history.RosterItem{JID: fmt.Sprintf("c%05d@example.org", i), Name: fmt.Sprintf("Contact %05d", i), Subscription: "both", Groups: []string{fmt.Sprintf("Group %02d", i%20)}}
	}
	if err := st.SaveRoster(ctx, items, "v1"); err != nil {
		b.Fatal(err)
	}
	st.Close()
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		b.Fatal(err)
	}
	scr.SetSize(160, 50)
	acct := &config.Account{Name: "a", JID: jid.MustParse("a@example.org"), Password: "x", Status: "online", Enabled: true}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		st, err := history.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		c := chat.New(acct, chat.Options{Store: st, Dial: func(ctx context.Context, _ xmpp.Config) (*xmpp.Session, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}})
		done := make(chan struct{})
		go func() { c.Run(runCtx); close(done) }()
		reset, ok := (<-c.Events()).(chat.RosterReset)
		if !ok || !reset.Cached || len(reset.Items) != 10000 {
			b.Fatalf("first event: %T cached %v, %d items", reset, reset.Cached, len(reset.Items))
		}
		a := &ui.Account{Name: "a", Client: c}
		state := ui.NewState([]*ui.Account{a})
		state.Apply("a", reset)
		view := ui.NewRosterView(state)
		view.SetRect(0, 0, 30, 50)
		view.Draw(scr)
		b.StopTimer()
		scr.Show()
		cells, w, _ := scr.GetContents()
		var row strings.Builder
		for x := 0; x < 30; x++ {
			row.WriteString(string(cells[w*0+x].Runes))
		}
		if !strings.Contains(row.String(), "/10000") {
			b.Fatalf("the list's title is %q", row.String())
		}
		cancel()
		for range c.Events() {
		}
		<-done
		st.Close()
		b.StartTimer()
	}
}
