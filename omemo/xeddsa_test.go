package omemo

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// xeddsaVector is one known answer produced by python3-xeddsa (see
// testdata/gen_xeddsa.py).
type xeddsaVector struct {
	Priv        string `json:"priv"`
	CurvePub    string `json:"curve_pub"`
	EdPub       string `json:"ed_pub"`
	EdPubSign0  string `json:"ed_pub_sign0"`
	EdPubSign1  string `json:"ed_pub_sign1"`
	A           string `json:"a"`
	Msg         string `json:"msg"`
	Z           string `json:"z"`
	Sig         string `json:"sig"`
	SigUnforced string `json:"sig_unforced"`
	// libxeddsa's own signature, whose nonce hash takes a unreduced when
	// it is not negated: different bytes, equally valid.
	SigUnreduced string `json:"sig_unreduced"`
}

func loadXEdDSAVectors(t *testing.T) []xeddsaVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/xeddsa.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []xeddsaVector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors in testdata/xeddsa.json")
	}
	return f.Vectors
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func key32(t *testing.T, s string) *[KeySize]byte {
	t.Helper()
	b := unhex(t, s)
	if len(b) != KeySize {
		t.Fatalf("key of %d bytes", len(b))
	}
	return (*[KeySize]byte)(b)
}

func TestXEdDSAKnownAnswers(t *testing.T) {
	vs := loadXEdDSAVectors(t)
	signs := map[byte]int{}
	for i, v := range vs {
		priv := key32(t, v.Priv)
		msg := unhex(t, v.Msg)
		z := (*[randomSize]byte)(unhex(t, v.Z))
		curvePub := key32(t, v.CurvePub)
		edPub := key32(t, v.EdPub)
		signs[edPub[31]>>7]++

		if got := PublicKey(priv); got != *curvePub {
			t.Errorf("vector %d: public key %x, want %x", i, got, curvePub[:])
		}
		for bit, want := range []string{v.EdPubSign0, v.EdPubSign1} {
			got, err := MontgomeryToEdwards(curvePub, byte(bit))
			if err != nil || got != *key32(t, want) {
				t.Errorf("vector %d: Montgomery to Edwards, sign %d: %x %v, want %s", i, bit, got, err, want)
			}
		}
		if got, err := EdwardsToMontgomery(edPub); err != nil || got != *curvePub {
			t.Errorf("vector %d: Edwards to Montgomery: %x %v, want %x", i, got, err, curvePub[:])
		}

		// calculate_key_pair: A has sign bit 0 and a is the private key
		// negated exactly when the natural Edwards key has its sign bit set.
		A, a := calculateKeyPair(priv)
		if A != *key32(t, v.EdPubSign0) {
			t.Errorf("vector %d: A = %x, want %s", i, A, v.EdPubSign0)
		}
		if !bytes.Equal(a.Bytes(), unhex(t, v.A)) {
			t.Errorf("vector %d: a = %x, want %s", i, a.Bytes(), v.A)
		}

		sig := signWithRandom(priv, msg, z)
		if want := unhex(t, v.Sig); !bytes.Equal(sig[:], want) {
			t.Errorf("vector %d: signature\n %x\nwant\n %x", i, sig, want)
		}
		if !Verify(curvePub, msg, unhex(t, v.Sig)) {
			t.Errorf("vector %d: the reference signature does not verify", i)
		}
		if !Verify(curvePub, msg, unhex(t, v.SigUnreduced)) {
			t.Errorf("vector %d: libxeddsa's own signature does not verify", i)
		}
		// Signed without the sign-bit step, the signature is plain Ed25519
		// under the natural Edwards key: XEdDSA must refuse it exactly when
		// that key's sign bit is set, and accept it otherwise.
		if got, want := Verify(curvePub, msg, unhex(t, v.SigUnforced)), edPub[31]&0x80 == 0; got != want {
			t.Errorf("vector %d: Edwards sign bit %d: signature made without negating the key accepted = %v", i, edPub[31]>>7, got)
		}
	}
	if signs[0] == 0 || signs[1] == 0 {
		t.Fatalf("vectors cover Edwards sign bits %v; need both", signs)
	}
}

func TestXEdDSABitFlipsRefused(t *testing.T) {
	for i, v := range loadXEdDSAVectors(t)[:4] {
		pub := key32(t, v.CurvePub)
		msg := unhex(t, v.Msg)
		sig := unhex(t, v.Sig)
		for bit := 0; bit < 8*len(sig); bit++ {
			bad := bytes.Clone(sig)
			bad[bit/8] ^= 1 << (bit % 8)
			if Verify(pub, msg, bad) {
				t.Errorf("vector %d: signature with bit %d flipped accepted", i, bit)
			}
		}
		for bit := 0; bit < 8*len(msg); bit++ {
			bad := bytes.Clone(msg)
			bad[bit/8] ^= 1 << (bit % 8)
			if Verify(pub, bad, sig) {
				t.Errorf("vector %d: message with bit %d flipped accepted", i, bit)
			}
		}
		for bit := 0; bit < 8*KeySize; bit++ {
			bad := *pub
			bad[bit/8] ^= 1 << (bit % 8)
			if Verify(&bad, msg, sig) {
				t.Errorf("vector %d: public key with bit %d flipped accepted", i, bit)
			}
		}
		if Verify(pub, msg, sig[:63]) || Verify(pub, msg, append(bytes.Clone(sig), 0)) {
			t.Errorf("vector %d: signature of the wrong length accepted", i)
		}
	}
}

func TestXEdDSARefusesNonCanonical(t *testing.T) {
	v := loadXEdDSAVectors(t)[0]
	pub := key32(t, v.CurvePub)
	msg := unhex(t, v.Msg)
	sig := unhex(t, v.Sig)

	// s + q is the same scalar mod q, not reduced: refused.
	q := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	bad := bytes.Clone(sig)
	var carry uint16
	for i := 0; i < 32; i++ {
		x := uint16(bad[32+i]) + uint16(q[i]) + carry
		bad[32+i], carry = byte(x), x>>8
	}
	if carry != 0 || bad[63] >= 0x20 {
		t.Fatal("s + q does not fit under 2^253 for vector 0; pick another")
	}
	if Verify(pub, msg, bad) {
		t.Error("accepted s + q")
	}

	// u + p (the same field element, top bit set): refused.
	p := [KeySize]byte{0xed}
	for i := 1; i < 31; i++ {
		p[i] = 0xff
	}
	p[31] = 0x7f
	var up [KeySize]byte
	carry = 0
	for i := 0; i < KeySize; i++ {
		x := uint16(pub[i]) + uint16(p[i]) + carry
		up[i], carry = byte(x), x>>8
	}
	if carry == 0 && Verify(&up, msg, sig) {
		t.Error("accepted a public key u + p")
	}
	if _, err := MontgomeryToEdwards(&p, 0); err == nil {
		t.Error("converted u = p")
	}
}

func TestXEdDSASignVerifyRoundTrip(t *testing.T) {
	vectors := loadXEdDSAVectors(t)
	for i, v := range vectors {
		priv := key32(t, v.Priv)
		pub := PublicKey(priv)
		msg := []byte("round trip")
		sig, err := Sign(priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		if !Verify(&pub, msg, sig[:]) {
			t.Errorf("vector %d: fresh signature does not verify", i)
		}
		other := PublicKey(key32(t, vectors[(i+1)%len(vectors)].Priv))
		if Verify(&other, msg, sig[:]) {
			t.Errorf("vector %d: verifies under another key", i)
		}
	}
}

func TestEdwardsToMontgomeryRefusesSmallOrder(t *testing.T) {
	identity := [KeySize]byte{1}
	if _, err := EdwardsToMontgomery(&identity); err == nil {
		t.Error("converted the identity point")
	}
	notOnCurve := [KeySize]byte{2}
	if _, err := EdwardsToMontgomery(&notOnCurve); err == nil {
		t.Error("converted y = 2, which is not on the curve")
	}
}

// FuzzXEdDSA signs with arbitrary keys, messages and randomness: the
// signature must verify, and must not once any one bit of it is flipped.
func FuzzXEdDSA(f *testing.F) {
	vectors := []xeddsaVector{}
	if raw, err := os.ReadFile("testdata/xeddsa.json"); err == nil {
		var v struct{ Vectors []xeddsaVector }
		if json.Unmarshal(raw, &v) == nil {
			vectors = v.Vectors
		}
	}
	for i, v := range vectors {
		p, _ := hex.DecodeString(v.Priv)
		m, _ := hex.DecodeString(v.Msg)
		z, _ := hex.DecodeString(v.Z)
		f.Add(p, m, z, uint16(i*37))
	}
	if len(vectors) == 0 {
		f.Fatal("no seed vectors")
	}
	f.Fuzz(func(t *testing.T, p, msg, zb []byte, flip uint16) {
		var priv [KeySize]byte
		var z [randomSize]byte
		copy(priv[:], p)
		copy(z[:], zb)
		sig := signWithRandom(&priv, msg, &z)
		pub := PublicKey(&priv)
		if !Verify(&pub, msg, sig[:]) {
			t.Fatalf("signature by %x does not verify", priv)
		}
		bit := int(flip) % (8 * SignatureSize)
		sig[bit/8] ^= 1 << (bit % 8)
		if Verify(&pub, msg, sig[:]) {
			t.Fatalf("signature by %x with bit %d flipped verifies", priv, bit)
		}
	})
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
