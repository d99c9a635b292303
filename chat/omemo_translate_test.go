package chat

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gab-chat/gab/xmpp"
)

func devicelistEvent(from, node, payload string) string {
	return fmt.Sprintf(`<message from='%s' to='alice@localhost/gab' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>`+
		`<items node='%s'><item id='current'>%s</item></items></event></message>`, from, node, payload)
}

func TestOMEMODeviceListNotification(t *testing.T) {
	evs, _ := Translate(testSelf, parse(t, devicelistEvent("bob@localhost", NSOMEMO03DeviceList,
		`<list xmlns='eu.siacs.conversations.axolotl'><device id='11'/><device id='2147483647'/></list>`)))
	want := OMEMODeviceListChanged{JID: "bob@localhost", Version: OMEMO03, Devices: []OMEMODevice{{ID: 11}, {ID: 2147483647}}}
	if len(evs) != 1 || !reflect.DeepEqual(evs[0], want) {
		t.Fatalf("%#v", evs)
	}
	evs, _ = Translate(testSelf, parse(t, devicelistEvent("alice@localhost", NSOMEMO2Devices,
		`<devices xmlns='urn:xmpp:omemo:2'><device id='7' label='laptop'/></devices>`)))
	want = OMEMODeviceListChanged{JID: "alice@localhost", Version: OMEMO2, Devices: []OMEMODevice{{ID: 7, Label: "laptop"}}, Own: true}
	if len(evs) != 1 || !reflect.DeepEqual(evs[0], want) {
		t.Fatalf("%#v", evs)
	}
	// A deleted node: no devices.
	evs, _ = Translate(testSelf, parse(t, `<message from='bob@localhost'><event xmlns='http://jabber.org/protocol/pubsub#event'><delete node='`+NSOMEMO2Devices+`'/></event></message>`))
	if len(evs) != 1 || len(evs[0].(OMEMODeviceListChanged).Devices) != 0 {
		t.Fatalf("%#v", evs)
	}
}

func TestOMEMODeviceListNotificationHostile(t *testing.T) {
	var huge strings.Builder
	for i := 1; i <= MaxOMEMODevices+1; i++ {
		fmt.Fprintf(&huge, "<device id='%d'/>", i)
	}
	for name, x := range map[string]string{
		"from a client": devicelistEvent("bob@localhost/phone", NSOMEMO03DeviceList, `<list xmlns='eu.siacs.conversations.axolotl'><device id='11'/></list>`),
		"huge":          devicelistEvent("bob@localhost", NSOMEMO03DeviceList, `<list xmlns='eu.siacs.conversations.axolotl'>`+huge.String()+`</list>`),
		"bad id":        devicelistEvent("bob@localhost", NSOMEMO03DeviceList, `<list xmlns='eu.siacs.conversations.axolotl'><device id='0'/></list>`),
		"wrong payload": devicelistEvent("bob@localhost", NSOMEMO03DeviceList, `<devices xmlns='urn:xmpp:omemo:2'><device id='1'/></devices>`),
		"a bundle":      devicelistEvent("bob@localhost", NSOMEMO2Devices, `<bundle xmlns='urn:xmpp:omemo:2'/>`),
	} {
		evs, _ := Translate(testSelf, parse(t, x))
		if len(evs) != 1 {
			t.Errorf("%s: %#v", name, evs)
			continue
		}
		if _, ok := evs[0].(Notice); !ok {
			t.Errorf("%s: %#v", name, evs)
		}
	}
	// Items for a node that is no device list are not taken for one.
	evs, _ := Translate(testSelf, parse(t, devicelistEvent("bob@localhost", NSOMEMO03Bundles+":5", `<list xmlns='eu.siacs.conversations.axolotl'><device id='11'/></list>`)))
	for _, e := range evs {
		if _, ok := e.(OMEMODeviceListChanged); ok {
			t.Fatalf("%#v", evs)
		}
	}
}

func TestOMEMOAdvertised(t *testing.T) {
	for _, f := range []string{"eu.siacs.conversations.axolotl.devicelist+notify", "urn:xmpp:omemo:2:devices+notify"} {
		if !slices.Contains(Features, f) {
			t.Errorf("%s not advertised", f)
		}
	}
}

func testEncrypted(payload bool) *OMEMOEncrypted {
	e := &OMEMOEncrypted{Version: OMEMO03, SID: 99, IV: key(12, 4), Keys: []OMEMOKey{{RID: 5, PreKey: true, Data: key(100, 1)}}}
	if payload {
		e.Payload = []byte("secret")
	}
	return e
}

func encryptedXML(t *testing.T, payload bool) string {
	m, err := OMEMOMessage("alice@localhost", "m1", testEncrypted(payload))
	if err != nil {
		t.Fatal(err)
	}
	return m.Child(NSOMEMO03, "encrypted").String()
}

func TestOMEMOMessageReceived(t *testing.T) {
	x := `<message from='bob@localhost/phone' to='alice@localhost/gab' type='chat' id='m1'>` + encryptedXML(t, true) +
		`<body>` + OMEMOFallbackBody + `</body><request xmlns='urn:xmpp:receipts'/><replace xmlns='urn:xmpp:message-correct:0' id='old'/></message>`
	evs, _ := Translate(testSelf, parse(t, x))
	if len(evs) != 1 {
		t.Fatalf("%#v", evs)
	}
	m, ok := evs[0].(MessageReceived)
	if !ok || m.Body != "" || m.Note != OMEMOUnreadNote || !reflect.DeepEqual(m.Encrypted, testEncrypted(true)) || !m.Receipt {
		t.Fatalf("%#v", evs[0])
	}
	// Without a payload: a key transport, not a message.
	x = `<message from='bob@localhost/phone' to='alice@localhost/gab' type='chat' id='m2'>` + encryptedXML(t, false) + `</message>`
	evs, _ = Translate(testSelf, parse(t, x))
	if len(evs) != 1 || !reflect.DeepEqual(evs[0], OMEMOKeyTransport{Conv: ChatWith("bob@localhost"), From: "bob@localhost/phone", Bare: "bob@localhost", Encrypted: testEncrypted(false)}) {
		t.Fatalf("%#v", evs)
	}
	// Malformed: a notice; its fallback body is not shown.
	x = `<message from='bob@localhost/phone' to='alice@localhost/gab' type='chat' id='m3'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='0'/></encrypted><body>read me</body></message>`
	evs, _ = Translate(testSelf, parse(t, x))
	if len(evs) != 1 {
		t.Fatalf("%#v", evs)
	}
	if _, ok := evs[0].(Notice); !ok {
		t.Fatalf("%#v", evs)
	}
}

func TestOMEMOCarbonsAndArchive(t *testing.T) {
	inner := `<message xmlns='jabber:client' from='bob@localhost/phone' to='alice@localhost/other' type='chat' id='m1'>` + encryptedXML(t, true) + `<body>fallback</body></message>`
	evs, _ := Translate(testSelf, parse(t, `<message from='alice@localhost' to='alice@localhost/gab' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>`+inner+`</forwarded></received></message>`))
	if m, ok := one[MessageReceived](evs); !ok || !m.Carbon || m.Encrypted == nil || m.Body != "" {
		t.Fatalf("received carbon: %#v", evs)
	}
	sent := `<message xmlns='jabber:client' from='alice@localhost/other' to='bob@localhost' type='chat' id='m2'>` + encryptedXML(t, true) + `<body>fallback</body></message>`
	evs, _ = Translate(testSelf, parse(t, `<message from='alice@localhost' to='alice@localhost/gab' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>`+sent+`</forwarded></sent></message>`))
	if m, ok := one[CarbonSent](evs); !ok || m.Encrypted == nil || m.Body != "" || m.To != "bob@localhost" {
		t.Fatalf("sent carbon: %#v", evs)
	}
	evs, _ = Translate(testSelf, parse(t, `<message from='alice@localhost' to='alice@localhost/gab'><result xmlns='urn:xmpp:mam:2' queryid='q' id='A1'><forwarded xmlns='urn:xmpp:forward:0'>`+
		`<delay xmlns='urn:xmpp:delay' stamp='2026-11-20T10:00:00Z'/>`+inner+`</forwarded></result></message>`))
	if a, ok := one[MessageArchived](evs); !ok || a.Encrypted == nil || a.Body != "" || a.Peer != "bob@localhost" {
		t.Fatalf("archived: %#v", evs)
	}
}

func one[T Event](evs []Event) (T, bool) {
	var zero T
	if len(evs) != 1 {
		return zero, false
	}
	v, ok := evs[0].(T)
	return v, ok
}

// TestOMEMOMessageForm: what gab sends is what Conversations sends: the
// element, XEP-0380's note, a store hint and the fallback body.
func TestOMEMOMessageForm(t *testing.T) {
	m, err := OMEMOMessage("bob@localhost", "id1", testEncrypted(true))
	if err != nil {
		t.Fatal(err)
	}
	back := parse(t, m.String())
	if back.Get("type") != "chat" || back.Get("to") != "bob@localhost" ||
		back.Child(NSEME, "encryption").Get("namespace") != NSOMEMO03 || back.Child(NSEME, "encryption").Get("name") != "OMEMO" ||
		back.Child(NSHints, "store") == nil || back.ChildText(xmpp.NSClient, "body") != OMEMOFallbackBody ||
		back.Child(NSSID, "origin-id").Get("id") != "id1" {
		t.Fatalf("%s", m)
	}
	if e, err := omemoIn(back); err != nil || !reflect.DeepEqual(e, testEncrypted(true)) {
		t.Fatalf("%v %+v", err, e)
	}
	// A key transport has no body to fall back on.
	m, _ = OMEMOMessage("bob@localhost", "id2", testEncrypted(false))
	if m.Child(xmpp.NSClient, "body") != nil || m.Child(NSHints, "store") == nil {
		t.Fatalf("%s", m)
	}
}

// TestOMEMORoomMessage: in a room too, an encrypted message's fallback
// body is not its text.
func TestOMEMORoomMessage(t *testing.T) {
	self := testSelf
	self.Room = func(bare string) (RoomSelf, bool) {
		return RoomSelf{Nick: "alice"}, bare == "room@conference.localhost"
	}
	x := `<message from='room@conference.localhost/bob' to='alice@localhost/gab' type='groupchat' id='g1'>` + encryptedXML(t, true) + `<body>` + OMEMOFallbackBody + `</body></message>`
	evs, _ := Translate(self, parse(t, x))
	m, ok := one[MessageReceived](evs)
	if !ok || m.Body != "" || m.Encrypted == nil || m.Nick != "bob" || m.Conv != RoomConv("room@conference.localhost") {
		t.Fatalf("%#v", evs)
	}
}

func TestOMEMOMergeDevice(t *testing.T) {
	others := []OMEMODevice{{ID: 1, Label: "phone"}, {ID: 2}}
	for _, c := range []struct {
		v       OMEMOVersion
		in      []OMEMODevice
		d       OMEMODevice
		want    []OMEMODevice
		changed bool
	}{
		{OMEMO2, others, OMEMODevice{ID: 3, Label: "gab"}, append(slices.Clone(others), OMEMODevice{ID: 3, Label: "gab"}), true},
		{OMEMO2, others, OMEMODevice{ID: 1, Label: "phone"}, others, false},
		{OMEMO2, others, OMEMODevice{ID: 1, Label: "renamed"}, []OMEMODevice{{ID: 1, Label: "renamed"}, {ID: 2}}, true},
		{OMEMO03, []OMEMODevice{{ID: 2}}, OMEMODevice{ID: 2, Label: "ignored in 0.3"}, []OMEMODevice{{ID: 2}}, false},
		{OMEMO03, nil, OMEMODevice{ID: 9}, []OMEMODevice{{ID: 9}}, true},
	} {
		got, changed := mergeOMEMODevice(c.in, c.d, c.v)
		if !reflect.DeepEqual(got, c.want) || changed != c.changed {
			t.Errorf("%v + %v: %v %v", c.in, c.d, got, changed)
		}
	}
	if !reflect.DeepEqual(others, []OMEMODevice{{ID: 1, Label: "phone"}, {ID: 2}}) {
		t.Fatal("the list merged into was changed")
	}
}

// A key transport another of our devices sent comes as that device's.
func TestOMEMOSentKeyTransport(t *testing.T) {
	sent := `<message xmlns='jabber:client' from='alice@localhost/phone' to='bob@localhost' type='chat' id='k1'>` + encryptedXML(t, false) + `</message>`
	evs, _ := Translate(testSelf, parse(t, `<message from='alice@localhost' to='alice@localhost/gab' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>`+sent+`</forwarded></sent></message>`))
	k, ok := one[OMEMOKeyTransport](evs)
	if !ok || k.From != "alice@localhost/phone" || !k.Carbon || k.Conv != ChatWith("bob@localhost") || k.Encrypted == nil {
		t.Fatalf("%#v", evs)
	}
}
