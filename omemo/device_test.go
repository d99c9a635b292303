package omemo

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var deviceEpoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func newTestDevice(t testing.TB, seed uint64) *Device {
	t.Helper()
	d, err := NewDevice(detRand(seed), deviceEpoch)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNewDevice(t *testing.T) {
	d := newTestDevice(t, 1)
	if d.ID() == 0 || d.ID() > MaxDeviceID {
		t.Fatalf("device id %d out of range", d.ID())
	}
	if ids := d.PreKeyIDs(); len(ids) != NumPreKeys || ids[0] != 1 || ids[NumPreKeys-1] != NumPreKeys {
		t.Fatalf("pre-key ids %v", ids)
	}
	if !d.SignedPreKeyCreated().Equal(deviceEpoch) || d.SignedPreKeyID() != 1 {
		t.Fatalf("signed pre-key %d of %v", d.SignedPreKeyID(), d.SignedPreKeyCreated())
	}
	// Another seed, another device.
	if e := newTestDevice(t, 2); e.ID() == d.ID() || e.IdentityKey() == d.IdentityKey() {
		t.Fatal("two seeds gave the same device")
	}
	// Not enough randomness: an error, not a device with zero keys.
	if _, err := NewDevice(bytes.NewReader(make([]byte, 100)), deviceEpoch); err == nil {
		t.Fatal("made a device from 100 bytes of randomness")
	}
}

// TestDeviceIDNeverZero: an id drawn as 0 (or 2³¹, which masks to 0) is
// drawn again.
func TestDeviceIDNeverZero(t *testing.T) {
	r := bytes.NewReader(append([]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, bytes.Repeat([]byte{9}, 10000)...))
	d, err := NewDevice(r, deviceEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID() != 7 {
		t.Fatalf("device id %d, want 7 (the first non-zero draw)", d.ID())
	}
}

// TestDeviceBundles: both bundles carry the same keys in each version's
// form, and each signature verifies as the other clients check it: as
// XEdDSA under the X25519 key, and as plain Ed25519 under the OMEMO 2
// identity key.
func TestDeviceBundles(t *testing.T) {
	d := newTestDevice(t, 3)
	b3, b2 := d.PublishBundle03(), d.PublishBundle2()
	ik := d.IdentityKey()
	ed := d.IdentityKeyEd25519()
	if !bytes.Equal(b3.IdentityKey, EncodePublicKey03(&ik)) || !bytes.Equal(b2.IdentityKey, ed[:]) {
		t.Fatal("identity keys differ from the device's")
	}
	if ed[31]&0x80 != 0 {
		t.Fatal("the Ed25519 identity key has its sign bit set")
	}
	if m, err := EdwardsToMontgomery(&ed); err != nil || m != ik {
		t.Fatalf("the two identity forms are not the same key: %v", err)
	}
	if !bytes.Equal(b3.SignedPreKey[1:], b2.SignedPreKey) || b3.SignedPreKeyID != b2.SignedPreKeyID {
		t.Fatal("the signed pre-keys differ")
	}
	if !Verify(&ik, b3.SignedPreKey, b3.SignedPreKeySignature) || !ed25519.Verify(ed[:], b3.SignedPreKey, b3.SignedPreKeySignature) {
		t.Fatal("the 0.3 signature does not verify over the 33-byte key")
	}
	if !Verify(&ik, b2.SignedPreKey, b2.SignedPreKeySignature) || !ed25519.Verify(ed[:], b2.SignedPreKey, b2.SignedPreKeySignature) {
		t.Fatal("the OMEMO 2 signature does not verify over the 32-byte key")
	}
	if len(b3.PreKeys) != NumPreKeys || len(b2.PreKeys) != NumPreKeys {
		t.Fatal("not all pre-keys published")
	}
	for i := range b3.PreKeys {
		priv, ok := d.PreKeyPrivate(b3.PreKeys[i].ID)
		pub := PublicKey(priv)
		if !ok || !bytes.Equal(b3.PreKeys[i].Key, EncodePublicKey03(&pub)) || !bytes.Equal(b2.PreKeys[i].Key, pub[:]) || b2.PreKeys[i].ID != b3.PreKeys[i].ID {
			t.Fatalf("pre-key %d does not match its private key", i)
		}
	}
	spk, ok := d.SignedPreKeyPrivate(b3.SignedPreKeyID)
	if pub := PublicKey(spk); !ok || !bytes.Equal(b3.SignedPreKey, EncodePublicKey03(&pub)) {
		t.Fatal("the signed pre-key does not match its private key")
	}
	// The published slices are copies.
	b3.SignedPreKeySignature[0] ^= 1
	if !bytes.Equal(d.PublishBundle03().SignedPreKeySignature[1:], b3.SignedPreKeySignature[1:]) || d.PublishBundle03().SignedPreKeySignature[0] == b3.SignedPreKeySignature[0] {
		t.Fatal("changing a published bundle changed the device")
	}
}

func TestDeviceRotateSignedPreKey(t *testing.T) {
	d := newTestDevice(t, 4)
	r := detRand(40)
	first, _ := d.SignedPreKeyPrivate(1)
	if rotated, err := d.RotateSignedPreKey(r, deviceEpoch.Add(SignedPreKeyRotation-time.Second)); err != nil || rotated {
		t.Fatalf("rotated early: %v %v", rotated, err)
	}
	if rotated, err := d.RotateSignedPreKey(r, deviceEpoch.Add(-time.Hour)); err != nil || rotated {
		t.Fatalf("rotated with the clock set back: %v %v", rotated, err)
	}
	later := deviceEpoch.Add(SignedPreKeyRotation)
	if rotated, err := d.RotateSignedPreKey(r, later); err != nil || !rotated {
		t.Fatalf("did not rotate when due: %v %v", rotated, err)
	}
	if d.SignedPreKeyID() != 2 || !d.SignedPreKeyCreated().Equal(later) {
		t.Fatalf("new signed pre-key %d of %v", d.SignedPreKeyID(), d.SignedPreKeyCreated())
	}
	if k, ok := d.SignedPreKeyPrivate(1); !ok || *k != *first {
		t.Fatal("the previous signed pre-key is not kept for late messages")
	}
	if rotated, _ := d.RotateSignedPreKey(r, later.Add(SignedPreKeyRotation)); !rotated {
		t.Fatal("second rotation")
	}
	if _, ok := d.SignedPreKeyPrivate(1); ok {
		t.Fatal("the signed pre-key two rotations back is still kept")
	}
	if _, ok := d.SignedPreKeyPrivate(2); !ok {
		t.Fatal("the previous signed pre-key is gone")
	}
	b := d.PublishBundle03()
	ik := d.IdentityKey()
	if b.SignedPreKeyID != 3 || !Verify(&ik, b.SignedPreKey, b.SignedPreKeySignature) {
		t.Fatal("the rotated bundle's signature does not verify")
	}
}

func TestDeviceTakePreKey(t *testing.T) {
	d := newTestDevice(t, 5)
	r := detRand(50)
	for _, id := range []uint32{7, 1, 100} {
		if err := d.TakePreKey(r, id); err != nil {
			t.Fatal(err)
		}
		if _, ok := d.PreKeyPrivate(id); ok {
			t.Fatalf("pre-key %d still there", id)
		}
	}
	ids := d.PreKeyIDs()
	if len(ids) != NumPreKeys || ids[len(ids)-1] != 103 {
		t.Fatalf("after taking three: %d keys, last id %d; want %d, 103", len(ids), ids[len(ids)-1], NumPreKeys)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids out of order or repeated: %v", ids)
		}
	}
	// An id no longer (or never) there: an error and the device unchanged.
	before := d.Marshal()
	for _, id := range []uint32{7, 0, 104, 5000} {
		if err := d.TakePreKey(r, id); !errors.Is(err, errUnknownPreKey) {
			t.Fatalf("took pre-key %d: %v", id, err)
		}
	}
	// Randomness failing while topping up leaves the device as it was.
	if err := d.TakePreKey(bytes.NewReader(nil), 50); err == nil {
		t.Fatal("took a pre-key without randomness to replace it")
	}
	if !bytes.Equal(before, d.Marshal()) {
		t.Fatal("a refused take changed the device")
	}
}

func TestFingerprint(t *testing.T) {
	var k [KeySize]byte
	for i := range k {
		k[i] = byte(i % 16 * 17)
	}
	want := "00112233 44556677 8899aabb ccddeeff 00112233 44556677 8899aabb ccddeeff"
	if got := FormatFingerprint(&k); got != want {
		t.Fatalf("got %q", got)
	}
	for _, in := range []string{want, strings.ToUpper(want), strings.ReplaceAll(want, " ", ""),
		"05" + strings.ReplaceAll(want, " ", ""), strings.ReplaceAll(want, " ", ":")} {
		if got, err := ParseFingerprint(in); err != nil || got != k {
			t.Fatalf("%q: %x, %v", in, got, err)
		}
	}
	for _, in := range []string{"", want[:70], want + "00", "zz" + want[2:], "06" + strings.ReplaceAll(want, " ", "")} {
		if _, err := ParseFingerprint(in); err == nil {
			t.Fatalf("accepted %q", in)
		}
	}
	d := newTestDevice(t, 6)
	ik := d.IdentityKey()
	if d.Fingerprint() != FormatFingerprint(&ik) || len(d.Fingerprint()) != 71 {
		t.Fatalf("device fingerprint %q", d.Fingerprint())
	}
}

func TestDeviceMarshalRoundTrip(t *testing.T) {
	d := newTestDevice(t, 7)
	r := detRand(70)
	check := func(stage string) {
		t.Helper()
		b := d.Marshal()
		e, err := UnmarshalDevice(b)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		if !bytes.Equal(e.Marshal(), b) || e.ID() != d.ID() || e.Fingerprint() != d.Fingerprint() {
			t.Fatalf("%s: restored device differs", stage)
		}
	}
	check("new")
	if _, err := d.RotateSignedPreKey(r, deviceEpoch.Add(SignedPreKeyRotation)); err != nil {
		t.Fatal(err)
	}
	check("rotated")
	if err := d.TakePreKey(r, 3); err != nil {
		t.Fatal(err)
	}
	check("pre-key taken")
}

func TestUnmarshalDeviceRefuses(t *testing.T) {
	d := newTestDevice(t, 8)
	if _, err := d.RotateSignedPreKey(detRand(80), deviceEpoch.Add(SignedPreKeyRotation)); err != nil {
		t.Fatal(err)
	}
	good := d.Marshal()
	// Every truncation and every extension is refused.
	for n := 0; n < len(good); n++ {
		if _, err := UnmarshalDevice(good[:n]); err == nil {
			t.Fatalf("accepted %d of %d bytes", n, len(good))
		}
	}
	if _, err := UnmarshalDevice(append(append([]byte(nil), good...), 0)); err == nil {
		t.Fatal("accepted a trailing byte")
	}
	// A flip in the version, identity, signed pre-keys or signatures is
	// refused, and a device id out of range (the low bits of the device
	// id, pre-key private keys and dates are not checkable).
	checked := 1 + 4 + KeySize + 2*(signedPreKeySize+1) - 1
	for i := 0; i < checked; i++ {
		if i >= 2 && i <= 4 {
			continue // the device id's low bytes
		}
		if off := i - (1 + 4 + KeySize); off >= 0 && (off%(signedPreKeySize+1) >= signedPreKeySize-8) {
			continue // the date of a signed pre-key (and the old flag's slot)
		}
		b := append([]byte(nil), good...)
		if i == 1 {
			b[i] ^= 0x80
		} else {
			b[i] ^= 0x10 // not a bit X25519's clamping ignores
		}
		if _, err := UnmarshalDevice(b); err == nil {
			t.Fatalf("accepted a flip at byte %d", i)
		}
	}
	// Pre-key ids out of order or beyond the next id.
	b := append([]byte(nil), good...)
	first := deviceFixedSize
	copy(b[first:first+4], b[first+preKeySize:first+preKeySize+4])
	if _, err := UnmarshalDevice(b); err == nil {
		t.Fatal("accepted a repeated pre-key id")
	}
	b = append([]byte(nil), good...)
	last := len(b) - preKeySize
	b[last] = 0x7f
	if _, err := UnmarshalDevice(b); err == nil {
		t.Fatal("accepted a pre-key id beyond the next id")
	}
}

func FuzzUnmarshalDevice(f *testing.F) {
	d, _ := NewDevice(detRand(9), deviceEpoch)
	f.Add(d.Marshal())
	d.RotateSignedPreKey(detRand(90), deviceEpoch.Add(SignedPreKeyRotation))
	d.TakePreKey(detRand(91), 5)
	f.Add(d.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := UnmarshalDevice(b)
		if err != nil {
			return
		}
		if !bytes.Equal(d.Marshal(), b) {
			t.Fatal("a device restored from bytes marshals differently")
		}
		if d.ID() == 0 || d.ID() > MaxDeviceID || len(d.PreKeyIDs()) > NumPreKeys {
			t.Fatal("restored a device out of range")
		}
	})
}

// TestChooseBundle03: a peer's published bundle becomes a Bundle03 with
// one of its pre-keys; the sign bit python3-omemo stores in the
// signature's top bit is ignored; a bad signature or key is refused.
func TestChooseBundle03(t *testing.T) {
	d := newTestDevice(t, 11)
	pb := d.PublishBundle03()
	seen := map[uint32]bool{}
	r := detRand(110)
	for i := 0; i < 50; i++ {
		b, err := pb.Choose(r)
		if err != nil {
			t.Fatal(err)
		}
		priv, ok := d.PreKeyPrivate(b.PreKeyID)
		if !ok || PublicKey(priv) != b.PreKey || b.IdentityKey != d.IdentityKey() || b.SignedPreKeyID != pb.SignedPreKeyID {
			t.Fatalf("chose %+v", b)
		}
		seen[b.PreKeyID] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d different pre-keys in 50 choices", len(seen))
	}
	// Our signature with the top bit set names the other Edwards key:
	// refused.
	withBit := pb
	withBit.SignedPreKeySignature = append([]byte(nil), pb.SignedPreKeySignature...)
	withBit.SignedPreKeySignature[63] |= 0x80
	if _, err := withBit.Choose(r); err == nil {
		t.Fatal("accepted a signature with the wrong sign bit")
	}
	// python3-omemo's way: an Ed25519 identity with its sign bit set
	// signs with plain Ed25519 and puts the bit in the signature.
	var pyBundle *PublishedBundle03
	for seed := byte(0); pyBundle == nil; seed++ {
		priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
		edPub := [KeySize]byte(priv.Public().(ed25519.PublicKey))
		if edPub[31]&0x80 == 0 {
			continue
		}
		mont, err := EdwardsToMontgomery(&edPub)
		if err != nil {
			t.Fatal(err)
		}
		c := d.PublishBundle03()
		c.IdentityKey = EncodePublicKey03(&mont)
		c.SignedPreKeySignature = ed25519.Sign(priv, c.SignedPreKey)
		c.SignedPreKeySignature[63] |= 0x80
		pyBundle = &c
	}
	b, err := pyBundle.Choose(r)
	if err != nil {
		t.Fatalf("refused a bundle signed by an Ed25519 identity with its sign bit set: %v", err)
	}
	if _, _, err := InitiateSession03(r, d.identityPrivate(), 0, b); err != nil {
		t.Fatalf("no session from it: %v", err)
	}
	pyBundle.SignedPreKeySignature[63] &^= 0x80
	if _, err := pyBundle.Choose(r); err == nil {
		t.Fatal("accepted it with the sign bit cleared")
	}
	for name, mutate := range map[string]func(*PublishedBundle03){
		"signature":      func(b *PublishedBundle03) { b.SignedPreKeySignature[10] ^= 1 },
		"signed pre-key": func(b *PublishedBundle03) { b.SignedPreKey[5] ^= 1 },
		"identity type":  func(b *PublishedBundle03) { b.IdentityKey[0] = 6 },
		"pre-key type":   func(b *PublishedBundle03) { b.PreKeys = []PublishedPreKey{{ID: 1, Key: b.PreKeys[0].Key[1:]}} },
		"no pre-keys":    func(b *PublishedBundle03) { b.PreKeys = nil },
	} {
		c := d.PublishBundle03()
		mutate(&c)
		if _, err := c.Choose(r); err == nil {
			t.Fatalf("%s: accepted a bad bundle", name)
		}
	}
}

func FuzzChooseBundle03(f *testing.F) {
	d, _ := NewDevice(detRand(12), deviceEpoch)
	b := d.PublishBundle03()
	f.Add(b.IdentityKey, b.SignedPreKey, b.SignedPreKeySignature, b.PreKeys[0].Key, uint32(4))
	f.Fuzz(func(t *testing.T, ik, spk, sig, pk []byte, r uint32) {
		pb := PublishedBundle03{IdentityKey: ik, SignedPreKey: spk, SignedPreKeyID: 1, SignedPreKeySignature: sig,
			PreKeys: []PublishedPreKey{{ID: 9, Key: pk}}}
		out, err := pb.Choose(bytes.NewReader([]byte{byte(r >> 24), byte(r >> 16), byte(r >> 8), byte(r)}))
		if err != nil {
			return
		}
		if !VerifySignedPreKey03(&out.IdentityKey, spk, out.SignedPreKeySig) || out.PreKeyID != 9 {
			t.Fatal("chose a bundle that does not verify")
		}
	})
}

func FuzzParseFingerprint(f *testing.F) {
	f.Add("00112233 44556677 8899aabb ccddeeff 00112233 44556677 8899aabb ccddeeff")
	f.Add("05:00:11")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseFingerprint(s)
		if err != nil {
			return
		}
		if back, err := ParseFingerprint(FormatFingerprint(&k)); err != nil || back != k {
			t.Fatalf("%q: its formatted form does not read back", s)
		}
	})
}

// TestChooseBundle03KnownAnswer: bundles python3-oldmemo published with
// an Ed25519 identity of either sign bit are accepted and start sessions;
// with the sign bit in the signature flipped they are refused.
func TestChooseBundle03KnownAnswer(t *testing.T) {
	raw, err := os.ReadFile("testdata/bundle03.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Bundles []struct {
			Ed25519     string `json:"ed25519_identity_key"`
			SignBit     int    `json:"sign_bit"`
			IdentityKey string `json:"identity_key"`
			SPK         string `json:"signed_pre_key"`
			SPKID       uint32 `json:"signed_pre_key_id"`
			Sig         string `json:"signed_pre_key_signature"`
			PreKeys     []struct {
				ID  uint32 `json:"id"`
				Key string `json:"key"`
			} `json:"pre_keys"`
		} `json:"bundles"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	bits := map[int]bool{}
	us := newTestDevice(t, 13)
	for i, c := range v.Bundles {
		bits[c.SignBit] = true
		pb := PublishedBundle03{IdentityKey: unhex(t, c.IdentityKey), SignedPreKey: unhex(t, c.SPK),
			SignedPreKeyID: c.SPKID, SignedPreKeySignature: unhex(t, c.Sig)}
		for _, k := range c.PreKeys {
			pb.PreKeys = append(pb.PreKeys, PublishedPreKey{ID: k.ID, Key: unhex(t, k.Key)})
		}
		// The Montgomery form published is the Ed25519 key's.
		ed := key32(t, c.Ed25519)
		if m, err := EdwardsToMontgomery(ed); err != nil || !bytes.Equal(EncodePublicKey03(&m), pb.IdentityKey) {
			t.Fatalf("bundle %d: identity forms differ", i)
		}
		b, err := pb.Choose(detRand(uint64(130 + i)))
		if err != nil {
			t.Fatalf("bundle %d (sign bit %d): %v", i, c.SignBit, err)
		}
		if _, _, err := InitiateSession03(detRand(uint64(140+i)), us.identityPrivate(), 0, b); err != nil {
			t.Fatalf("bundle %d: %v", i, err)
		}
		pb.SignedPreKeySignature[63] ^= 0x80
		if _, err := pb.Choose(detRand(1)); err == nil {
			t.Fatalf("bundle %d: accepted with the sign bit flipped", i)
		}
	}
	if !bits[0] || !bits[1] {
		t.Fatal("the vectors lack a sign bit")
	}
}
