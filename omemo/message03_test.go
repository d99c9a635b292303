package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// message03Vector is one message encrypted by python3-oldmemo (see
// testdata/gen_message03.py).
type message03Vector struct {
	MessageKey     string `json:"message_key"`
	AssociatedData string `json:"associated_data"`
	RatchetPub     string `json:"ratchet_pub"`
	N              uint32 `json:"n"`
	PN             uint32 `json:"pn"`
	Plaintext      string `json:"plaintext"`
	Message        string `json:"message"`
}

func loadMessage03Vectors(t testing.TB) []message03Vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/message03.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []message03Vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors in testdata/message03.json")
	}
	return f.Vectors
}

func TestMessage03KnownAnswers(t *testing.T) {
	for i, v := range loadMessage03Vectors(t) {
		mk := key32(t, v.MessageKey)
		ad := unhex(t, v.AssociatedData)
		h := ratchetHeader{ratchetKey: *key32(t, v.RatchetPub), n: v.N, pn: v.PN}
		pt, want := unhex(t, v.Plaintext), unhex(t, v.Message)

		got, err := encryptMessage03(mk, ad, h, pt)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("vector %d: encrypted\n %x %v\nwant\n %x", i, got, err, want)
		}
		gh, gpt, err := decryptMessage03(mk, ad, want)
		if err != nil || gh != h || !bytes.Equal(gpt, pt) {
			t.Errorf("vector %d: decrypted %+v %x %v, want %+v %x", i, gh, gpt, err, h, pt)
		}
		ph, _, err := parseMessage03(want[:len(want)-macSize03])
		if err != nil || ph != h {
			t.Errorf("vector %d: header parsed before decryption: %+v %v, want %+v", i, ph, err, h)
		}
	}
}

func TestMessage03TamperingRefused(t *testing.T) {
	for i, v := range loadMessage03Vectors(t) {
		mk := key32(t, v.MessageKey)
		ad := unhex(t, v.AssociatedData)
		msg := unhex(t, v.Message)
		for bit := 0; bit < 8*len(msg); bit++ {
			bad := bytes.Clone(msg)
			bad[bit/8] ^= 1 << (bit % 8)
			if _, _, err := decryptMessage03(mk, ad, bad); err == nil {
				t.Fatalf("vector %d: message with bit %d flipped decrypted", i, bit)
			}
		}
		for bit := 0; bit < 8*len(ad); bit++ {
			bad := bytes.Clone(ad)
			bad[bit/8] ^= 1 << (bit % 8)
			if _, _, err := decryptMessage03(mk, bad, msg); err != errAuth {
				t.Fatalf("vector %d: associated data with bit %d flipped: %v", i, bit, err)
			}
		}
		otherKey := *mk
		otherKey[0] ^= 1
		if _, _, err := decryptMessage03(&otherKey, ad, msg); err != errAuth {
			t.Errorf("vector %d: another message key: %v", i, err)
		}
		for _, cut := range []int{1, macSize03, len(msg) - 1} {
			if _, _, err := decryptMessage03(mk, ad, msg[:len(msg)-cut]); err == nil {
				t.Errorf("vector %d: message cut by %d bytes decrypted", i, cut)
			}
		}
	}
}

func TestParseMessage03Refuses(t *testing.T) {
	var rk [KeySize]byte
	good := appendMessage03(nil, ratchetHeader{ratchetKey: rk, n: 1, pn: 2}, []byte("c"))
	if _, _, err := parseMessage03(good); err != nil {
		t.Fatalf("a well-formed message refused: %v", err)
	}
	// Unknown fields are skipped.
	withUnknown := protowire.AppendVarint(protowire.AppendTag(bytes.Clone(good), 9, protowire.VarintType), 5)
	if _, _, err := parseMessage03(withUnknown); err != nil {
		t.Errorf("unknown field refused: %v", err)
	}
	fields := func(f func(b []byte) []byte) []byte { return f([]byte{messageVersion03}) }
	for name, b := range map[string][]byte{
		"empty":         nil,
		"other version": append([]byte{0x32}, good[1:]...),
		"no n": fields(func(b []byte) []byte {
			b = protowire.AppendBytes(protowire.AppendTag(b, fieldDHPub, protowire.BytesType), EncodePublicKey03(&rk))
			return protowire.AppendVarint(protowire.AppendTag(b, fieldPN, protowire.VarintType), 0)
		}),
		"repeated n": protowire.AppendVarint(protowire.AppendTag(bytes.Clone(good), fieldN, protowire.VarintType), 3),
		"n too large": fields(func(b []byte) []byte {
			b = protowire.AppendBytes(protowire.AppendTag(b, fieldDHPub, protowire.BytesType), EncodePublicKey03(&rk))
			b = protowire.AppendVarint(protowire.AppendTag(b, fieldN, protowire.VarintType), 1<<32)
			return protowire.AppendVarint(protowire.AppendTag(b, fieldPN, protowire.VarintType), 0)
		}),
		"key without type byte": fields(func(b []byte) []byte {
			b = protowire.AppendBytes(protowire.AppendTag(b, fieldDHPub, protowire.BytesType), rk[:])
			b = protowire.AppendVarint(protowire.AppendTag(b, fieldN, protowire.VarintType), 0)
			return protowire.AppendVarint(protowire.AppendTag(b, fieldPN, protowire.VarintType), 0)
		}),
		"n as bytes": fields(func(b []byte) []byte {
			b = protowire.AppendBytes(protowire.AppendTag(b, fieldDHPub, protowire.BytesType), EncodePublicKey03(&rk))
			b = protowire.AppendBytes(protowire.AppendTag(b, fieldN, protowire.BytesType), []byte{1})
			return protowire.AppendVarint(protowire.AppendTag(b, fieldPN, protowire.VarintType), 0)
		}),
		"truncated": good[:len(good)-1],
	} {
		if _, _, err := parseMessage03(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseMessage03 feeds the decoder arbitrary bytes: it must not panic,
// and whatever it accepts must survive re-encoding with the same header.
func FuzzParseMessage03(f *testing.F) {
	for _, v := range loadMessage03Vectors(f) {
		m, _ := hexDecode(v.Message)
		f.Add(m[:len(m)-macSize03])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ct, err := parseMessage03(b)
		if err != nil {
			return
		}
		h2, ct2, err := parseMessage03(appendMessage03(nil, h, ct))
		if err != nil || h2 != h || !bytes.Equal(ct2, ct) {
			t.Fatalf("re-encoded %+v %x: %+v %x %v", h, ct, h2, ct2, err)
		}
	})
}
