package omemo

import (
	"errors"
	"fmt"
	"io"
)

// The high-level OMEMO 0.3 message API: one plaintext encrypted for many
// devices, and the key addressed to us decrypted. It is pure: sessions
// and our device come in, and what changed comes back for the caller to
// store in the same transaction as the message. Nothing passed in is
// changed.

// KeyElement03 is one <key> of an OMEMO 0.3 message's header: the device
// it is for (rid), whether it is a pre-key message (prekey="true"), and
// its bytes (an OMEMO 0.3 message or pre-key message).
type KeyElement03 struct {
	RID    uint32
	PreKey bool
	Data   []byte
}

// Recipient03 is one device to encrypt for: the session we have with it,
// or, when Session is nil, the bundle (see PublishedBundle03.Choose) to
// start one from.
type Recipient03 struct {
	DeviceID uint32
	Session  *Session03
	Bundle   *Bundle03
}

// RecipientError03 is a device that could not be encrypted for, and why.
type RecipientError03 struct {
	DeviceID uint32
	Err      error
}

// Encrypted03 is a message encrypted for several devices. Keys and
// Sessions go together: Sessions[i] is the new or updated session with
// the device Keys[i] is for. Store every one of them in the same
// transaction as the message (with the outbox's copy of the ciphertext,
// so that a resend sends these bytes and never encrypts again). The
// sessions passed in are unchanged; until the transaction commits, they
// are still the stored state.
type Encrypted03 struct {
	IV       [PayloadIVSize03]byte
	Payload  []byte // nil for an empty message (no <payload>)
	Keys     []KeyElement03
	Sessions []*Session03
	Failed   []RecipientError03 // devices left out, each with its reason
}

var (
	errNoRecipient    = errors.New("omemo: the message could not be encrypted for any device")
	errEmptyPlaintext = errors.New("omemo: an empty message has no text to encrypt")
)

// EncryptMessage03 encrypts plaintext for the recipients: the payload
// once (EncryptPayload03), then its key and tag through each device's
// session. A device whose session cannot encrypt or whose bundle is bad
// (its signature does not verify, say) is left out and listed in Failed;
// if no device is left, it returns an error. rand gives the payload's key
// and IV and the keys of new sessions.
//
// An empty plaintext is refused: its payload would be empty, which other
// clients take for an empty message (EncryptEmpty03).
func EncryptMessage03(rand io.Reader, dev *Device, plaintext []byte, recipients []Recipient03) (*Encrypted03, error) {
	if len(plaintext) == 0 {
		return nil, errEmptyPlaintext
	}
	km, iv, ct, err := EncryptPayload03(rand, plaintext)
	if err != nil {
		return nil, err
	}
	return encryptKeys03(rand, dev, km[:], iv, ct, recipients)
}

// EncryptEmpty03 makes an empty OMEMO 0.3 message (a header without a
// payload): a fresh 16-byte key through each session, as clients send to
// answer a pre-key message, so that the peer stops sending pre-key
// messages, or to move a session on after a repair.
func EncryptEmpty03(rand io.Reader, dev *Device, recipients []Recipient03) (*Encrypted03, error) {
	var key [PayloadKeySize03]byte
	var iv [PayloadIVSize03]byte
	if _, err := io.ReadFull(rand, key[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand, iv[:]); err != nil {
		return nil, err
	}
	return encryptKeys03(rand, dev, key[:], iv, nil, recipients)
}

func encryptKeys03(rand io.Reader, dev *Device, keyMaterial []byte, iv [PayloadIVSize03]byte, payload []byte, recipients []Recipient03) (*Encrypted03, error) {
	out := &Encrypted03{IV: iv, Payload: payload}
	seen := make(map[uint32]bool, len(recipients))
	for _, r := range recipients {
		if seen[r.DeviceID] {
			out.Failed = append(out.Failed, RecipientError03{r.DeviceID, errors.New("omemo: the device is listed twice")})
			continue
		}
		seen[r.DeviceID] = true
		k, s, err := encryptKey03(rand, dev, keyMaterial, r)
		if err != nil {
			out.Failed = append(out.Failed, RecipientError03{r.DeviceID, err})
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

func encryptKey03(rand io.Reader, dev *Device, keyMaterial []byte, r Recipient03) (KeyElement03, *Session03, error) {
	if r.DeviceID == 0 || r.DeviceID > MaxDeviceID {
		return KeyElement03{}, nil, fmt.Errorf("omemo: device id %d out of range", r.DeviceID)
	}
	var s *Session03
	switch {
	case r.Session != nil:
		s = r.Session.clone()
	case r.Bundle != nil:
		var err error
		if s, _, err = InitiateSession03(rand, dev.identityPrivate(), 0, r.Bundle); err != nil {
			return KeyElement03{}, nil, err
		}
	default:
		return KeyElement03{}, nil, errors.New("omemo: neither a session nor a bundle for the device")
	}
	data, err := s.Encrypt(keyMaterial)
	if err != nil {
		return KeyElement03{}, nil, err
	}
	k := KeyElement03{RID: r.DeviceID, Data: data}
	if pk, ok := s.PreKeyHeader(); ok {
		k.PreKey, k.Data = true, pk.Wrap(data)
	}
	return k, s, nil
}

// Decrypted03 is a message decrypted with the key addressed to us, and
// what to store with it, in one transaction:
//
//   - Session replaces the stored session with the sender's device (or
//     is stored as its first one when NewSession);
//   - when UsedPreKey, the one-time pre-key PreKeyID is taken from our
//     device: Clone the device, call TakePreKey on the clone, store its
//     bytes, and publish the new bundle after the commit.
//
// PeerIdentity is the sender's identity key: check its trust (for a new
// session, compare it with the device's earlier identity, if any) before
// showing the message as trusted.
type Decrypted03 struct {
	Plaintext    []byte // nil for an empty message
	Empty        bool
	Session      *Session03
	NewSession   bool
	UsedPreKey   bool
	PreKeyID     uint32
	PeerIdentity [KeySize]byte
}

// DecryptMessage03 decrypts the key element addressed to our device and,
// with the key it carries, the payload (nil for an empty message, which
// has none). session is the stored session with the sender's device, or
// nil if there is none. A pre-key message that belongs to that session
// (the peer sends them until we answer) goes through it; any other
// builds a new session from our device's signed pre-key and the one-time
// pre-key it names, which must still be there (a replayed pre-key message
// finds it taken and is refused). rand gives our next ratchet keys.
//
// On any error nothing is to be stored: the session passed in is
// unchanged and no pre-key is to be taken.
func DecryptMessage03(rand io.Reader, dev *Device, session *Session03, key KeyElement03, iv, payload []byte) (*Decrypted03, error) {
	if key.RID != dev.ID() {
		return nil, fmt.Errorf("omemo: the key is for device %d, not ours (%d)", key.RID, dev.ID())
	}
	var out Decrypted03
	var km []byte
	if !key.PreKey {
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
		m, err := ParsePreKeyMessage03(key.Data)
		if err != nil {
			return nil, err
		}
		var existingErr error
		if session != nil && session.PeerIdentity() == m.IdentityKey {
			s := session.clone()
			if km, existingErr = s.Decrypt(rand, m.Message); existingErr == nil {
				out.Session = s
			}
		}
		if out.Session == nil {
			spk, ok := dev.SignedPreKeyPrivate(m.SignedPreKeyID)
			if !ok {
				return nil, fmt.Errorf("omemo: the pre-key message names signed pre-key %d, which we no longer have", m.SignedPreKeyID)
			}
			opk, ok := dev.PreKeyPrivate(m.PreKeyID)
			if !ok {
				if existingErr != nil {
					return nil, existingErr
				}
				return nil, fmt.Errorf("omemo: the pre-key message names pre-key %d, which is used already (a replay) or was never ours", m.PreKeyID)
			}
			s, pt, err := RespondSession03(rand, dev.identityPrivate(), spk, opk, m)
			if err != nil {
				return nil, err
			}
			km, out.Session = pt, s
			out.NewSession, out.UsedPreKey, out.PreKeyID = true, true, m.PreKeyID
		}
	}
	out.PeerIdentity = out.Session.PeerIdentity()
	if payload == nil {
		if len(km) != PayloadKeySize03 && len(km) != KeyMaterialSize03 {
			return nil, fmt.Errorf("omemo: an empty message's key is %d bytes, not %d or %d", len(km), PayloadKeySize03, KeyMaterialSize03)
		}
		out.Empty = true
		return &out, nil
	}
	pt, err := DecryptPayload03(km, iv, payload)
	if err != nil {
		return nil, err
	}
	if pt == nil {
		pt = []byte{}
	}
	out.Plaintext = pt
	return &out, nil
}
