package omemo

import "testing"

func benchKey(b *testing.B) *[KeySize]byte {
	var k [KeySize]byte
	for i := range k {
		k[i] = byte(i*7 + 1)
	}
	return &k
}

func BenchmarkXEdDSASign(b *testing.B) {
	priv := benchKey(b)
	msg := EncodePublicKey03(priv) // a signed pre-key's size
	for b.Loop() {
		if _, err := Sign(priv, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXEdDSAVerify(b *testing.B) {
	priv := benchKey(b)
	pub := PublicKey(priv)
	msg := EncodePublicKey03(&pub)
	sig, err := Sign(priv, msg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !Verify(&pub, msg, sig[:]) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkRootStep03(b *testing.B) {
	rk, dh := benchKey(b), benchKey(b)
	for b.Loop() {
		*rk, _ = rootStep(info03, rk, dh)
	}
}

func BenchmarkChainStepAndMessageKeys03(b *testing.B) {
	ck := benchKey(b)
	for b.Loop() {
		var mk [KeySize]byte
		*ck, mk = chainStep(ck)
		expandMessageKey(info03, &mk)
	}
}
