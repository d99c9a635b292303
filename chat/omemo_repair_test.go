package chat

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"testing"

	"github.com/gab-chat/gab/config"
	"mellium.im/xmpp/jid"
)

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
