package omemo

import (
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// Fields of OMEMOKeyExchange (proto2): pk_id = 1 (uint32, required),
// spk_id = 2 (uint32, required), ik = 3 (bytes, required: the initiator's
// Ed25519 identity key), ek = 4 (bytes, required: the X25519 ephemeral
// key), message = 5 (OMEMOAuthenticatedMessage, required).
var omemoKeyExchange2 = []protoField{
	{protowire.VarintType, true},
	{protowire.VarintType, true},
	{protowire.BytesType, true},
	{protowire.BytesType, true},
	{protowire.BytesType, true},
}

// KeyExchange2 is an OMEMO 2 key exchange (OMEMOKeyExchange): what the
// initiator of a session sends, wrapping each message, until the
// responder has answered, so that the responder can run X3DH and build
// its side of the session. Message is the OMEMOAuthenticatedMessage it
// carries.
type KeyExchange2 struct {
	PreKeyID       uint32        // the responder's one-time pre-key used
	SignedPreKeyID uint32        // the responder's signed pre-key used
	IdentityKey    [KeySize]byte // the initiator's identity key, Ed25519
	EphemeralKey   [KeySize]byte // X25519
	Message        []byte
}

// Marshal encodes the key exchange, its fields in number order as
// protobuf writes them.
func (k *KeyExchange2) Marshal() []byte {
	b := make([]byte, 0, 2*KeySize+len(k.Message)+24)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(k.PreKeyID))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(k.SignedPreKeyID))
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendBytes(b, k.IdentityKey[:])
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, k.EphemeralKey[:])
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	return protowire.AppendBytes(b, k.Message)
}

// Wrap returns the encoded key exchange carrying message, an
// OMEMOAuthenticatedMessage the new session encrypted.
func (k KeyExchange2) Wrap(message []byte) []byte {
	k.Message = message
	return k.Marshal()
}

// ParseKeyExchange2 decodes a key exchange strictly: it refuses a missing,
// repeated or wrongly typed field, a number too large for uint32, keys not
// of 32 bytes, a carried message that is not a well-formed
// OMEMOAuthenticatedMessage, and truncated input; unknown fields are
// skipped, as protobuf has it. The keys are checked by
// RespondSession2, not here.
func ParseKeyExchange2(b []byte) (*KeyExchange2, error) {
	v, err := readProto(b, "key exchange", omemoKeyExchange2)
	if err != nil {
		return nil, err
	}
	for _, i := range []int{2, 3} {
		if len(v[i].b) != KeySize {
			return nil, fmt.Errorf("omemo: key exchange field %d is %d bytes, not %d", i+1, len(v[i].b), KeySize)
		}
	}
	if _, err := header2(v[4].b); err != nil {
		return nil, fmt.Errorf("omemo: key exchange carries a malformed message: %w", err)
	}
	k := &KeyExchange2{PreKeyID: v[0].n, SignedPreKeyID: v[1].n, Message: append([]byte(nil), v[4].b...)}
	copy(k.IdentityKey[:], v[2].b)
	copy(k.EphemeralKey[:], v[3].b)
	return k, nil
}

// Bundle2 is what the initiator needs of the responder's published OMEMO 2
// bundle: its Ed25519 identity key, its signed pre-key with ID and
// signature, and the one-time pre-key it chose from the bundle, with its
// ID. The signature is over the signed pre-key's 32 bytes, not OMEMO 0.3's
// 33-byte encoding: our own is Sign(identity, spk[:]) with spk the X25519
// public signed pre-key, and it verifies under IdentityKey2(identity).
type Bundle2 struct {
	IdentityKey     [KeySize]byte // Ed25519, as published
	SignedPreKey    [KeySize]byte // X25519
	SignedPreKeyID  uint32
	SignedPreKeySig []byte
	PreKey          [KeySize]byte // X25519
	PreKeyID        uint32
}

// InitiateSession2 is the initiator's side of a new OMEMO 2 session: it
// checks the bundle's identity key and verifies the signature of its
// signed pre-key, runs X3DH with a fresh ephemeral key and starts the
// Double Ratchet with a fresh ratchet key, both read from rand (in that
// order). It returns the session and the key exchange to wrap every
// message it encrypts (Wrap) until the responder has answered.
func InitiateSession2(rand io.Reader, ourIdentity *[KeySize]byte, b *Bundle2) (*Session2, KeyExchange2, error) {
	var ephemeral, ratchet [KeySize]byte
	if _, err := io.ReadFull(rand, ephemeral[:]); err != nil {
		return nil, KeyExchange2{}, err
	}
	if _, err := io.ReadFull(rand, ratchet[:]); err != nil {
		return nil, KeyExchange2{}, err
	}
	sk, ad, err := x3dhActive2(ourIdentity, &ephemeral, &b.IdentityKey, &b.SignedPreKey, b.SignedPreKeySig, &b.PreKey)
	if err != nil {
		return nil, KeyExchange2{}, err
	}
	s, err := NewSession2Initiator(&sk, ad, &b.SignedPreKey, &ratchet)
	if err != nil {
		return nil, KeyExchange2{}, err
	}
	k := KeyExchange2{
		PreKeyID:       b.PreKeyID,
		SignedPreKeyID: b.SignedPreKeyID,
		IdentityKey:    IdentityKey2(ourIdentity),
		EphemeralKey:   PublicKey(&ephemeral),
	}
	return s, k, nil
}

// RespondSession2 is the responder's side: given our identity key, the
// signed pre-key and one-time pre-key the key exchange names (the caller
// looks them up by k.SignedPreKeyID and k.PreKeyID) and the parsed key
// exchange, it runs X3DH, builds our session and decrypts the message it
// carries, reading our next ratchet key from rand. On any failure it
// returns an error and nothing else; the caller should delete the one-time
// pre-key only after success.
func RespondSession2(rand io.Reader, ourIdentity, ourSignedPreKey, ourPreKey *[KeySize]byte, k *KeyExchange2) (*Session2, []byte, error) {
	sk, ad, err := x3dhPassive2(ourIdentity, ourSignedPreKey, ourPreKey, &k.IdentityKey, &k.EphemeralKey)
	if err != nil {
		return nil, nil, err
	}
	s, err := NewSession2Responder(&sk, ad, ourSignedPreKey)
	if err != nil {
		return nil, nil, err
	}
	pt, err := s.Decrypt(rand, k.Message)
	if err != nil {
		return nil, nil, err
	}
	return s, pt, nil
}
