package ui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
)

// countingScreen counts how often the interface pushes a frame.
type countingScreen struct {
	tcell.SimulationScreen
	shows atomic.Int64
}

func (c *countingScreen) Show() {
	c.shows.Add(1)
	c.SimulationScreen.Show()
}

func TestNothingRedrawsWhileIdle(t *testing.T) {
	scr := &countingScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8")}
	events := make(chan chat.Event, 10)
	app := New([]*Account{{Name: "me", Client: &fakeClient{}}}, Options{Screen: scr, Settings: config.DefaultSettings()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { app.Run(ctx, map[string]<-chan chat.Event{"me": events}); close(done) }()
	defer func() { cancel(); <-done }()
	events <- chat.Connected{JID: "me@x/r"}
	events <- chat.RosterReset{Items: []roster.Item{{JID: "a@x", Subscription: "both"}}}
	// Start-up drawing is done once the last event is on the screen (the
	// screen is read on the UI goroutine, after what was queued before).
	h := &harness{t: t, screen: scr, app: app}
	h.waitFor("connected as me@x/r", "a@x")
	before := scr.shows.Load()
	time.Sleep(time.Second) // the idle spell watched, not a wait for anything
	if after := scr.shows.Load(); after != before {
		t.Fatalf("%d frames drawn in a second with nothing happening", after-before)
	}
	events <- chat.PresenceChanged{Bare: "a@x", Resource: "r", Available: true, Show: roster.Online}
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for scr.shows.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("an event drew nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// twoAccounts runs the interface at w×rows with the accounts "work" and
// "home" connected, each with its fake client and its event channel; the
// harness's client is home's.
func twoAccounts(t *testing.T, w, rows int) (h *harness, work, home *fakeClient, we, he chan chat.Event) {
	scr := tcell.NewSimulationScreen("UTF-8")
	work, home = &fakeClient{}, &fakeClient{}
	app := New([]*Account{{Name: "work", Client: work}, {Name: "home", Client: home}}, Options{Screen: scr, Settings: config.DefaultSettings()})
	h = &harness{t: t, screen: scr, app: app, client: home}
	we, he = make(chan chat.Event, 10), make(chan chat.Event, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { app.Run(ctx, map[string]<-chan chat.Event{"work": we, "home": he}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	h.onUI(func() { scr.SetSize(w, rows) })
	we <- chat.Connected{JID: "me@work.example/gab"}
	he <- chat.Connected{JID: "me@home.example/gab"}
	return h, work, home, we, he
}

// waitCommandsOf waits until ok holds of what f was asked so far, and
// returns that.
func waitCommandsOf(t *testing.T, f *fakeClient, what string, ok func([]chat.Command) bool) []chat.Command {
	t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		cmds := f.commands()
		if ok(cmds) {
			return cmds
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s: %#v", what, cmds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSeveralAccounts(t *testing.T) {
	h, work, _, we, he := twoAccounts(t, 110, 20)
	we <- chat.RosterReset{Items: []roster.Item{{JID: "boss@work.example", Name: "Boss", Subscription: "both"}}}
	he <- chat.RosterReset{Items: []roster.Item{{JID: "mum@home.example", Name: "Mum", Subscription: "both"}}}
	he <- chat.MessageReceived{Conv: chat.ChatWith("mum@home.example"), From: "mum@home.example/phone", Bare: "mum@home.example", Body: "dinner?", Time: time.Now()}
	ls := h.waitFor("work (online)", "home (online)", "Boss", "Mum", "2:Mum@home (1)")
	row := func(s string) int {
		for i, l := range ls {
			if strings.Contains(l, s) {
				return i
			}
		}
		return -1
	}
	if !(row("work (online)") < row("○ Boss") && row("○ Boss") < row("home (online)") && row("home (online)") < row("○ Mum")) {
		t.Fatalf("contacts not under their accounts:\n%s", strings.Join(ls, "\n"))
	}
	// A reply goes out on the account the conversation belongs to.
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("Mum: dinner?")
	h.typeText("yes")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("mum@home.example"), Body: "yes"})
	for _, c := range work.commands() {
		if _, ok := c.(chat.SendMessage); ok {
			t.Fatalf("the work account sent %#v", c)
		}
	}
}
