package chat

import (
	"reflect"
	"strings"
	"testing"
)

// mixedEncrypted is a message for devices of both versions: OMEMO 2's
// element, with 0.3's as its Also.
func mixedEncrypted() *OMEMOEncrypted {
	e := &OMEMOEncrypted{Version: OMEMO2, SID: 99, Payload: []byte("sealed"), Keys: []OMEMOKey{{RID: 6, JID: "bob@localhost", PreKey: true, Data: key(90, 2)}}}
	e.Also = testEncrypted(true)
	return e
}

// A message to devices of both versions carries both elements in one
// stanza, OMEMO 2's named by XEP-0380; read back, it is OMEMO 2's with
// 0.3's beside it. An element for a version that is not the other's is
// refused.
func TestOMEMOMixedMessage(t *testing.T) {
	m, err := OMEMOMessage("bob@localhost", "id1", mixedEncrypted())
	if err != nil {
		t.Fatal(err)
	}
	back := parse(t, m.String())
	if back.Child(NSOMEMO2, "encrypted") == nil || back.Child(NSOMEMO03, "encrypted") == nil || back.Child(NSEME, "encryption").Get("namespace") != NSOMEMO2 {
		t.Fatalf("%s", m)
	}
	e, err := omemoIn(back)
	if err != nil || !reflect.DeepEqual(e, mixedEncrypted()) {
		t.Fatalf("%v %+v", err, e)
	}
	bad := mixedEncrypted()
	bad.Also = mixedEncrypted()
	if _, err := OMEMOMessage("bob@localhost", "id2", bad); err == nil {
		t.Fatal("two OMEMO 2 elements in one message")
	}
	// A 0.3 element that does not read beside a good OMEMO 2 one is left
	// out, not the message.
	x := strings.Replace(m.String(), "<header sid=\"99\"><key rid=\"5\"", "<header sid=\"0\"><key rid=\"5\"", 1)
	if e, err := omemoIn(parse(t, x)); err != nil || e.Version != OMEMO2 || e.Also != nil {
		t.Fatalf("%v %+v\n%s", err, e, x)
	}
}

// The outbox keeps both elements of a message and their versions; a row
// kept before OMEMO 2 (no version) is 0.3's.
func TestOMEMOWireVersions(t *testing.T) {
	for _, e := range []*OMEMOEncrypted{testEncrypted(true), mixedEncrypted(), {Version: OMEMO2, SID: 5, Payload: []byte("x"), Keys: []OMEMOKey{{RID: 1, JID: "a@b", Data: []byte{1}}}}} {
		back, err := decodeWire(encodeWire(e))
		if err != nil || !reflect.DeepEqual(back, e) {
			t.Fatalf("%+v: back as %+v (%v)", e, back, err)
		}
	}
	old := `{"sid":99,"keys":[{"RID":5,"JID":"","PreKey":true,"Data":"AQ=="}],"iv":"BAQEBAQEBAQEBAQE","payload":"c2VjcmV0"}`
	if e, err := decodeWire(old); err != nil || e.Version != OMEMO03 || e.SID != 99 {
		t.Fatalf("%+v %v", e, err)
	}
	for _, w := range []string{`{"v":7,"sid":1}`, `{"v":2,"sid":1,"also":{"v":2,"sid":1}}`} {
		if _, err := decodeWire(w); err == nil {
			t.Fatalf("%s read", w)
		}
	}
}
