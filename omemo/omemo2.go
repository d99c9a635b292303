package omemo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The high-level OMEMO 2 message API, as omemo03.go is for OMEMO 0.3: one
// plaintext (the XEP-0420 envelope) encrypted for many devices, and the
// key addressed to us decrypted. It is pure: sessions and our device come
// in, and what changed comes back for the caller to store in the same
// transaction as the message. Nothing passed in is changed.

// KeyElement2 is one <key> of an OMEMO 2 message's header: the device it
// is for (rid), whether it is a key exchange (kex="true"), and its bytes
// (an OMEMOAuthenticatedMessage, or an OMEMOKeyExchange carrying one).
type KeyElement2 struct {
	RID  uint32
	Kex  bool
	Data []byte
}

// Recipient2 is one device to encrypt for: the session we have with it,
// or, when Session is nil, the bundle (see PublishedBundle2.Choose) to
// start one from.
type Recipient2 struct {
	DeviceID uint32
	Session  *Session2
	Bundle   *Bundle2
}

// RecipientError2 is a device that could not be encrypted for, and why.
type RecipientError2 struct {
	DeviceID uint32
	Err      error
}

// Encrypted2 is a message encrypted for several devices. Sessions[i] is
// the new or updated session with the device Keys[i] is for; store them
// with the message, as for Encrypted03.
type Encrypted2 struct {
	Payload  []byte // nil for an empty message (no <payload>)
	Keys     []KeyElement2
	Sessions []*Session2
	Failed   []RecipientError2
}

// emptyKeyMaterial2 is what an empty OMEMO 2 message carries through its
// sessions: a key of 32 zero bytes and no MAC (python3-twomemo's
// convention; there is no payload to authenticate).
var emptyKeyMaterial2 = make([]byte, PayloadKeySize2)

// EncryptMessage2 encrypts plaintext (the serialised XEP-0420 envelope)
// for the recipients: the payload once (EncryptPayload2), then its key
// material through each device's session. A device whose session cannot
// encrypt or whose bundle is bad is left out and listed in Failed; if no
// device is left, it returns an error.
func EncryptMessage2(rand io.Reader, dev *Device, plaintext []byte, recipients []Recipient2) (*Encrypted2, error) {
	if len(plaintext) == 0 {
		return nil, errEmptyPlaintext
	}
	ct, km, err := EncryptPayload2(rand, plaintext)
	if err != nil {
		return nil, err
	}
	return encryptKeys2(rand, dev, km[:], ct, recipients)
}

// EncryptEmpty2 makes an empty OMEMO 2 message (a header without a
// payload), sent to answer a key exchange or to repair a session.
func EncryptEmpty2(rand io.Reader, dev *Device, recipients []Recipient2) (*Encrypted2, error) {
	return encryptKeys2(rand, dev, emptyKeyMaterial2, nil, recipients)
}

func encryptKeys2(rand io.Reader, dev *Device, keyMaterial, payload []byte, recipients []Recipient2) (*Encrypted2, error) {
	out := &Encrypted2{Payload: payload}
	seen := make(map[uint32]bool, len(recipients))
	for _, r := range recipients {
		if seen[r.DeviceID] {
			out.Failed = append(out.Failed, RecipientError2{r.DeviceID, errors.New("omemo: the device is listed twice")})
			continue
		}
		seen[r.DeviceID] = true
		k, s, err := encryptKey2(rand, dev, keyMaterial, r)
		if err != nil {
			out.Failed = append(out.Failed, RecipientError2{r.DeviceID, err})
			continue
		}
		out.Keys = append(out.Keys, k)
		out.Sessions = append(out.Sessions, s)
	}
	if len(out.Keys) == 0 {
		if len(out.Failed) > 0 {
			return out, fmt.Errorf("%w: device %d: %w", errNoRecipient, out.Failed[0].DeviceID, out.Failed[0].Err)
		}
		return out, errNoRecipient
	}
	return out, nil
}

func encryptKey2(rand io.Reader, dev *Device, keyMaterial []byte, r Recipient2) (KeyElement2, *Session2, error) {
	if r.DeviceID == 0 || r.DeviceID > MaxDeviceID {
		return KeyElement2{}, nil, fmt.Errorf("omemo: device id %d out of range", r.DeviceID)
	}
	var s *Session2
	switch {
	case r.Session != nil:
		s = r.Session.clone()
	case r.Bundle != nil:
		ns, kex, err := InitiateSession2(rand, dev.identityPrivate(), r.Bundle)
		if err != nil {
			return KeyElement2{}, nil, err
		}
		s = ns
		s.pending, s.hasPending = kex, true
	default:
		return KeyElement2{}, nil, errors.New("omemo: neither a session nor a bundle for the device")
	}
	data, err := s.Encrypt(keyMaterial)
	if err != nil {
		return KeyElement2{}, nil, err
	}
	k := KeyElement2{RID: r.DeviceID, Data: data}
	if kex, ok := s.KeyExchange(); ok {
		k.Kex, k.Data = true, kex.Wrap(data)
	}
	return k, s, nil
}

// Decrypted2 is a message decrypted with the key addressed to us, and
// what to store with it, as Decrypted03 says. PeerIdentity is the
// sender's identity key as OMEMO 2 publishes it (Ed25519);
// EdwardsToMontgomery gives the form its fingerprint shows.
type Decrypted2 struct {
	Plaintext    []byte // nil for an empty message
	Empty        bool
	Session      *Session2
	NewSession   bool
	UsedPreKey   bool
	PreKeyID     uint32
	PeerIdentity [KeySize]byte
}

// DecryptMessage2 decrypts the key element addressed to our device and,
// with the key material it carries, the payload (nil for an empty
// message). session is the stored session with the sender's device, or
// nil. A key exchange that belongs to that session (the peer wraps its
// messages in it until we answer) goes through it; any other builds a new
// session from our signed pre-key and the one-time pre-key it names,
// which must still be there (a replayed key exchange finds it taken).
//
// On any error nothing is to be stored: the session passed in is
// unchanged and no pre-key is to be taken.
func DecryptMessage2(rand io.Reader, dev *Device, session *Session2, key KeyElement2, payload []byte) (*Decrypted2, error) {
	if key.RID != dev.ID() {
		return nil, fmt.Errorf("omemo: the key is for device %d, not ours (%d)", key.RID, dev.ID())
	}
	var out Decrypted2
	var km []byte
	if !key.Kex {
		if session == nil {
			return nil, errors.New("omemo: a message for a session we do not have")
		}
		s := session.clone()
		var err error
		if km, err = s.Decrypt(rand, key.Data); err != nil {
			return nil, err
		}
		out.Session = s
	} else {
		k, err := ParseKeyExchange2(key.Data)
		if err != nil {
			return nil, err
		}
		var existingErr error
		if session != nil && session.PeerIdentity() == k.IdentityKey {
			s := session.clone()
			if km, existingErr = s.Decrypt(rand, k.Message); existingErr == nil {
				out.Session = s
			}
		}
		if out.Session == nil {
			spk, ok := dev.SignedPreKeyPrivate(k.SignedPreKeyID)
			if !ok {
				return nil, fmt.Errorf("omemo: the key exchange names signed pre-key %d, which we no longer have", k.SignedPreKeyID)
			}
			opk, ok := dev.PreKeyPrivate(k.PreKeyID)
			if !ok {
				if existingErr != nil {
					return nil, existingErr
				}
				return nil, fmt.Errorf("omemo: the key exchange names pre-key %d, which is used already (a replay) or was never ours", k.PreKeyID)
			}
			s, pt, err := RespondSession2(rand, dev.identityPrivate(), spk, opk, k)
			if err != nil {
				return nil, err
			}
			km, out.Session = pt, s
			out.NewSession, out.UsedPreKey, out.PreKeyID = true, true, k.PreKeyID
		}
	}
	out.PeerIdentity = out.Session.PeerIdentity()
	if payload == nil {
		if len(km) == PayloadKeyMaterialSize2 {
			// Key and MAC: the key of a message whose payload was
			// removed on the way (an empty message carries a key
			// alone), not one to take as empty and lose unseen.
			return nil, fmt.Errorf("%w: its payload is missing", ErrPayload)
		}
		if len(km) != PayloadKeySize2 {
			return nil, fmt.Errorf("omemo: an empty message's key material is %d bytes, not %d", len(km), PayloadKeySize2)
		}
		out.Empty = true
		return &out, nil
	}
	pt, err := DecryptPayload2(km, payload)
	if err != nil {
		return nil, err
	}
	out.Plaintext = pt
	return &out, nil
}

// Choose turns a peer's published OMEMO 2 bundle into what starting a
// session needs, with one of its pre-keys picked at random (rand). It
// checks every key's size and the identity key, and verifies the signed
// pre-key's signature, so that a bad bundle is refused before any key of
// ours is used on it.
func (b *PublishedBundle2) Choose(rand io.Reader) (*Bundle2, error) {
	out := &Bundle2{SignedPreKeyID: b.SignedPreKeyID}
	if len(b.IdentityKey) != KeySize || len(b.SignedPreKey) != KeySize || len(b.SignedPreKeySignature) != SignatureSize {
		return nil, errors.New("omemo: the bundle's keys or signature have the wrong size")
	}
	copy(out.IdentityKey[:], b.IdentityKey)
	copy(out.SignedPreKey[:], b.SignedPreKey)
	if _, err := identityMontgomery2(&out.IdentityKey); err != nil {
		return nil, fmt.Errorf("omemo: the bundle's identity key: %w", err)
	}
	if !verifyEdwards(&out.IdentityKey, out.SignedPreKey[:], b.SignedPreKeySignature) {
		return nil, errBadSignedPreKey
	}
	out.SignedPreKeySig = append([]byte(nil), b.SignedPreKeySignature...)
	if len(b.PreKeys) == 0 {
		return nil, errors.New("omemo: the bundle offers no one-time pre-key")
	}
	var r [4]byte
	if _, err := io.ReadFull(rand, r[:]); err != nil {
		return nil, err
	}
	pk := b.PreKeys[binary.BigEndian.Uint32(r[:])%uint32(len(b.PreKeys))]
	if len(pk.Key) != KeySize {
		return nil, fmt.Errorf("omemo: the bundle's pre-key %d has %d bytes", pk.ID, len(pk.Key))
	}
	copy(out.PreKey[:], pk.Key)
	out.PreKeyID = pk.ID
	return out, nil
}

// IdentityX25519 is the X25519 (Montgomery) form of an OMEMO 2 identity
// key: what its fingerprint shows and what OMEMO 0.3 publishes for the
// same identity. It refuses what is not a valid identity key.
func IdentityX25519(ed *[KeySize]byte) ([KeySize]byte, error) {
	return identityMontgomery2(ed)
}
