package chat

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
	"github.com/gab-chat/gab/roster"
	"mellium.im/xmpp/jid"
)

// inRosterOf puts jids in c's roster (repairs and answers are for
// contacts).
func inRosterOf(c *Client, jids ...string) {
	c.state.Lock()
	defer c.state.Unlock()
	items := c.itemsLocked()
	if items == nil {
		items = map[string]roster.Item{}
		c.items = items
	}
	for _, j := range jids {
		items[j] = roster.Item{JID: j, Subscription: "both"}
	}
}

// repairs counts the session repairs queued, by JID.
func repairs(c *Client) map[string]int {
	n := map[string]int{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.queue {
		if e, ok := q.cmd.(omemoEmpty); ok && e.Repair {
			n[e.JID]++
		}
	}
	return n
}

// Undecryptable messages naming a new device id each (anyone can write
// any sid) do not make gab start a session anew, reading a bundle from
// the server, for each: the repairs of one JID's devices are bounded as
// a whole, and another JID's device is still repaired.
func TestOMEMORepairsBoundedPerJID(t *testing.T) {
	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{OMEMO: true})
	inRosterOf(c, "mallory@localhost", "peer@localhost")
	ctx := context.Background()
	c.omemo.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	c.omemo.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	garbage := func(from string, sid uint32) MessageReceived {
		data := make([]byte, 64)
		crand.Read(data)
		return MessageReceived{Conv: ChatWith(from), Bare: from, From: from + "/x", ID: fmt.Sprint(sid),
			Encrypted: &OMEMOEncrypted{Version: OMEMO03, SID: sid, IV: make([]byte, 12), Payload: []byte("x"),
				Keys: []OMEMOKey{{RID: dev.ID(), Data: data}}}}
	}
	for sid := uint32(1); sid <= 200; sid++ {
		m, ok := c.omemoIncoming(ctx, garbage("mallory@localhost", sid)).(MessageReceived)
		if !ok || m.Note == "" || m.Body != "" {
			t.Fatalf("an undecryptable message shown as %+v", m)
		}
	}
	c.omemoIncoming(ctx, garbage("peer@localhost", 7))
	got := repairs(c)
	if got["mallory@localhost"] > maxRepairsPerJID || got["mallory@localhost"] == 0 {
		t.Fatalf("%d repairs queued for 200 device ids of one JID, want 1 to %d", got["mallory@localhost"], maxRepairsPerJID)
	}
	if got["peer@localhost"] != 1 {
		t.Fatalf("%d repairs of another JID's device, want 1", got["peer@localhost"])
	}
}

// queuedOMEMO counts the OMEMO commands queued, by kind.
func queuedOMEMO(c *Client) (publishes, answers int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.queue {
		switch cmd := q.cmd.(type) {
		case PublishOMEMO, omemoRepublish:
			publishes++
		case omemoEmpty:
			if !cmd.Repair {
				answers++
			}
		}
	}
	return publishes, answers
}

// A flood of pre-key messages, each from a device of its sender's making
// and each stored in a batch of its own: our bundle keeps its 100
// pre-keys, and one publication of it waits in the queue however many
// batches took a pre-key (each would publish the whole bundle again,
// ahead of what the user sends). The empty answer to a pre-key message
// is queued only once the batch holding the message and its session is
// stored: the answer's session is committed when it is sent, and must
// not be in the store before the message it read.
func TestOMEMOPreKeyFloodPublishesOnce(t *testing.T) {
	store, err := history.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{OMEMO: true, Store: store})
	inRosterOf(c, "mallory@localhost")
	ctx := context.Background()
	const n = 20
	for i := uint32(1); i <= n; i++ {
		c.omemo.mu.Lock()
		ours, err := c.omemoDevice(ctx)
		c.omemo.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		pub := ours.PublishBundle03()
		b, err := pub.Choose(crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		evil, err := omemo.NewDevice(crand.Reader, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out, err := omemo.EncryptMessage03(crand.Reader, evil, []byte("hi"), []omemo.Recipient03{{DeviceID: ours.ID(), Bundle: b}})
		if err != nil {
			t.Fatal(err)
		}
		k := out.Keys[0]
		m, ok := c.omemoIncoming(ctx, MessageReceived{Conv: ChatWith("mallory@localhost"), Bare: "mallory@localhost", From: "mallory@localhost/x",
			Encrypted: &OMEMOEncrypted{Version: OMEMO03, SID: 1000 + i, IV: out.IV[:], Payload: out.Payload,
				Keys: []OMEMOKey{{RID: k.RID, PreKey: k.PreKey, Data: k.Data}}}}).(MessageReceived)
		if !ok || m.Body != "hi" {
			t.Fatalf("pre-key message %d: %+v", i, m)
		}
		if _, answers := queuedOMEMO(c); answers != int(i)-1 {
			t.Fatalf("the answer to pre-key message %d was queued before the message was stored", i)
		}
		own, sessions := c.omemoBatch()
		c.omemoStored(store.Commit(history.Batch{OwnDevice: own, Sessions: sessions}))
	}
	publishes, answers := queuedOMEMO(c)
	if publishes != 1 || answers != n {
		t.Fatalf("%d publications and %d answers queued after %d pre-key messages, want 1 and %d", publishes, answers, n, n)
	}
	if got := len(c.omemo.dev.PublishBundle03().PreKeys); got != omemo.NumPreKeys {
		t.Fatalf("%d pre-keys left, want %d", got, omemo.NumPreKeys)
	}
}
