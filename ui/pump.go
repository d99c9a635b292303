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
	fn      func() // run as it is, on the UI goroutine
}

const (
	batchWait = 16 * time.Millisecond // the shortest time between two frames driven by events
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

// pump applies events on the UI goroutine in batches, one QueueUpdateDraw
// each, at most one frame per batchWait: an event after a quiet spell is
// drawn at once with whatever else is already waiting; while frames follow
// each other closely, a batch collects until batchWait after the last. It
// waits for a batch to be applied before sending the next, so the
// application's update queue never fills up and a busy UI simply gets
// bigger batches. Nothing is drawn while nothing happens.
func (a *App) pump(ctx context.Context, in <-chan item) {
	var last time.Time // when the previous batch was applied
	for {
		var batch []item
		select {
		case it := <-in:
			batch = append(batch, it)
		case <-ctx.Done():
			return
		}
	drain:
		for len(batch) < batchMax {
			select {
			case it := <-in:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		if wait := batchWait - time.Since(last); wait > 0 {
			timer := time.NewTimer(wait)
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
		}
		applied := make(chan struct{})
		// QueueUpdateDraw waits until the update has run, which never
		// happens if the application stops first (on quit, with a batch
		// queued): it waits on a goroutine of its own, so the pump and
		// quitting never hang on it. That one goroutine is then left
		// waiting until the process ends, a moment later.
		go a.tv.QueueUpdateDraw(func() {
			for _, it := range batch {
				a.apply(it)
			}
			a.afterBatch()
			close(applied)
		})
		select {
		case <-applied:
			last = time.Now()
		case <-ctx.Done():
			return
		}
	}
}
