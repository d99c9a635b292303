package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

type payload03Case struct {
	Form        string `json:"form"`
	Key         string `json:"key"`
	IV          string `json:"iv"`
	Plaintext   string `json:"plaintext"`
	KeyMaterial string `json:"key_material"`
	Payload     string `json:"payload"`
}

func loadPayload03(t *testing.T) []payload03Case {
	t.Helper()
	raw, err := os.ReadFile("testdata/payload03.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []payload03Case `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) < 6 {
		t.Fatalf("only %d cases", len(v.Cases))
	}
	return v.Cases
}

// TestPayload03KnownAnswer: with python3-oldmemo's randomness (key, then
// IV) gab encrypts to its payload and key||tag byte for byte, and reads
// its payloads and the legacy forms back.
func TestPayload03KnownAnswer(t *testing.T) {
	for i, c := range loadPayload03(t) {
		pt := unhex(t, c.Plaintext)
		if c.Form == "current" {
			km, iv, ct, err := EncryptPayload03(bytes.NewReader(append(unhex(t, c.Key), unhex(t, c.IV)...)), pt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(km[:], unhex(t, c.KeyMaterial)) || !bytes.Equal(iv[:], unhex(t, c.IV)) || !bytes.Equal(ct, unhex(t, c.Payload)) {
				t.Fatalf("case %d: got key material %x iv %x payload %x", i, km, iv, ct)
			}
		}
		got, err := DecryptPayload03(unhex(t, c.KeyMaterial), unhex(t, c.IV), unhex(t, c.Payload))
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("case %d (%s): %q, %v", i, c.Form, got, err)
		}
	}
}

// TestPayload03RefusesTampering: any bit flipped in key, tag, IV or
// payload is refused; so are lengths no client sends.
func TestPayload03RefusesTampering(t *testing.T) {
	km, iv, ct, err := EncryptPayload03(detRand(5), []byte("a secret message"))
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []struct {
		name string
		b    []byte
	}{{"key material", km[:]}, {"iv", iv[:]}, {"payload", ct}} {
		for bit := 0; bit < len(part.b)*8; bit++ {
			part.b[bit/8] ^= 1 << (bit % 8)
			if pt, err := DecryptPayload03(km[:], iv[:], ct); err == nil {
				t.Fatalf("%s bit %d flipped: decrypted %q", part.name, bit, pt)
			}
			part.b[bit/8] ^= 1 << (bit % 8)
		}
	}
	if _, err := DecryptPayload03(km[:], iv[:], ct); err != nil {
		t.Fatalf("restored: %v", err)
	}
	for _, tc := range []struct {
		km, iv, payload []byte
		want            string
	}{
		{km[:31], iv[:], ct, "key material is 31 bytes"},
		{append(km[:], 0), iv[:], ct, "key material is 33 bytes"},
		{nil, iv[:], ct, "key material is 0 bytes"},
		{km[:], iv[:8], ct, "IV is 8 bytes"},
		{km[:], append(iv[:], 1, 2, 3, 4, 5), ct, "IV is 17 bytes"},
		{km[:16], iv[:], ct[:15], "too short"},
	} {
		_, err := DecryptPayload03(tc.km, tc.iv, tc.payload)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("want an error saying %q, got %v", tc.want, err)
		}
	}
}

func TestPayload03RandomnessShortfall(t *testing.T) {
	if _, _, _, err := EncryptPayload03(bytes.NewReader(make([]byte, 20)), []byte("x")); err == nil {
		t.Fatal("encrypted with too little randomness")
	}
}

func FuzzDecryptPayload03(f *testing.F) {
	km, iv, ct, _ := EncryptPayload03(detRand(6), []byte("fuzz me"))
	f.Add(km[:], iv[:], ct)
	f.Add(km[:16], iv[:], append(ct, km[16:]...))
	f.Fuzz(func(t *testing.T, km, iv, payload []byte) {
		pt, err := DecryptPayload03(km, iv, payload)
		if err == nil && len(km) == KeyMaterialSize03 && len(pt) != len(payload) {
			t.Fatalf("plaintext of %d bytes from a payload of %d", len(pt), len(payload))
		}
	})
}
