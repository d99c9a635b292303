package xmpptest

import (
	"slices"
	"testing"
)

// TestPeerOMEMO: two peers become OMEMO devices, see each other's device
// lists, and exchange messages in both versions — the peer's own OMEMO
// works before gab's tests lean on it.
func TestPeerOMEMO(t *testing.T) {
	srv := mucServer(t, "ann", "ben")
	if err := srv.WriteRoster("ann", []RosterEntry{{JID: "ben@localhost", Subscription: "both"}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WriteRoster("ben", []RosterEntry{{JID: "ann@localhost", Subscription: "both"}}); err != nil {
		t.Fatal(err)
	}
	ann, ben := srv.StartPeer(t, "ann", "pw"), srv.StartPeer(t, "ben", "pw")
	annID := ann.EnableOMEMO(t)
	benID := ben.EnableOMEMO(t)
	// ben's list, as ann reads it and as ann is told of it.
	ev, err := ann.Result(t, map[string]any{"cmd": "omemo_devices", "jid": "ben@localhost", "version": "0.3"})
	if err != nil || !slices.Equal(ev.IDs("devices"), []uint32{benID}) {
		t.Fatalf("%v %v", ev, err)
	}
	ann.WaitFor(t, RoundTrip, "ben's device list", func(e PeerEvent) bool {
		return e.Get("event") == "omemo_devices" && e.Get("from") == "ben@localhost" && slices.Contains(e.IDs("devices"), benID)
	})
	if _, err := ann.Result(t, map[string]any{"cmd": "omemo_bundle", "jid": "ben@localhost", "device": benID, "version": "2"}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"0.3", "2"} {
		ev, err := ann.Result(t, map[string]any{"cmd": "omemo_send", "to": "ben@localhost", "body": "hello in " + v, "version": v})
		if err != nil || ev.Get("sent") != "1" {
			t.Fatalf("%s: %v %v", v, ev, err)
		}
		got := ben.WaitFor(t, RoundTrip, "the message in "+v, func(e PeerEvent) bool {
			return e.Get("event") == "omemo_message" && (e.Get("body") == "hello in "+v || e.Get("error") != "")
		})
		if got.Get("error") != "" || got.Get("sid") != ev2s(annID) {
			t.Fatalf("%s: %v", v, got)
		}
	}
}

func ev2s(id uint32) string { return PeerEvent{"x": float64(id)}.Get("x") }
