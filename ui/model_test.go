package ui

import (
	"errors"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
)

// Lines trimmed from the window can be paged in again, and the set of
// shown rows does not grow without bound.
func TestTrimmedLinesCanComeBack(t *testing.T) {
	c := &Conversation{Mark: -1}
	for i := 1; i <= MaxLines+MaxLines/2; i++ {
		c.add(Line{StoreID: int64(i), Body: "m", Time: time.Now()})
	}
	first := c.Lines[0].StoreID
	if first == 1 || len(c.stored) != len(c.Lines) {
		t.Fatalf("window starts at %d, %d rows remembered for %d lines", first, len(c.stored), len(c.Lines))
	}
	c.addHistory([]Line{{StoreID: first - 2, Body: "older"}, {StoreID: first - 1, Body: "old"}})
	if c.Lines[0].StoreID != first-2 || c.Lines[1].StoreID != first-1 {
		t.Fatalf("paged-back lines not shown: %d, %d", c.Lines[0].StoreID, c.Lines[1].StoreID)
	}
}

// A history request that failed leaves the tab free to ask again.
func TestFailedHistoryRequestEndsLoading(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	c, _ := s.Open("a", "bob@x")
	c.Loading = true
	s.Apply("a", chat.CommandFailed{ID: 1, Command: chat.LoadHistory{Peer: "bob@x"}, Err: errors.New("read history: disk I/O error")})
	if c.Loading {
		t.Fatal("the tab still waits for a page that is not coming")
	}
}

// An outage is one console line however many attempts fail; the status
// line follows each attempt's countdown.
func TestOutageIsOneConsoleLine(t *testing.T) {
	acct := &Account{Name: "a"}
	s := NewState([]*Account{acct})
	before := len(s.Console().Lines)
	refused := errors.New("connect: connection refused")
	s.Apply("a", chat.Disconnected{Err: errors.New("EOF"), RetryIn: time.Second})
	for n := 2; n <= 6; n++ {
		s.Apply("a", chat.Retrying{Err: refused, RetryIn: time.Duration(n) * time.Second, Attempt: n})
	}
	if got := len(s.Console().Lines) - before; got != 1 {
		t.Errorf("%d console lines for one outage", got)
	}
	if acct.Conn != "reconnecting in 6s" {
		t.Errorf("status %q", acct.Conn)
	}
}
