package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/xmpp"
)

// CatchUpProgress says how far reading the archives after a new session
// stands: the account's archive (what was said while gab was away) and
// those of the rooms joined, counted together. Read is how many archived
// messages have been read and stored; Total is about how many there are
// to read, from the count the archives give (0 when none said). Done is
// the last of a series: every catch-up under way has finished (or the
// session ended).
type CatchUpProgress struct {
	Read, Total int
	Done        bool
}

func (CatchUpProgress) isEvent() {}

// metaMAMTime keeps the time the archive gave the message of metaMAMLast
// (RFC 3339): what the archive holds after that time is what a catch-up
// has to read, which the archive can count.
const metaMAMTime = "mam_last_time"

// metaRoomCatchUp is where a room's catch-up under way stands: the archive
// id it goes on after, or roomLatest while it reads the room's latest page.
// The key is set when a catch-up starts and removed, in the transaction of
// its last page, when it ends: a catch-up cut short (gab stopped, the
// connection lost) goes on from there at the next join, not after a live
// message stored meanwhile.
func metaRoomCatchUp(roomJID string) string { return "room-catchup " + roomJID }

const roomLatest = "^latest"

// tally counts the catch-ups under way for CatchUpProgress. Reader
// goroutine only.
type tally struct {
	chains  map[string]*chain // by room JID; "" is the account's archive
	read    int               // results of chains that finished
	total   int
	changed bool
}

type chain struct {
	read    int
	total   int
	counted bool // the archive said how many (total)
}

// startChain notes that a catch-up of the account's archive (key "") or a
// room's begins.
func (c *Client) startChain(key string) {
	t := &c.tally
	if t.chains == nil {
		t.chains = map[string]*chain{}
	}
	if _, ok := t.chains[key]; !ok {
		t.chains[key] = &chain{}
	}
	t.changed = true
}

// chainRead counts one result of a catch-up.
func (c *Client) chainRead(key string) {
	if ch := c.tally.chains[key]; ch != nil {
		ch.read++
		c.tally.changed = true
	}
}

// chainCounted records how many results the archive says a catch-up has
// to read.
func (c *Client) chainCounted(key string, n int) {
	if ch := c.tally.chains[key]; ch != nil {
		ch.total, ch.counted = max(n, 0), true
		c.tally.changed = true
	}
}

// chainDone notes that a catch-up finished: what it read is its total.
func (c *Client) chainDone(key string) {
	t := &c.tally
	if ch := t.chains[key]; ch != nil {
		t.read += ch.read
		t.total += ch.read
		delete(t.chains, key)
		t.changed = true
	}
}

// progress is the event for where the catch-ups stand, if that changed
// since the last one.
func (c *Client) progress() (CatchUpProgress, bool) {
	t := &c.tally
	if !t.changed {
		return CatchUpProgress{}, false
	}
	t.changed = false
	p := CatchUpProgress{Read: t.read, Total: t.total}
	known := true
	for _, ch := range t.chains {
		p.Read += ch.read
		p.Total += max(ch.total, ch.read)
		known = known && ch.counted
	}
	if !known {
		p.Total = 0
	}
	if len(t.chains) == 0 {
		p.Done, p.Total = true, p.Read
		c.tally = tally{}
	}
	return p, true
}

// setMetaAfter keeps a value between runs in the same transaction as the
// messages handed on before it (see flushBatch): how far an archive was
// read is never on disk before what was read. Reader goroutine.
func (c *Client) setMetaAfter(key, value string) {
	c.pend.meta = append(c.pend.meta, history.MetaSet{Key: key, Value: value})
}

// countArchive asks an archive (the account's when to is "", else a
// room's) how many messages it holds from since on, and gives that, less
// the one the catch-up goes on after, as chain key's total. A count
// without since is of the whole archive, less nothing; latest takes at
// most a page of it (a room never seen gets its latest page only).
func (c *Client) countArchive(ctx context.Context, sess *xmpp.Session, key, to string, since time.Time, latest bool) {
	var fields []*xmpp.Element
	if !since.IsZero() {
		fields = append(fields, xmpp.E(NSForms, "field", "var", "start").Add(xmpp.E(NSForms, "value").WithText(since.UTC().Format(time.RFC3339))))
	}
	set := xmpp.E(NSRSM, "set").Add(xmpp.E(NSRSM, "max").WithText("0"))
	counted := func(fin *xmpp.Element, err error) {
		if err != nil {
			return // no count: progress without a total
		}
		var n int
		if _, err := fmt.Sscan(fin.Child(NSRSM, "set").ChildText(NSRSM, "count"), &n); err != nil {
			return
		}
		if !since.IsZero() {
			n-- // the message it goes on after
		}
		if latest {
			n = min(n, roomPage)
		}
		c.chainCounted(key, n)
	}
	if to == "" {
		c.sendArchiveQuery(ctx, sess, mamCount, fields, set, func(fin *xmpp.Element, _ time.Time, err error) { counted(fin, err) })
		return
	}
	q, forget := c.roomArchiveQuery(to, mamCount, set)
	q.Child(NSForms, "x").Add(fields...)
	err := sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "set", "to", to).Add(q), c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		forget()
		if err == nil {
			counted(res.Child(NSMAM, "fin"), nil)
		}
	})
	if err != nil {
		forget()
	}
}
