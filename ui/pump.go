package ui

import (
	"context"
	"sync"
	"time"

	"github.com/gab-chat/gab/chat"
)

// item is one thing for the UI goroutine to apply: an account's event or a
// chat-state timer that fired.
type item struct {
	account string
	ev      chat.Event
	tick    *Conversation
}

const (
	batchWait = 16 * time.Millisecond // how long a batch collects after its first event
	batchMax  = 4096
)

// forward copies one account's events into the pump until either ends.
func forward(ctx context.Context, wg *sync.WaitGroup, account string, src <-chan chat.Event, dst chan<- item) {
	defer wg.Done()
	for {
		select {
		case ev, ok := <-src:
			if !ok {
				return
			}
			select {
			case dst <- item{account: account, ev: ev}:
			case <-ctx.Done():
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// pump batches whatever is waiting, or arrives within batchWait of the
// first item, and applies each batch on the UI goroutine with one
// QueueUpdateDraw. It waits for a batch to be applied before sending the
// next, so the application's update queue never fills up (which would block
// the pump forever once the application has stopped) and a busy UI simply
// gets bigger batches. Nothing is drawn while nothing happens.
func (a *App) pump(ctx context.Context, in <-chan item) {
	for {
		var batch []item
		select {
		case it := <-in:
			batch = append(batch, it)
		case <-ctx.Done():
			return
		}
		timer := time.NewTimer(batchWait)
	collect:
		for len(batch) < batchMax {
			select {
			case it := <-in:
				batch = append(batch, it)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		timer.Stop()
		applied := make(chan struct{})
		a.tv.QueueUpdateDraw(func() {
			for _, it := range batch {
				a.apply(it)
			}
			close(applied)
		})
		select {
		case <-applied:
		case <-ctx.Done():
			return
		}
	}
}
