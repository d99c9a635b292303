package omemo

import (
	"bytes"
	"crypto/aes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

type payload2Vector struct {
	Plaintext   string `json:"plaintext"`
	Key         string `json:"key"`
	Ciphertext  string `json:"ciphertext"`
	KeyMaterial string `json:"key_material"`
}

func loadPayload2Vectors(t testing.TB) []payload2Vector {
	raw, err := os.ReadFile("testdata/payload2.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []payload2Vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors in testdata/payload2.json")
	}
	return f.Vectors
}

// TestPayload2KnownAnswers: given python3-twomemo's payload keys, gab
// produces its ciphertexts and key material byte for byte, and reads them.
func TestPayload2KnownAnswers(t *testing.T) {
	for i, v := range loadPayload2Vectors(t) {
		pt, want, wantKM := unhex(t, v.Plaintext), unhex(t, v.Ciphertext), unhex(t, v.KeyMaterial)
		ct, km, err := EncryptPayload2(bytes.NewReader(unhex(t, v.Key)), pt)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ct, want) || !bytes.Equal(km[:], wantKM) {
			t.Errorf("vector %d (%d bytes): ciphertext %x key material %x\nwant %x %x", i, len(pt), ct, km, want, wantKM)
		}
		got, err := DecryptPayload2(wantKM, want)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("vector %d: decrypted %x, %v; want %x", i, got, err, pt)
		}
	}
}

// TestPayload2Refusals: every bit flipped in the ciphertext or the key
// material is refused, as are wrong sizes; a payload whose MAC is right
// but whose padding is not (only its key's holder can make one) is refused
// too.
func TestPayload2Refusals(t *testing.T) {
	v := loadPayload2Vectors(t)[4]
	ct, km := unhex(t, v.Ciphertext), unhex(t, v.KeyMaterial)
	for bit := range len(ct) * 8 {
		bad := bytes.Clone(ct)
		bad[bit/8] ^= 1 << (bit % 8)
		if pt, err := DecryptPayload2(km, bad); err == nil {
			t.Fatalf("ciphertext bit %d flipped: decrypted %x", bit, pt)
		}
	}
	for bit := range len(km) * 8 {
		bad := bytes.Clone(km)
		bad[bit/8] ^= 1 << (bit % 8)
		if pt, err := DecryptPayload2(bad, ct); err == nil {
			t.Fatalf("key material bit %d flipped: decrypted %x", bit, pt)
		}
	}
	sizes := []struct {
		name, want string
		km, ct     []byte
	}{
		{"key without MAC", "key material of 32 bytes", km[:32], ct},
		{"short MAC", "key material of 47 bytes", km[:47], ct},
		{"long key material", "key material of 49 bytes", append(bytes.Clone(km), 0), ct},
		{"no key material", "key material of 0 bytes", nil, ct},
		{"empty payload", "0 bytes", km, nil},
		{"payload not whole blocks", "17 bytes", km, ct[:17]},
		{"payload a block short", "does not decrypt", km, ct[:len(ct)-aes.BlockSize]},
	}
	for _, c := range sizes {
		pt, err := DecryptPayload2(c.km, c.ct)
		if err == nil {
			t.Errorf("%s: decrypted %x", c.name, pt)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}

	// Bad padding under a valid MAC: a block that decrypts to padding
	// that is not PKCS#7's, authenticated with the right key.
	key := unhex(t, v.Key)
	k := payloadKeys2(key)
	blockCipher, err := aes.NewCipher(k.aesKey[:])
	if err != nil {
		t.Fatal(err)
	}
	for _, tail := range [][]byte{{0}, {17}, {2, 3, 3}, {16}} {
		block := bytes.Repeat([]byte{'a'}, aes.BlockSize)
		copy(block[aes.BlockSize-len(tail):], tail)
		enc := make([]byte, aes.BlockSize)
		for i := range block {
			enc[i] = block[i] ^ k.iv[i]
		}
		blockCipher.Encrypt(enc, enc)
		badKM := append(bytes.Clone(key), payloadMAC2(&k.macKey, enc)...)
		if pt, err := DecryptPayload2(badKM, enc); err == nil || !strings.Contains(err.Error(), "padding") {
			t.Errorf("padding ending %x: %x, %v; want refused for its padding", tail, pt, err)
		}
	}
	if _, _, err := EncryptPayload2(bytes.NewReader(make([]byte, 31)), []byte("x")); err == nil {
		t.Error("encrypted with a short read of randomness")
	}
	if _, err := DecryptPayload2(km, ct); err != nil {
		t.Fatalf("the untouched payload: %v", err)
	}
}

func TestPayload2RoundTrip(t *testing.T) {
	r := detRand(40)
	for n := range 70 {
		pt := make([]byte, n)
		r.Read(pt)
		ct, km, err := EncryptPayload2(r, pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) != (n/aes.BlockSize+1)*aes.BlockSize {
			t.Fatalf("%d bytes encrypted to %d", n, len(ct))
		}
		got, err := DecryptPayload2(km[:], ct)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%d bytes: %x, %v", n, got, err)
		}
	}
}

// FuzzDecryptPayload2: nothing but the real payload decrypts under its key
// material, and nothing panics.
func FuzzDecryptPayload2(f *testing.F) {
	ct, km, err := EncryptPayload2(detRand(41), []byte("<envelope xmlns='urn:xmpp:sce:1'/>"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(km[:], ct)
	f.Add(km[:32], ct)
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, k, c []byte) {
		pt, err := DecryptPayload2(k, c)
		if err == nil && (!bytes.Equal(k, km[:]) || !bytes.Equal(c, ct)) {
			t.Fatalf("forged payload decrypted to %q", pt)
		}
	})
}
