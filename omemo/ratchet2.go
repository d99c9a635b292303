package omemo

import (
	"bytes"
	"encoding/binary"
	"io"
)

// format2 is OMEMO 2's Double Ratchet (XEP-0384): the KDF info strings
// "OMEMO Root Chain" and "OMEMO Message Key Material", the
// OMEMOAuthenticatedMessage format with a 16-byte MAC, and the 64-byte
// associated data of its X3DH (both Ed25519 identity keys).
var format2 = ratchetFormat{
	info:   info2,
	adSize: adSize2,
	seal:   encryptMessage2,
	header: header2,
	open: func(mk *[KeySize]byte, ad, data []byte) ([]byte, error) {
		_, pt, err := decryptMessage2(mk, ad, data)
		return pt, err
	},
}

// Session2 is the Double Ratchet state of one OMEMO 2 session, the same
// ratchet as Session03's with OMEMO 2's key derivations and message
// format. It is plain data: Marshal gives bytes the store keeps and
// UnmarshalSession2 restores it exactly. Encrypt and Decrypt change it
// only on success.
type Session2 struct {
	ratchet
	// pending is the key exchange an initiator wraps its messages in
	// until the first message from the responder decrypts (its Message
	// is unused).
	pending    KeyExchange2
	hasPending bool
}

// clone is a deep copy of the session.
func (s *Session2) clone() *Session2 {
	c := &Session2{ratchet: s.ratchet.clone(), pending: s.pending, hasPending: s.hasPending}
	c.pending.Message = nil
	return c
}

// KeyExchange is the key exchange to wrap each message this session
// encrypts in (with Wrap): while we started the session and have not yet
// decrypted a message from the peer. ok is false once the peer has
// answered, and for a session we did not start.
func (s *Session2) KeyExchange() (k KeyExchange2, ok bool) {
	if !s.hasPending {
		return KeyExchange2{}, false
	}
	return s.pending, true
}

// PeerIdentity is the peer's identity key the session was agreed with,
// in the Ed25519 form OMEMO 2 publishes (IdentityX25519 gives the form a
// fingerprint shows).
func (s *Session2) PeerIdentity() [KeySize]byte {
	var out [KeySize]byte
	copy(out[:], s.peerIdentityBytes())
	return out
}

// NewSession2Initiator starts the initiator's ratchet (RatchetInitAlice)
// from X3DH's shared secret and associated data (64 bytes), the
// responder's signed pre-key as its first ratchet key, and our first
// ratchet private key (fresh random bytes from the caller).
func NewSession2Initiator(sk *[KeySize]byte, ad []byte, theirSignedPreKey, ourRatchetPriv *[KeySize]byte) (*Session2, error) {
	s := &Session2{}
	if err := s.initiator(&format2, sk, ad, theirSignedPreKey, ourRatchetPriv); err != nil {
		return nil, err
	}
	return s, nil
}

// NewSession2Responder starts the responder's ratchet (RatchetInitBob):
// its first ratchet key pair is the signed pre-key the initiator used. It
// cannot send until it has decrypted the initiator's first message.
func NewSession2Responder(sk *[KeySize]byte, ad []byte, ourSignedPreKey *[KeySize]byte) (*Session2, error) {
	s := &Session2{}
	if err := s.responder(&format2, sk, ad, ourSignedPreKey); err != nil {
		return nil, err
	}
	return s, nil
}

// Encrypt is RatchetEncrypt: it steps the sending chain and returns the
// OMEMOAuthenticatedMessage (what goes base64-encoded in a <key> element,
// or inside a key exchange until the session is answered).
func (s *Session2) Encrypt(plaintext []byte) ([]byte, error) {
	return s.encrypt(&format2, plaintext)
}

// Decrypt is RatchetDecrypt for an OMEMOAuthenticatedMessage. rand gives
// the private key of our next ratchet key pair when the message turns the
// DH ratchet. A message that is malformed, tampered, replayed or would
// skip too many keys is refused and the session is left exactly as it
// was.
func (s *Session2) Decrypt(rand io.Reader, data []byte) ([]byte, error) {
	pt, err := s.decryptMessage(&format2, rand, data)
	if err == nil {
		s.hasPending = false // the peer has answered: it has its session
	}
	return pt, err
}

// session2Version is the first byte of a marshalled Session2; it differs
// from Session03's so that neither restores from the other's bytes.
const session2Version = 0x21

// Marshal encodes the session for the store; UnmarshalSession2 restores it
// exactly. The bytes hold private keys: keep them as such.
func (s *Session2) Marshal() []byte {
	var extra []byte
	if s.hasPending {
		extra = make([]byte, 0, pendingSize2)
		extra = binary.BigEndian.AppendUint32(extra, s.pending.PreKeyID)
		extra = binary.BigEndian.AppendUint32(extra, s.pending.SignedPreKeyID)
		extra = append(extra, s.pending.IdentityKey[:]...)
		extra = append(extra, s.pending.EphemeralKey[:]...)
	}
	return s.marshal(session2Version, extra)
}

// pendingSize2 is the pending key exchange: two ids, identity and
// ephemeral keys.
const pendingSize2 = 2*4 + 2*KeySize

// UnmarshalSession2 restores a session from Marshal's bytes. It refuses
// another version (a Session03's bytes too), a wrong length, unknown
// flags, a public ratchet key that does not match its private key, and
// more skipped keys than kept.
func UnmarshalSession2(b []byte) (*Session2, error) {
	s := &Session2{}
	extra, err := s.unmarshal(&format2, session2Version, b)
	if err != nil {
		return nil, err
	}
	if extra != nil {
		// Only an initiator that has received nothing has a pending key
		// exchange, and it names our own identity key (the AD's first).
		if len(extra) != pendingSize2 || s.isResponder || s.hasRecv {
			return nil, errBadSession
		}
		s.pending.PreKeyID = binary.BigEndian.Uint32(extra)
		s.pending.SignedPreKeyID = binary.BigEndian.Uint32(extra[4:])
		copy(s.pending.IdentityKey[:], extra[8:])
		copy(s.pending.EphemeralKey[:], extra[8+KeySize:])
		if !bytes.Equal(s.pending.IdentityKey[:], s.ad[:KeySize]) {
			return nil, errBadSession
		}
		s.hasPending = true
	}
	return s, nil
}
