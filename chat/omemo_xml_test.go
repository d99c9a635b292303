package chat

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gab-chat/gab/xmpp"
)

// el parses one element (not a stanza) for the codec tests.
func el(t testing.TB, x string) *xmpp.Element {
	t.Helper()
	m := parse(t, "<message>"+x+"</message>")
	if len(m.Children) != 1 {
		t.Fatalf("%d elements in %s", len(m.Children), x)
	}
	return m.Children[0]
}

func key(n, b byte) []byte { return bytes.Repeat([]byte{b}, int(n)) }

func enc(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestOMEMODeviceListRoundTrip(t *testing.T) {
	for _, v := range []OMEMOVersion{OMEMO03, OMEMO2} {
		devs := []OMEMODevice{{ID: 1}, {ID: 12345}, {ID: MaxOMEMODeviceID}}
		if v == OMEMO2 {
			devs[1].Label = "phone <&>"
		}
		e, err := OMEMODeviceListElement(v, devs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseOMEMODeviceList(v, el(t, e.String()))
		if err != nil || !reflect.DeepEqual(got, devs) {
			t.Fatalf("%v: %v, %v; want %v", v, got, err, devs)
		}
	}
	// 0.3 has no labels: none goes out.
	e, _ := OMEMODeviceListElement(OMEMO03, []OMEMODevice{{ID: 7, Label: "x"}})
	if strings.Contains(e.String(), "label") {
		t.Fatalf("0.3 list with a label: %s", e)
	}
}

func TestOMEMODeviceListRefused(t *testing.T) {
	const l = `<list xmlns='eu.siacs.conversations.axolotl'>%s</list>`
	var huge strings.Builder
	for i := 1; i <= MaxOMEMODevices+1; i++ {
		fmt.Fprintf(&huge, "<device id='%d'/>", i)
	}
	for name, x := range map[string]string{
		"zero":          fmt.Sprintf(l, `<device id='0'/>`),
		"too big":       fmt.Sprintf(l, `<device id='2147483648'/>`),
		"negative":      fmt.Sprintf(l, `<device id='-5'/>`),
		"plus":          fmt.Sprintf(l, `<device id='+5'/>`),
		"leading zero":  fmt.Sprintf(l, `<device id='05'/>`),
		"not a number":  fmt.Sprintf(l, `<device id='abc'/>`),
		"no id":         fmt.Sprintf(l, `<device/>`),
		"space":         fmt.Sprintf(l, `<device id=' 5'/>`),
		"overflow":      fmt.Sprintf(l, `<device id='99999999999999999999'/>`),
		"duplicate":     fmt.Sprintf(l, `<device id='5'/><device id='5'/>`),
		"unknown child": fmt.Sprintf(l, `<device id='5'/><bogus/>`),
		"huge":          fmt.Sprintf(l, huge.String()),
		"wrong ns":      `<list xmlns='urn:xmpp:omemo:2'><device id='5'/></list>`,
		"wrong name":    `<devices xmlns='eu.siacs.conversations.axolotl'><device id='5'/></devices>`,
	} {
		if got, err := ParseOMEMODeviceList(OMEMO03, el(t, x)); err == nil {
			t.Errorf("%s: accepted %v", name, got)
		}
	}
	long := strings.Repeat("x", MaxOMEMOLabel+1)
	if _, err := ParseOMEMODeviceList(OMEMO2, el(t, `<devices xmlns='urn:xmpp:omemo:2'><device id='5' label='`+long+`'/></devices>`)); err == nil {
		t.Error("a label over the cap accepted")
	}
	// Extensions in other namespaces are no reason to refuse a list.
	got, err := ParseOMEMODeviceList(OMEMO03, el(t, fmt.Sprintf(l, `<device id='5'/><x xmlns='urn:example'/>`)))
	if err != nil || len(got) != 1 {
		t.Fatalf("%v, %v", got, err)
	}
	for _, devs := range [][]OMEMODevice{{{ID: 0}}, {{ID: 1 << 31}}, {{ID: 3}, {ID: 3}}} {
		if _, err := OMEMODeviceListElement(OMEMO2, devs); err == nil {
			t.Errorf("built a list of %v", devs)
		}
	}
}

func testBundle(v OMEMOVersion) *OMEMOBundle {
	n := byte(32)
	if v == OMEMO03 {
		n = 33
	}
	b := &OMEMOBundle{IdentityKey: key(n, 1), SignedPreKeyID: 3, SignedPreKey: key(n, 2), SignedPreKeySig: key(64, 3)}
	for i := uint32(1); i <= 100; i++ {
		b.PreKeys = append(b.PreKeys, OMEMOPreKey{ID: i, Key: key(n, byte(i))})
	}
	return b
}

func TestOMEMOBundleRoundTrip(t *testing.T) {
	for _, v := range []OMEMOVersion{OMEMO03, OMEMO2} {
		b := testBundle(v)
		e, err := OMEMOBundleElement(v, b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseOMEMOBundle(v, el(t, e.String()))
		if err != nil || !reflect.DeepEqual(got, b) {
			t.Fatalf("%v: %v", v, err)
		}
		if _, err := ParseOMEMOBundle(3-v, el(t, e.String())); err == nil {
			t.Fatalf("a %v bundle read as the other version", v)
		}
	}
}

// A bundle as python3-oldmemo writes it (etree.serialize_bundle), with
// base64 wrapped over lines as some clients do.
func TestOMEMOBundle03Names(t *testing.T) {
	x := `<bundle xmlns='eu.siacs.conversations.axolotl'>` +
		`<signedPreKeyPublic signedPreKeyId='1'>` + enc(key(33, 5)) + `</signedPreKeyPublic>` +
		`<signedPreKeySignature>` + enc(key(64, 6))[:40] + "\n  " + enc(key(64, 6))[40:] + `</signedPreKeySignature>` +
		`<identityKey>` + enc(key(33, 7)) + `</identityKey>` +
		`<prekeys><preKeyPublic preKeyId='9'>` + enc(key(33, 8)) + `</preKeyPublic></prekeys></bundle>`
	b, err := ParseOMEMOBundle(OMEMO03, el(t, x))
	if err != nil {
		t.Fatal(err)
	}
	if b.SignedPreKeyID != 1 || !bytes.Equal(b.SignedPreKeySig, key(64, 6)) || len(b.PreKeys) != 1 || b.PreKeys[0].ID != 9 {
		t.Fatalf("%+v", b)
	}
}

func TestOMEMOBundleRefused(t *testing.T) {
	k2, sig := enc(key(32, 1)), enc(key(64, 2))
	spk := `<spk id='1'>` + k2 + `</spk>`
	spks := `<spks>` + sig + `</spks>`
	ik := `<ik>` + k2 + `</ik>`
	pks := `<prekeys><pk id='1'>` + k2 + `</pk></prekeys>`
	b := func(parts ...string) string {
		return `<bundle xmlns='urn:xmpp:omemo:2'>` + strings.Join(parts, "") + `</bundle>`
	}
	var many strings.Builder
	for i := 1; i <= MaxOMEMOPreKeys+1; i++ {
		fmt.Fprintf(&many, "<pk id='%d'>%s</pk>", i, k2)
	}
	if _, err := ParseOMEMOBundle(OMEMO2, el(t, b(spk, spks, ik, pks))); err != nil {
		t.Fatalf("the good bundle: %v", err)
	}
	for name, x := range map[string]string{
		"no spk":          b(spks, ik, pks),
		"two spk":         b(spk, spk, spks, ik, pks),
		"no prekeys":      b(spk, spks, ik),
		"empty prekeys":   b(spk, spks, ik, `<prekeys/>`),
		"spk id 0":        b(`<spk id='0'>`+k2+`</spk>`, spks, ik, pks),
		"spk no id":       b(`<spk>`+k2+`</spk>`, spks, ik, pks),
		"short key":       b(`<spk id='1'>`+enc(key(31, 1))+`</spk>`, spks, ik, pks),
		"0.3 size key":    b(spk, spks, `<ik>`+enc(key(33, 1))+`</ik>`, pks),
		"short sig":       b(spk, `<spks>`+enc(key(63, 1))+`</spks>`, ik, pks),
		"bad base64":      b(spk, spks, `<ik>!!!!</ik>`, pks),
		"unpadded":        b(spk, spks, `<ik>`+strings.TrimRight(k2, "=")+`</ik>`, pks),
		"duplicate pk":    b(spk, spks, ik, `<prekeys><pk id='1'>`+k2+`</pk><pk id='1'>`+k2+`</pk></prekeys>`),
		"pk id too big":   b(spk, spks, ik, `<prekeys><pk id='4294967296'>`+k2+`</pk></prekeys>`),
		"too many pks":    b(spk, spks, ik, `<prekeys>`+many.String()+`</prekeys>`),
		"unknown element": b(spk, spks, ik, pks, `<extra/>`),
		"huge key":        b(spk, spks, `<ik>`+strings.Repeat("AAAA", 100000)+`</ik>`, pks),
	} {
		if got, err := ParseOMEMOBundle(OMEMO2, el(t, x)); err == nil {
			t.Errorf("%s: accepted %+v", name, got)
		}
	}
	bad := testBundle(OMEMO2)
	bad.PreKeys = append(bad.PreKeys, bad.PreKeys[0])
	if _, err := OMEMOBundleElement(OMEMO2, bad); err == nil {
		t.Error("built a bundle with a pre-key twice")
	}
	if _, err := OMEMOBundleElement(OMEMO03, testBundle(OMEMO2)); err == nil {
		t.Error("built a 0.3 bundle of 32-byte keys")
	}
}

func TestOMEMOEncryptedRoundTrip(t *testing.T) {
	for _, e := range []*OMEMOEncrypted{
		{Version: OMEMO03, SID: 77, IV: key(12, 9), Payload: []byte("ciphertext"),
			Keys: []OMEMOKey{{RID: 1, PreKey: true, Data: key(150, 1)}, {RID: 2, Data: key(40, 2)}}},
		{Version: OMEMO03, SID: 77, IV: key(16, 9), Keys: []OMEMOKey{{RID: 1, Data: key(40, 2)}}}, // key transport, old IV
		{Version: OMEMO2, SID: 5, Payload: []byte("sce envelope"),
			Keys: []OMEMOKey{{RID: 1, JID: "bob@example.org", PreKey: true, Data: key(150, 1)}, {RID: 9, JID: "alice@example.org", Data: key(40, 2)}, {RID: 2, JID: "bob@example.org", Data: key(40, 3)}}},
	} {
		x, err := e.Element()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseOMEMOEncrypted(el(t, x.String()))
		if err != nil {
			t.Fatalf("%s: %v", x, err)
		}
		if e.Version == OMEMO2 {
			// Grouped by JID on the wire.
			e.Keys = []OMEMOKey{e.Keys[0], e.Keys[2], e.Keys[1]}
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("%+v\nwant %+v", got, e)
		}
		if k := got.KeyFor("bob@example.org", 1); k == nil || (e.Payload != nil && !k.PreKey) {
			t.Fatalf("no pre-key key for device 1: %+v", got.Keys)
		}
	}
}

func TestOMEMOEncryptedRefused(t *testing.T) {
	k, iv, p := enc(key(40, 1)), enc(key(12, 2)), enc([]byte("x"))
	m03 := func(header, rest string) string {
		return `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3'>` + header + `</header>` + rest + `</encrypted>`
	}
	var many strings.Builder
	for i := 1; i <= MaxOMEMOKeys+1; i++ {
		fmt.Fprintf(&many, "<key rid='%d'>%s</key>", i, k)
	}
	good := m03(`<key rid='1' prekey='true'>`+k+`</key><iv>`+iv+`</iv>`, `<payload>`+p+`</payload>`)
	if _, err := ParseOMEMOEncrypted(el(t, good)); err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]string{
		"no header":     `<encrypted xmlns='eu.siacs.conversations.axolotl'><payload>` + p + `</payload></encrypted>`,
		"two headers":   `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3'><iv>` + iv + `</iv></header><header sid='3'><iv>` + iv + `</iv></header></encrypted>`,
		"no sid":        `<encrypted xmlns='eu.siacs.conversations.axolotl'><header><iv>` + iv + `</iv></header></encrypted>`,
		"sid zero":      `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='0'><iv>` + iv + `</iv></header></encrypted>`,
		"no iv":         m03(`<key rid='1'>`+k+`</key>`, ""),
		"two ivs":       m03(`<iv>`+iv+`</iv><iv>`+iv+`</iv>`, ""),
		"iv 8 bytes":    m03(`<iv>`+enc(key(8, 1))+`</iv>`, ""),
		"rid bad":       m03(`<key rid='x'>`+k+`</key><iv>`+iv+`</iv>`, ""),
		"rid twice":     m03(`<key rid='1'>`+k+`</key><key rid='1'>`+k+`</key><iv>`+iv+`</iv>`, ""),
		"prekey maybe":  m03(`<key rid='1' prekey='maybe'>`+k+`</key><iv>`+iv+`</iv>`, ""),
		"empty key":     m03(`<key rid='1'></key><iv>`+iv+`</iv>`, ""),
		"key not b64":   m03(`<key rid='1'>%%%%</key><iv>`+iv+`</iv>`, ""),
		"huge key":      m03(`<key rid='1'>`+enc(key(255, 1))+strings.Repeat("AAAA", 1000)+`</key><iv>`+iv+`</iv>`, ""),
		"too many keys": m03(many.String()+`<iv>`+iv+`</iv>`, ""),
		"two payloads":  m03(`<iv>`+iv+`</iv>`, `<payload>`+p+`</payload><payload>`+p+`</payload>`),
		"empty payload": m03(`<iv>`+iv+`</iv>`, `<payload/>`),
		"2 in 0.3":      m03(`<keys jid='a@b'><key rid='1'>`+k+`</key></keys><iv>`+iv+`</iv>`, ""),
		"2 no jid":      `<encrypted xmlns='urn:xmpp:omemo:2'><header sid='3'><keys><key rid='1'>` + k + `</key></keys></header></encrypted>`,
		"2 full jid":    `<encrypted xmlns='urn:xmpp:omemo:2'><header sid='3'><keys jid='a@b/c'><key rid='1'>` + k + `</key></keys></header></encrypted>`,
		"2 keys twice":  `<encrypted xmlns='urn:xmpp:omemo:2'><header sid='3'><keys jid='a@b'><key rid='1'>` + k + `</key></keys><keys jid='a@b'><key rid='2'>` + k + `</key></keys></header></encrypted>`,
		"2 empty keys":  `<encrypted xmlns='urn:xmpp:omemo:2'><header sid='3'><keys jid='a@b'/></header></encrypted>`,
		"2 kex bad":     `<encrypted xmlns='urn:xmpp:omemo:2'><header sid='3'><keys jid='a@b'><key rid='1' kex='yes'>` + k + `</key></keys></header></encrypted>`,
		"2 iv":          `<encrypted xmlns='urn:xmpp:omemo:2'><header sid='3'><iv>` + iv + `</iv></header></encrypted>`,
	} {
		if got, err := ParseOMEMOEncrypted(el(t, x)); err == nil {
			t.Errorf("%s: accepted %+v", name, got)
		}
	}
	for name, e := range map[string]*OMEMOEncrypted{
		"no version":  {SID: 1, IV: key(12, 1)},
		"sid 0":       {Version: OMEMO03, IV: key(12, 1)},
		"no iv":       {Version: OMEMO03, SID: 1},
		"empty data":  {Version: OMEMO03, SID: 1, IV: key(12, 1), Keys: []OMEMOKey{{RID: 1}}},
		"rid twice":   {Version: OMEMO03, SID: 1, IV: key(12, 1), Keys: []OMEMOKey{{RID: 1, Data: []byte{1}}, {RID: 1, Data: []byte{1}}}},
		"no jid":      {Version: OMEMO2, SID: 1, Keys: []OMEMOKey{{RID: 1, Data: []byte{1}}}},
		"empty pload": {Version: OMEMO2, SID: 1, Payload: []byte{}},
	} {
		if _, err := e.Element(); err == nil {
			t.Errorf("%s: built", name)
		}
	}
}

// FuzzOMEMOXML: whatever an OMEMO element holds, the codecs return a
// result or an error, never panic; what they accept goes out and reads
// back the same.
func FuzzOMEMOXML(f *testing.F) {
	for _, v := range []OMEMOVersion{OMEMO03, OMEMO2} {
		small := testBundle(v) // small seeds: the fuzzer minimises what it finds
		small.PreKeys = small.PreKeys[:2]
		b, _ := OMEMOBundleElement(v, small)
		f.Add(b.String())
		l, _ := OMEMODeviceListElement(v, []OMEMODevice{{ID: 1, Label: "a"}, {ID: 2}})
		f.Add(l.String())
	}
	e, _ := (&OMEMOEncrypted{Version: OMEMO2, SID: 5, Payload: []byte("p"), Keys: []OMEMOKey{{RID: 1, JID: "b@c", PreKey: true, Data: []byte("k")}}}).Element()
	f.Add(e.String())
	e, _ = (&OMEMOEncrypted{Version: OMEMO03, SID: 5, IV: key(12, 1), Keys: []OMEMOKey{{RID: 1, Data: []byte("k")}}}).Element()
	f.Add(e.String())
	f.Fuzz(func(t *testing.T, data string) {
		r := xmpp.NewReader(strings.NewReader(streamHeader+"<message>"+data+"</message>"), xmpp.DefaultLimits)
		if _, err := r.StreamStart(); err != nil {
			return
		}
		m, err := r.Next()
		if err != nil {
			return
		}
		for _, c := range m.Children {
			for _, v := range []OMEMOVersion{OMEMO03, OMEMO2} {
				if l, err := ParseOMEMODeviceList(v, c); err == nil {
					out, err := OMEMODeviceListElement(v, l)
					if err != nil {
						t.Fatalf("accepted list %v does not go out: %v", l, err)
					}
					if again, err := ParseOMEMODeviceList(v, out); err != nil || !reflect.DeepEqual(again, l) {
						t.Fatalf("list %v came back as %v, %v", l, again, err)
					}
				}
				if b, err := ParseOMEMOBundle(v, c); err == nil {
					out, err := OMEMOBundleElement(v, b)
					if err != nil {
						t.Fatalf("accepted bundle does not go out: %v", err)
					}
					if again, err := ParseOMEMOBundle(v, out); err != nil || !reflect.DeepEqual(again, b) {
						t.Fatalf("bundle came back different: %v", err)
					}
				}
			}
			if e, err := ParseOMEMOEncrypted(c); err == nil {
				out, err := e.Element()
				if err != nil {
					t.Fatalf("accepted %+v does not go out: %v", e, err)
				}
				again, err := ParseOMEMOEncrypted(out)
				if err != nil || len(again.Keys) != len(e.Keys) || !bytes.Equal(again.Payload, e.Payload) || again.SID != e.SID {
					t.Fatalf("%+v came back as %+v, %v", e, again, err)
				}
			}
		}
	})
}

// BenchmarkParseOMEMOBundle: reading a bundle of 100 pre-keys, as gab does
// for every new device it encrypts to.
func BenchmarkParseOMEMOBundle(b *testing.B) {
	x, _ := OMEMOBundleElement(OMEMO03, testBundle(OMEMO03))
	e := el(b, x.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseOMEMOBundle(OMEMO03, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseOMEMOEncrypted: reading the <encrypted/> element of a
// message to 100 devices (a room), as every encrypted message is read.
func BenchmarkParseOMEMOEncrypted(b *testing.B) {
	m := &OMEMOEncrypted{Version: OMEMO2, SID: 1, Payload: key(200, 7)}
	for i := uint32(1); i <= 100; i++ {
		m.Keys = append(m.Keys, OMEMOKey{RID: i, JID: fmt.Sprintf("u%d@example.org", i%10), Data: key(150, byte(i))})
	}
	x, err := m.Element()
	if err != nil {
		b.Fatal(err)
	}
	e := el(b, x.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseOMEMOEncrypted(e); err != nil {
			b.Fatal(err)
		}
	}
}
