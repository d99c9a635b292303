package xmpptest

import (
	"fmt"
	"testing"
)

// The peer speaks OMEMO through python3-omemo, python3-oldmemo (0.3) and
// python3-twomemo (OMEMO 2) — implementations nobody here wrote — with its
// bundles and device lists in PEP. Its commands:
//
//	{"cmd": "omemo_enable", "versions": ["0.3", "2"]}  a new device: publishes its bundles and adds
//	                                                    itself to the device lists; done has "device_id"
//	{"cmd": "omemo_send", "to": JID, "body": B, "version": "0.3"|"2"}
//	                                                    encrypts to every device of JID (and its own others);
//	                                                    done has "sent" (messages) and "errors"; "address"
//	                                                    (a full JID of JID) sends it there instead
//	{"cmd": "omemo_devices", "jid": JID, "version": V}  reads a device list; done has "devices", "labels"
//	{"cmd": "omemo_bundle", "jid": JID, "device": ID, "version": V}
//	                                                    reads and parses (checks) a bundle; done has
//	                                                    "prekeys" and "identity_key"
//	{"cmd": "omemo_publish_list", "devices": [IDs], "version": V}
//	                                                    publishes its account's device list as given
//
// and its events: {"event": "omemo_message", "from", "ns", "id", "sid", "body"} for each encrypted
// message it decrypted ("empty": true for a key transport, "error" when it could not), and
// {"event": "omemo_devices", "from", "ns", "devices", "labels"} for each device list notification.

// Result gives the peer one command, waits until it has carried it out and
// returns its done event, or the error it reported.
func (p *Peer) Result(t testing.TB, cmd map[string]any) (PeerEvent, error) {
	t.Helper()
	tag := fmt.Sprintf("t%d", peerTags.Add(1))
	c := make(map[string]any, len(cmd)+1)
	for k, v := range cmd {
		c[k] = v
	}
	c["tag"] = tag
	p.Send(t, c)
	ev := p.WaitFor(t, RoundTrip, fmt.Sprintf("the end of %v", cmd["cmd"]), func(e PeerEvent) bool {
		return e.Get("event") == "done" && e.Get("tag") == tag
	})
	if msg := ev.Get("error"); msg != "" {
		return ev, fmt.Errorf("peer %s: %v: %s", p.JID, cmd["cmd"], msg)
	}
	return ev, nil
}

// EnableOMEMO makes the peer an OMEMO device of the versions given ("0.3",
// "2"; both when none) and returns its device id.
func (p *Peer) EnableOMEMO(t testing.TB, versions ...string) uint32 {
	t.Helper()
	if len(versions) == 0 {
		versions = []string{"0.3", "2"}
	}
	ev, err := p.Result(t, map[string]any{"cmd": "omemo_enable", "versions": versions})
	if err != nil {
		t.Fatal(err)
	}
	id, ok := ev["device_id"].(float64)
	if !ok || id < 1 || id > 1<<31-1 {
		t.Fatalf("peer %s: device id %v", p.JID, ev["device_id"])
	}
	return uint32(id)
}

// IDs reads a list of numbers from a peer event's field.
func (e PeerEvent) IDs(field string) []uint32 {
	var out []uint32
	l, _ := e[field].([]any)
	for _, v := range l {
		if n, ok := v.(float64); ok {
			out = append(out, uint32(n))
		}
	}
	return out
}
