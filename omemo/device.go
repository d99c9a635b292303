package omemo

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Limits and periods of our own device's key material.
const (
	// MaxDeviceID is the largest device id: ids are in 1…2³¹−1, as
	// XEP-0384 asks, so that clients reading them as signed 32-bit
	// integers agree.
	MaxDeviceID = 1<<31 - 1

	// NumPreKeys is how many one-time pre-keys the bundle offers; each
	// one a session takes is replaced with a fresh one.
	NumPreKeys = 100

	// SignedPreKeyRotation is how old the signed pre-key may grow before
	// RotateSignedPreKey replaces it: a week, python3-omemo's default
	// (signed_pre_key_rotation_period). The one before is kept, so that
	// pre-key messages sent to the old bundle still decrypt.
	SignedPreKeyRotation = 7 * 24 * time.Hour

	// maxKeyID is the largest pre-key or signed pre-key id we hand out;
	// ids are never reused, and kept within signed 32-bit range like the
	// device id.
	maxKeyID = 1<<31 - 1
)

var (
	errBadDevice      = errors.New("omemo: malformed device state")
	errKeyIDsSpent    = errors.New("omemo: no unused pre-key ids are left")
	errUnknownPreKey  = errors.New("omemo: no one-time pre-key with that id")
	errBadFingerprint = errors.New("omemo: a fingerprint is 64 hexadecimal digits (spaces allowed)")
)

// signedPreKey is a signed pre-key with its signatures in both versions'
// forms: OMEMO 0.3 signs the 33-byte encoding (0x05 || u), as libsignal
// does; OMEMO 2 signs the 32 bytes of u, as python3-twomemo does. Both are
// XEdDSA signatures by the identity key.
type signedPreKey struct {
	id      uint32
	priv    [KeySize]byte
	sig03   [SignatureSize]byte
	sig2    [SignatureSize]byte
	created int64 // Unix seconds
}

type preKey struct {
	id   uint32
	priv [KeySize]byte
}

// Device is our own OMEMO device: its id and identity secret, shared by
// OMEMO 0.3 and OMEMO 2 (as python3-omemo does), its current signed
// pre-key and the one before it, and its one-time pre-keys. It holds
// private keys: Marshal's bytes belong in the 0600 store only.
//
// A Device is plain data, changed only by its methods. To change it
// together with a message (a pre-key taken, a signed pre-key rotated),
// Clone it, change the clone, store the clone's bytes in the same
// transaction as the message, and only then use the clone.
type Device struct {
	id       uint32
	identity [KeySize]byte

	spk    signedPreKey
	old    signedPreKey
	hasOld bool

	preKeys []preKey // ascending ids

	nextSignedPreKeyID uint32
	nextPreKeyID       uint32
}

// NewDevice makes a new device: a random id in 1…MaxDeviceID, an identity
// secret, a signed pre-key dated now and NumPreKeys one-time pre-keys,
// all from rand. If the id is already in the account's device list, make
// another.
func NewDevice(rand io.Reader, now time.Time) (*Device, error) {
	d := &Device{nextSignedPreKeyID: 1, nextPreKeyID: 1}
	for d.id == 0 {
		var b [4]byte
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return nil, fmt.Errorf("omemo: device id: %w", err)
		}
		d.id = binary.BigEndian.Uint32(b[:]) & MaxDeviceID
	}
	if _, err := io.ReadFull(rand, d.identity[:]); err != nil {
		return nil, fmt.Errorf("omemo: identity key: %w", err)
	}
	spk, err := d.newSignedPreKey(rand, now)
	if err != nil {
		return nil, err
	}
	d.spk = spk
	if _, err := d.topUp(rand); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Device) newSignedPreKey(rand io.Reader, now time.Time) (signedPreKey, error) {
	if d.nextSignedPreKeyID > maxKeyID {
		return signedPreKey{}, errKeyIDsSpent
	}
	s := signedPreKey{id: d.nextSignedPreKeyID, created: now.Unix()}
	if _, err := io.ReadFull(rand, s.priv[:]); err != nil {
		return signedPreKey{}, fmt.Errorf("omemo: signed pre-key: %w", err)
	}
	pub := PublicKey(&s.priv)
	var z [randomSize]byte
	for _, sig := range []struct {
		out *[SignatureSize]byte
		msg []byte
	}{{&s.sig03, EncodePublicKey03(&pub)}, {&s.sig2, pub[:]}} {
		if _, err := io.ReadFull(rand, z[:]); err != nil {
			return signedPreKey{}, fmt.Errorf("omemo: signing the signed pre-key: %w", err)
		}
		*sig.out = signWithRandom(&d.identity, sig.msg, &z)
	}
	d.nextSignedPreKeyID++
	return s, nil
}

// topUp adds fresh one-time pre-keys, with ids never used before, until
// there are NumPreKeys. It returns how many it added.
func (d *Device) topUp(rand io.Reader) (int, error) {
	added := 0
	for len(d.preKeys) < NumPreKeys {
		if d.nextPreKeyID > maxKeyID {
			return added, errKeyIDsSpent
		}
		k := preKey{id: d.nextPreKeyID}
		if _, err := io.ReadFull(rand, k.priv[:]); err != nil {
			return added, fmt.Errorf("omemo: one-time pre-key: %w", err)
		}
		d.preKeys = append(d.preKeys, k)
		d.nextPreKeyID++
		added++
	}
	return added, nil
}

// Clone returns an independent copy, to change and store before the
// original is replaced.
func (d *Device) Clone() *Device {
	c := *d
	c.preKeys = append([]preKey(nil), d.preKeys...)
	return &c
}

// ID is the device id, the same in OMEMO 0.3 and OMEMO 2.
func (d *Device) ID() uint32 { return d.id }

// IdentityKey is the public identity key as an X25519 (Montgomery u)
// key; OMEMO 0.3 publishes it as EncodePublicKey03 gives it.
func (d *Device) IdentityKey() [KeySize]byte { return PublicKey(&d.identity) }

// IdentityKeyEd25519 is the public identity key as OMEMO 2 publishes it:
// the Ed25519 point of XEdDSA (sign bit 0), against which our XEdDSA
// signatures verify as Ed25519 signatures.
func (d *Device) IdentityKeyEd25519() [KeySize]byte {
	A, _ := calculateKeyPair(&d.identity)
	return A
}

// identityPrivate is the identity secret, for X3DH.
func (d *Device) identityPrivate() *[KeySize]byte { return &d.identity }

// Fingerprint is our identity key's fingerprint as users compare it.
func (d *Device) Fingerprint() string {
	pub := d.IdentityKey()
	return FormatFingerprint(&pub)
}

// SignedPreKeyID is the id of the current signed pre-key.
func (d *Device) SignedPreKeyID() uint32 { return d.spk.id }

// SignedPreKeyCreated is when the current signed pre-key was made.
func (d *Device) SignedPreKeyCreated() time.Time { return time.Unix(d.spk.created, 0).UTC() }

// RotateSignedPreKey replaces the signed pre-key with a new one when the
// current one is SignedPreKeyRotation old or older at now; the current
// one becomes the previous (kept for late pre-key messages) and the one
// before is forgotten. It reports whether it rotated: if it did, store
// the device and publish the new bundles. A clock set back (now before
// the key's date) does not rotate.
func (d *Device) RotateSignedPreKey(rand io.Reader, now time.Time) (bool, error) {
	if now.Unix()-d.spk.created < int64(SignedPreKeyRotation/time.Second) {
		return false, nil
	}
	spk, err := d.newSignedPreKey(rand, now)
	if err != nil {
		return false, err
	}
	d.old, d.hasOld, d.spk = d.spk, true, spk
	return true, nil
}

// SignedPreKeyPrivate is the private signed pre-key with the given id:
// the current one or the previous one. A responder looks up the key a
// pre-key message names here.
func (d *Device) SignedPreKeyPrivate(id uint32) (*[KeySize]byte, bool) {
	switch {
	case id == d.spk.id:
		k := d.spk.priv
		return &k, true
	case d.hasOld && id == d.old.id:
		k := d.old.priv
		return &k, true
	}
	return nil, false
}

// PreKeyPrivate is the private one-time pre-key with the given id, if we
// still have it.
func (d *Device) PreKeyPrivate(id uint32) (*[KeySize]byte, bool) {
	if i, ok := d.preKeyIndex(id); ok {
		k := d.preKeys[i].priv
		return &k, true
	}
	return nil, false
}

func (d *Device) preKeyIndex(id uint32) (int, bool) {
	lo, hi := 0, len(d.preKeys)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case d.preKeys[m].id == id:
			return m, true
		case d.preKeys[m].id < id:
			lo = m + 1
		default:
			hi = m
		}
	}
	return 0, false
}

// PreKeyIDs are the ids of the one-time pre-keys we still have, ascending.
func (d *Device) PreKeyIDs() []uint32 {
	ids := make([]uint32, len(d.preKeys))
	for i, k := range d.preKeys {
		ids[i] = k.id
	}
	return ids
}

// TakePreKey removes the one-time pre-key id, which a session has been
// built from, and tops the pre-keys up to NumPreKeys with fresh ids from
// rand. Call it only after the pre-key message decrypted (DecryptMessage03
// says which key), on a Clone stored with the new session and the
// message; then publish the new bundles.
func (d *Device) TakePreKey(rand io.Reader, id uint32) error {
	i, ok := d.preKeyIndex(id)
	if !ok {
		return errUnknownPreKey
	}
	c := d.Clone()
	c.preKeys = append(c.preKeys[:i], c.preKeys[i+1:]...)
	if _, err := c.topUp(rand); err != nil {
		return err
	}
	*d = *c
	return nil
}

// PublishedPreKey is a one-time pre-key as a bundle publishes it.
type PublishedPreKey struct {
	ID  uint32
	Key []byte
}

// PublishedBundle03 is our OMEMO 0.3 bundle as it is published: keys in
// the 33-byte encoding (0x05 || u), the signed pre-key's signature over
// that encoding.
type PublishedBundle03 struct {
	IdentityKey           []byte
	SignedPreKey          []byte
	SignedPreKeyID        uint32
	SignedPreKeySignature []byte
	PreKeys               []PublishedPreKey
}

// PublishedBundle2 is our OMEMO 2 bundle as it is published: the identity
// key in its Ed25519 form, the signed pre-key and pre-keys as the 32 bytes
// of u, the signature over those 32 bytes.
type PublishedBundle2 struct {
	IdentityKey           []byte
	SignedPreKey          []byte
	SignedPreKeyID        uint32
	SignedPreKeySignature []byte
	PreKeys               []PublishedPreKey
}

// PublishBundle03 is the device's OMEMO 0.3 bundle.
func (d *Device) PublishBundle03() PublishedBundle03 {
	ik := d.IdentityKey()
	spk := PublicKey(&d.spk.priv)
	b := PublishedBundle03{
		IdentityKey:           EncodePublicKey03(&ik),
		SignedPreKey:          EncodePublicKey03(&spk),
		SignedPreKeyID:        d.spk.id,
		SignedPreKeySignature: append([]byte(nil), d.spk.sig03[:]...),
		PreKeys:               make([]PublishedPreKey, len(d.preKeys)),
	}
	for i, k := range d.preKeys {
		pub := PublicKey(&k.priv)
		b.PreKeys[i] = PublishedPreKey{ID: k.id, Key: EncodePublicKey03(&pub)}
	}
	return b
}

// PublishBundle2 is the device's OMEMO 2 bundle.
func (d *Device) PublishBundle2() PublishedBundle2 {
	ik := d.IdentityKeyEd25519()
	spk := PublicKey(&d.spk.priv)
	b := PublishedBundle2{
		IdentityKey:           ik[:],
		SignedPreKey:          spk[:],
		SignedPreKeyID:        d.spk.id,
		SignedPreKeySignature: append([]byte(nil), d.spk.sig2[:]...),
		PreKeys:               make([]PublishedPreKey, len(d.preKeys)),
	}
	for i, k := range d.preKeys {
		pub := PublicKey(&k.priv)
		b.PreKeys[i] = PublishedPreKey{ID: k.id, Key: append([]byte(nil), pub[:]...)}
	}
	return b
}

// Choose turns a peer's published OMEMO 0.3 bundle into what starting a
// session needs, with one of its pre-keys picked at random (rand). It
// decodes every key strictly and checks the signed pre-key's signature,
// so that a bad bundle is refused before any key of ours is used on it.
func (b *PublishedBundle03) Choose(rand io.Reader) (*Bundle03, error) {
	out := &Bundle03{SignedPreKeyID: b.SignedPreKeyID}
	var err error
	if out.IdentityKey, err = DecodePublicKey03(b.IdentityKey); err != nil {
		return nil, fmt.Errorf("omemo: the bundle's identity key: %w", err)
	}
	if out.SignedPreKey, err = DecodePublicKey03(b.SignedPreKey); err != nil {
		return nil, fmt.Errorf("omemo: the bundle's signed pre-key: %w", err)
	}
	// Verified as libsignal does, with the identity key's sign bit from
	// the signature's top bit (see VerifySignedPreKey03).
	sig := append([]byte(nil), b.SignedPreKeySignature...)
	if !VerifySignedPreKey03(&out.IdentityKey, b.SignedPreKey, sig) {
		return nil, errBadSignedPreKey
	}
	out.SignedPreKeySig = sig
	if len(b.PreKeys) == 0 {
		return nil, errors.New("omemo: the bundle offers no one-time pre-key")
	}
	var r [4]byte
	if _, err := io.ReadFull(rand, r[:]); err != nil {
		return nil, err
	}
	pk := b.PreKeys[binary.BigEndian.Uint32(r[:])%uint32(len(b.PreKeys))]
	if out.PreKey, err = DecodePublicKey03(pk.Key); err != nil {
		return nil, fmt.Errorf("omemo: the bundle's pre-key %d: %w", pk.ID, err)
	}
	out.PreKeyID = pk.ID
	return out, nil
}

// FormatFingerprint is the fingerprint of an identity key as users see
// and compare it in Conversations, Dino and Gajim: the 32 bytes of its
// X25519 (Montgomery u) form in lowercase hex, in eight groups of eight
// separated by spaces. The same identity key has the same fingerprint in
// OMEMO 0.3 and OMEMO 2 (XEP-0384 shows the Curve25519 form in both); an
// OMEMO 2 (Ed25519) key is converted with EdwardsToMontgomery first.
func FormatFingerprint(pub *[KeySize]byte) string {
	h := hex.EncodeToString(pub[:])
	var sb strings.Builder
	for i := 0; i < len(h); i += 8 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(h[i : i+8])
	}
	return sb.String()
}

// ParseFingerprint reads a fingerprint as a user types or pastes it: 64
// hexadecimal digits in either case, with spaces, tabs or colons between
// them or not. A 66-digit form starting with the 0.3 type byte 05 is
// accepted too.
func ParseFingerprint(s string) ([KeySize]byte, error) {
	var out [KeySize]byte
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', ':':
			return -1
		}
		return r
	}, s)
	if len(clean) == 2*EncodedKeySize03 && clean[:2] == "05" {
		clean = clean[2:]
	}
	if len(clean) != 2*KeySize {
		return out, errBadFingerprint
	}
	if _, err := hex.Decode(out[:], []byte(clean)); err != nil {
		return out, errBadFingerprint
	}
	return out, nil
}

// deviceVersion is the first byte of a marshalled Device.
const deviceVersion = 1

const (
	signedPreKeySize = 4 + KeySize + 2*SignatureSize + 8
	preKeySize       = 4 + KeySize
	// version, id, identity, signed pre-key, old flag, old signed
	// pre-key, the two next ids, the pre-key count
	deviceFixedSize = 1 + 4 + KeySize + signedPreKeySize + 1 + signedPreKeySize + 4 + 4 + 2
)

// Marshal encodes the device for the store; UnmarshalDevice restores it
// exactly. The bytes hold the identity secret and every private pre-key.
func (d *Device) Marshal() []byte {
	b := make([]byte, 0, deviceFixedSize+len(d.preKeys)*preKeySize)
	b = append(b, deviceVersion)
	b = binary.BigEndian.AppendUint32(b, d.id)
	b = append(b, d.identity[:]...)
	b = appendSignedPreKey(b, &d.spk)
	if d.hasOld {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendSignedPreKey(b, &d.old)
	b = binary.BigEndian.AppendUint32(b, d.nextSignedPreKeyID)
	b = binary.BigEndian.AppendUint32(b, d.nextPreKeyID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.preKeys)))
	for _, k := range d.preKeys {
		b = binary.BigEndian.AppendUint32(b, k.id)
		b = append(b, k.priv[:]...)
	}
	return b
}

func appendSignedPreKey(b []byte, s *signedPreKey) []byte {
	b = binary.BigEndian.AppendUint32(b, s.id)
	b = append(b, s.priv[:]...)
	b = append(b, s.sig03[:]...)
	b = append(b, s.sig2[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(s.created))
}

func readSignedPreKey(p []byte, s *signedPreKey) []byte {
	s.id = binary.BigEndian.Uint32(p)
	p = p[4:]
	copy(s.priv[:], p)
	p = p[KeySize:]
	copy(s.sig03[:], p)
	p = p[SignatureSize:]
	copy(s.sig2[:], p)
	p = p[SignatureSize:]
	s.created = int64(binary.BigEndian.Uint64(p))
	return p[8:]
}

// UnmarshalDevice restores a device from Marshal's bytes. It refuses
// another version, a wrong length, ids out of range, reused or out of
// order, more than NumPreKeys pre-keys, and signed pre-keys whose
// signatures do not verify under the identity key: a damaged record is
// an error, never a device that publishes wrong keys.
func UnmarshalDevice(b []byte) (*Device, error) {
	if len(b) < deviceFixedSize || b[0] != deviceVersion {
		return nil, errBadDevice
	}
	d := &Device{}
	p := b[1:]
	d.id = binary.BigEndian.Uint32(p)
	p = p[4:]
	copy(d.identity[:], p)
	p = p[KeySize:]
	p = readSignedPreKey(p, &d.spk)
	switch p[0] {
	case 0:
	case 1:
		d.hasOld = true
	default:
		return nil, errBadDevice
	}
	p = readSignedPreKey(p[1:], &d.old)
	d.nextSignedPreKeyID = binary.BigEndian.Uint32(p)
	d.nextPreKeyID = binary.BigEndian.Uint32(p[4:])
	count := int(binary.BigEndian.Uint16(p[8:]))
	p = p[10:]
	if count > NumPreKeys || len(p) != count*preKeySize {
		return nil, errBadDevice
	}
	if d.id == 0 || d.id > MaxDeviceID ||
		d.nextSignedPreKeyID > maxKeyID+1 || d.nextPreKeyID > maxKeyID+1 ||
		d.spk.id == 0 || d.spk.id >= d.nextSignedPreKeyID {
		return nil, errBadDevice
	}
	if d.hasOld {
		if d.old.id == 0 || d.old.id >= d.spk.id {
			return nil, errBadDevice
		}
	} else if d.old != (signedPreKey{}) {
		return nil, errBadDevice
	}
	if count > 0 {
		d.preKeys = make([]preKey, count)
	}
	var last uint32
	for i := range d.preKeys {
		k := &d.preKeys[i]
		k.id = binary.BigEndian.Uint32(p)
		copy(k.priv[:], p[4:])
		p = p[preKeySize:]
		if k.id <= last || k.id >= d.nextPreKeyID {
			return nil, errBadDevice
		}
		last = k.id
	}
	for _, s := range []*signedPreKey{&d.spk, &d.old} {
		if s == &d.old && !d.hasOld {
			continue
		}
		pub := PublicKey(&s.priv)
		ik := PublicKey(&d.identity)
		if !Verify(&ik, EncodePublicKey03(&pub), s.sig03[:]) || !Verify(&ik, pub[:], s.sig2[:]) {
			return nil, errBadDevice
		}
	}
	return d, nil
}
