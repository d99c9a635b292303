package omemo

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// Fields of OMEMOKeyExchange (proto2), libsignal's PreKeySignalMessage as
// OMEMO 0.3 uses it: preKeyId = 1 (uint32, required in OMEMO 0.3),
// baseKey = 2 (bytes, required), identityKey = 3 (bytes, required),
// message = 4 (bytes, required: an OMEMO 0.3 message with its MAC),
// registrationId = 5 (uint32, optional), signedPreKeyId = 6 (uint32,
// required).
const (
	fieldPreKeyID       protowire.Number = 1
	fieldBaseKey        protowire.Number = 2
	fieldIdentityKey    protowire.Number = 3
	fieldMessage        protowire.Number = 4
	fieldRegistrationID protowire.Number = 5
	fieldSignedPreKeyID protowire.Number = 6
)

var errBadPreKeyMessage = errors.New("omemo: malformed pre-key message")

// PreKeyMessage03 is an OMEMO 0.3 pre-key message: what the initiator of a
// session sends until the responder has answered, so that the responder
// can run X3DH and build its side of the session. Message is the OMEMO 0.3
// message (version byte, OMEMOMessage, MAC) it carries.
type PreKeyMessage03 struct {
	RegistrationID uint32 // optional; 0 means absent and is not sent
	PreKeyID       uint32 // the responder's one-time pre-key used
	SignedPreKeyID uint32 // the responder's signed pre-key used
	BaseKey        [KeySize]byte
	IdentityKey    [KeySize]byte // the initiator's identity key
	Message        []byte
}

// Marshal encodes the pre-key message: the version byte 0x33, then the
// OMEMOKeyExchange.
func (m *PreKeyMessage03) Marshal() []byte {
	b := []byte{messageVersion03}
	b = protowire.AppendTag(b, fieldPreKeyID, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(m.PreKeyID))
	b = protowire.AppendTag(b, fieldBaseKey, protowire.BytesType)
	b = protowire.AppendBytes(b, EncodePublicKey03(&m.BaseKey))
	b = protowire.AppendTag(b, fieldIdentityKey, protowire.BytesType)
	b = protowire.AppendBytes(b, EncodePublicKey03(&m.IdentityKey))
	b = protowire.AppendTag(b, fieldMessage, protowire.BytesType)
	b = protowire.AppendBytes(b, m.Message)
	if m.RegistrationID != 0 {
		b = protowire.AppendTag(b, fieldRegistrationID, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(m.RegistrationID))
	}
	b = protowire.AppendTag(b, fieldSignedPreKeyID, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(m.SignedPreKeyID))
}

// ParsePreKeyMessage03 decodes a pre-key message strictly: it refuses
// another version byte, a missing, repeated or wrongly typed field, a
// number too large for uint32, a key not in OMEMO 0.3's encoding and
// truncated input; unknown fields are skipped, as protobuf has it. The
// inner message is only checked to be present, not parsed.
func ParsePreKeyMessage03(b []byte) (*PreKeyMessage03, error) {
	if len(b) == 0 || b[0] != messageVersion03 {
		return nil, fmt.Errorf("omemo: pre-key message of unknown version")
	}
	b = b[1:]
	m := &PreKeyMessage03{}
	var seen [fieldSignedPreKeyID + 1]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errBadPreKeyMessage
		}
		b = b[n:]
		known := num >= fieldPreKeyID && num <= fieldSignedPreKeyID
		if !known {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, errBadPreKeyMessage
			}
			b = b[n:]
			continue
		}
		if seen[num] {
			return nil, fmt.Errorf("omemo: pre-key message field %d repeated", num)
		}
		seen[num] = true
		switch num {
		case fieldBaseKey, fieldIdentityKey, fieldMessage:
			if typ != protowire.BytesType {
				return nil, fmt.Errorf("omemo: pre-key message field %d of the wrong type", num)
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, errBadPreKeyMessage
			}
			b = b[n:]
			var err error
			switch num {
			case fieldBaseKey:
				m.BaseKey, err = DecodePublicKey03(v)
			case fieldIdentityKey:
				m.IdentityKey, err = DecodePublicKey03(v)
			default:
				if len(v) == 0 {
					return nil, fmt.Errorf("omemo: pre-key message carries an empty message")
				}
				m.Message = append([]byte(nil), v...)
			}
			if err != nil {
				return nil, err
			}
		default: // the three uint32 fields
			if typ != protowire.VarintType {
				return nil, fmt.Errorf("omemo: pre-key message field %d of the wrong type", num)
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v > 1<<32-1 {
				return nil, errBadPreKeyMessage
			}
			b = b[n:]
			switch num {
			case fieldPreKeyID:
				m.PreKeyID = uint32(v)
			case fieldRegistrationID:
				m.RegistrationID = uint32(v)
			default:
				m.SignedPreKeyID = uint32(v)
			}
		}
	}
	for _, f := range []protowire.Number{fieldPreKeyID, fieldBaseKey, fieldIdentityKey, fieldMessage, fieldSignedPreKeyID} {
		if !seen[f] {
			return nil, fmt.Errorf("omemo: pre-key message lacks field %d", f)
		}
	}
	return m, nil
}

// Bundle03 is what the initiator needs of the responder's published
// bundle: its identity key, its signed pre-key with ID and signature, and
// the one-time pre-key it chose from the bundle, with its ID.
type Bundle03 struct {
	IdentityKey     [KeySize]byte
	SignedPreKey    [KeySize]byte
	SignedPreKeyID  uint32
	SignedPreKeySig []byte
	PreKey          [KeySize]byte
	PreKeyID        uint32
}

// InitiateSession03 is the initiator's side of a new OMEMO 0.3 session:
// it verifies the signature of the bundle's signed pre-key, runs X3DH with
// a fresh ephemeral (base) key and starts the Double Ratchet with a fresh
// ratchet key, both read from rand. It returns the session and the
// pre-key message to wrap every message it encrypts (set Message, then
// Marshal) until the responder has answered. registrationID may be 0.
func InitiateSession03(rand io.Reader, ourIdentity *[KeySize]byte, registrationID uint32, b *Bundle03) (*Session03, PreKeyMessage03, error) {
	var ephemeral, ratchet [KeySize]byte
	if _, err := io.ReadFull(rand, ephemeral[:]); err != nil {
		return nil, PreKeyMessage03{}, err
	}
	if _, err := io.ReadFull(rand, ratchet[:]); err != nil {
		return nil, PreKeyMessage03{}, err
	}
	sk, ad, err := x3dhActive03(ourIdentity, &ephemeral, &b.IdentityKey, &b.SignedPreKey, b.SignedPreKeySig, &b.PreKey)
	if err != nil {
		return nil, PreKeyMessage03{}, err
	}
	s, err := NewSession03Initiator(&sk, ad, &b.SignedPreKey, &ratchet)
	if err != nil {
		return nil, PreKeyMessage03{}, err
	}
	pk := PreKeyMessage03{
		RegistrationID: registrationID,
		PreKeyID:       b.PreKeyID,
		SignedPreKeyID: b.SignedPreKeyID,
		BaseKey:        PublicKey(&ephemeral),
		IdentityKey:    PublicKey(ourIdentity),
	}
	s.pending, s.hasPending = pk, true
	return s, pk, nil
}

// Wrap returns the encoded pre-key message carrying message, an OMEMO 0.3
// message the new session encrypted.
func (m PreKeyMessage03) Wrap(message []byte) []byte {
	m.Message = message
	return m.Marshal()
}

// RespondSession03 is the responder's side: given our identity key, the
// signed pre-key and one-time pre-key the message names (the caller looks
// them up by m.SignedPreKeyID and m.PreKeyID) and the parsed pre-key
// message, it runs X3DH, builds our session and decrypts the message it
// carries, reading our next ratchet key from rand. On any failure it
// returns an error and nothing else; the caller should delete the one-time
// pre-key only after success.
func RespondSession03(rand io.Reader, ourIdentity, ourSignedPreKey, ourPreKey *[KeySize]byte, m *PreKeyMessage03) (*Session03, []byte, error) {
	sk, ad, err := x3dhPassive03(ourIdentity, ourSignedPreKey, ourPreKey, &m.IdentityKey, &m.BaseKey)
	if err != nil {
		return nil, nil, err
	}
	s, err := NewSession03Responder(&sk, ad, ourSignedPreKey)
	if err != nil {
		return nil, nil, err
	}
	pt, err := s.Decrypt(rand, m.Message)
	if err != nil {
		return nil, nil, err
	}
	return s, pt, nil
}
