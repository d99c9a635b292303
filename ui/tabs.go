package ui

import (
	"slices"
	"sync"
	"time"

	"github.com/gab-chat/gab/chat"
)

// TabRef names one tab: the account and the conversation it shows.
type TabRef struct {
	Account string
	Conv    chat.Conv
}

// TabStore keeps the tabs open (besides the console, always first) and
// which one is active, from one run to the next.
type TabStore interface {
	// Load returns the tabs saved last, in order, and the index among them
	// of the active one, -1 for the console. Nothing saved yet is no
	// error: no tabs.
	Load() (tabs []TabRef, active int, err error)
	// Save replaces what is kept. It may take a while (the disk): the
	// interface calls it from a saver goroutine, never from the UI
	// goroutine.
	Save(tabs []TabRef, active int) error
}

// tabSnapshot is the tabs as they are to be saved.
type tabSnapshot struct {
	tabs   []TabRef
	active int
}

// tabSaver writes the latest snapshot of the tabs on a goroutine of its
// own: the UI goroutine hands it over and goes on. Snapshots handed over
// while one is being written are coalesced: only the latest is written.
type tabSaver struct {
	store  TabStore
	report func(error) // a failure to save, from the saver's goroutine

	mu      sync.Mutex
	next    *tabSnapshot // handed over, not yet written
	last    tabSnapshot  // the last handed over (UI goroutine only)
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	failed  string // the last failure reported, so it is said once
}

func newTabSaver(store TabStore, report func(error)) *tabSaver {
	return &tabSaver{store: store, report: report, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{})}
}

// put hands a snapshot over if it differs from the last one; UI goroutine.
func (s *tabSaver) put(snap tabSnapshot) {
	if snap.active == s.last.active && slices.Equal(snap.tabs, s.last.tabs) {
		return
	}
	s.last = snap
	s.mu.Lock()
	s.next = &snap
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run writes snapshots as they come until finish is called, then writes
// the last one handed over, if it was not yet written.
func (s *tabSaver) run() {
	defer close(s.stopped)
	for {
		select {
		case <-s.wake:
			s.write()
		case <-s.stop:
			s.write()
			return
		}
	}
}

func (s *tabSaver) write() {
	s.mu.Lock()
	snap := s.next
	s.next = nil
	s.mu.Unlock()
	if snap == nil {
		return
	}
	err := s.store.Save(snap.tabs, snap.active)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg != "" && msg != s.failed && s.report != nil {
		s.report(err)
	}
	s.failed = msg
}

// finish stops the saver once what was handed over is written, waiting at
// most limit for it.
func (s *tabSaver) finish(limit time.Duration) {
	close(s.stop)
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-s.stopped:
	case <-t.C:
	}
}

// tabSnapshot is the tabs as they are now, with the kept tabs of accounts
// not running in this run after them.
func (a *App) tabSnapshot() tabSnapshot {
	snap := tabSnapshot{tabs: make([]TabRef, 0, len(a.state.Convs)-1+len(a.keptTabs)), active: a.state.Active - 1}
	for _, c := range a.state.Convs[1:] {
		snap.tabs = append(snap.tabs, TabRef{Account: c.Account, Conv: c.Conv})
	}
	snap.tabs = append(snap.tabs, a.keptTabs...)
	return snap
}

// noteTabs hands the tabs to the saver if they changed: which are open,
// their order, the active one. It runs before every frame (the UI
// goroutine draws after anything that may change them) and before
// quitting.
func (a *App) noteTabs() {
	if a.tabSaver == nil {
		return
	}
	// Cheap when nothing changed: compared in place, copied only on a
	// change.
	last := a.tabSaver.last
	same := last.active == a.state.Active-1 && len(last.tabs) == len(a.state.Convs)-1+len(a.keptTabs)
	for i := 1; same && i < len(a.state.Convs); i++ {
		c := a.state.Convs[i]
		same = last.tabs[i-1] == TabRef{Account: c.Account, Conv: c.Conv}
	}
	if !same {
		a.tabSaver.put(a.tabSnapshot())
	}
}

// restoreTabs reopens the tabs saved at the end of the last run, in their
// order, and goes to the one that was active; their history is read from
// the store at once. Tabs of accounts not running now are kept for the
// next save. A file that cannot be read leaves the console alone, with a
// line saying why.
func (a *App) restoreTabs(store TabStore) {
	tabs, active, err := store.Load()
	if err != nil {
		a.state.Log(LineError, "the tabs of the last run were not reopened: %v", err)
		tabs, active = nil, -1
	}
	goTo := 0
	for i, t := range tabs {
		if t.Conv.IsZero() {
			continue // the console is always there, first
		}
		if a.state.Account(t.Account) == nil {
			a.keptTabs = append(a.keptTabs, t)
			continue
		}
		c, at := a.state.Open(t.Account, t.Conv)
		if i == active {
			goTo = at
		}
		if t.Conv.Kind == chat.KindRoom || t.Conv.Kind == chat.KindPrivate {
			roomJID := t.Conv.JID
			if t.Conv.Kind == chat.KindPrivate {
				roomJID, _ = privateParts(t.Conv)
			}
			c.add(Line{Time: a.state.Now(), Kind: LineInfo,
				Body: "reopened from the last run: you are not in " + roomJID + " until it is joined (/join " + roomJID + ", or by itself if it is bookmarked to join at login)"})
		}
	}
	a.loadFresh()
	a.switchTo(goTo)
	// What was read is what is saved: nothing to write until it changes.
	a.tabSaver.last = a.tabSnapshot()
}
