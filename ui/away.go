package ui

import (
	"sync"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/roster"
)

// autoAway sets every account away after a spell without a key pressed,
// extended away after a longer one, with the time of the last key as
// XEP-0319 idle time, and back as it was at the next key. Accounts the
// user set away, extended away or busy themselves are left alone. Timers,
// not polling: nothing runs while nothing happens.
type autoAway struct {
	app   *App
	cfg   config.Away
	mu    sync.Mutex
	last  time.Time   // the last key pressed
	timer *time.Timer // fires at the next step
	level roster.Show // Online (not away), Away or XA as set by us
	saved map[string]chat.SetPresence
}

func newAutoAway(a *App, cfg config.Away) *autoAway {
	w := &autoAway{app: a, cfg: cfg, level: roster.Online, last: time.Now()}
	w.arm(cfg.After)
	return w
}

// arm sets the timer to fire d after the last key; 0 means never.
func (w *autoAway) arm(d time.Duration) {
	if d <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	wait := time.Until(w.last.Add(d))
	if w.timer == nil {
		w.timer = time.AfterFunc(wait, func() { w.app.post(w.fire) })
	} else {
		w.timer.Reset(wait)
	}
}

func (w *autoAway) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
}

// input is called on the UI goroutine for every key.
func (w *autoAway) input() {
	w.mu.Lock()
	w.last = time.Now()
	w.mu.Unlock()
	if w.level != roster.Online {
		w.back()
	}
	if w.level == roster.Online && w.cfg.After > 0 {
		// Resetting the timer at each key costs nothing worth counting;
		// it fires only after a quiet spell.
		w.arm(w.cfg.After)
	}
}

// fire runs on the UI goroutine when a step may be due.
func (w *autoAway) fire() {
	w.mu.Lock()
	idle := time.Now().Sub(w.last)
	since := w.last
	w.mu.Unlock()
	switch {
	case w.level == roster.Online && w.cfg.After > 0 && idle >= w.cfg.After:
		w.set(roster.Away, since)
		if w.cfg.XAAfter > w.cfg.After {
			w.arm(w.cfg.XAAfter)
		}
	case w.level == roster.Away && w.cfg.XAAfter > 0 && idle >= w.cfg.XAAfter:
		w.set(roster.XA, since)
	case w.level == roster.Online && w.cfg.After > 0:
		w.arm(w.cfg.After) // woken early: a key came in between
	}
}

// set moves every account the user left available to show.
func (w *autoAway) set(show roster.Show, since time.Time) {
	if w.saved == nil {
		w.saved = map[string]chat.SetPresence{}
	}
	for _, acct := range w.app.state.Accounts {
		prev, ours := w.saved[acct.Name]
		if !ours {
			if acct.Show != roster.Online && acct.Show != roster.Chat {
				continue // the user chose this; not ours to change
			}
			prev = chat.SetPresence{Show: acct.Show, Status: acct.Status}
			w.saved[acct.Name] = prev
		}
		msg := w.cfg.Message
		if msg == "" {
			msg = prev.Status
		}
		acct.Client.Do(chat.SetPresence{Show: show, Status: msg, Idle: since})
	}
	w.level = show
	if len(w.saved) > 0 {
		w.app.state.SetStatus(false, "auto-away: %s since %s (press a key to come back)", show, since.Format("15:04"))
	}
}

// back restores what auto-away changed.
func (w *autoAway) back() {
	for _, acct := range w.app.state.Accounts {
		if p, ok := w.saved[acct.Name]; ok {
			acct.Client.Do(p)
		}
	}
	if len(w.saved) > 0 {
		w.app.state.SetStatus(false, "back: presence restored")
	}
	w.saved, w.level = nil, roster.Online
}
