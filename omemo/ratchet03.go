package omemo

import (
	"bytes"
	"encoding/binary"
	"io"
)

// format03 is OMEMO 0.3's Double Ratchet: libsignal's KDF info strings,
// its message format (version byte, OMEMOMessage, 8-byte MAC) and the
// 66-byte associated data of its X3DH.
var format03 = ratchetFormat{
	info:   info03,
	adSize: adSize03,
	seal:   encryptMessage03,
	header: func(data []byte) (ratchetHeader, error) {
		if len(data) < 1+macSize03 {
			return ratchetHeader{}, errBadMessage
		}
		h, _, err := parseMessage03(data[:len(data)-macSize03])
		return h, err
	},
	open: func(mk *[KeySize]byte, ad, data []byte) ([]byte, error) {
		_, pt, err := decryptMessage03(mk, ad, data)
		return pt, err
	},
	senderFirst: true,
}

// Session03 is the Double Ratchet state of one OMEMO 0.3 session, as
// Signal's Double Ratchet specification defines it (DHs, DHr, RK, CKs,
// CKr, Ns, Nr, PN, MKSKIPPED) with the associated data of its X3DH. It is
// plain data: Marshal gives bytes the store keeps and UnmarshalSession03
// restores it exactly. Encrypt and Decrypt change it only on success.
type Session03 struct {
	ratchet
	// pending is the pre-key message header an initiator wraps its
	// messages in until the first message from the responder decrypts.
	pending    PreKeyMessage03
	hasPending bool
}

// clone is a deep copy of the session.
func (s *Session03) clone() *Session03 {
	return &Session03{ratchet: s.ratchet.clone(), pending: s.pending, hasPending: s.hasPending}
}

// PreKeyHeader is the pre-key message to wrap each message this session
// encrypts in (with Wrap): while we started the session and have not yet
// decrypted a message from the peer, the peer needs it to build its side.
// ok is false once the peer has answered, and for a session we did not
// start.
func (s *Session03) PreKeyHeader() (m PreKeyMessage03, ok bool) {
	if !s.hasPending {
		return PreKeyMessage03{}, false
	}
	return s.pending, true
}

// PeerIdentity is the peer's identity key (X25519) the session was agreed
// with: what its fingerprint and trust are about.
func (s *Session03) PeerIdentity() [KeySize]byte {
	var out [KeySize]byte
	copy(out[:], s.peerIdentityBytes()[1:]) // after the key type byte
	return out
}

// NewSession03Initiator starts the initiator's ratchet (RatchetInitAlice):
// from X3DH's shared secret and associated data, the responder's signed
// pre-key as its first ratchet key, and our first ratchet private key
// (fresh random bytes from the caller).
func NewSession03Initiator(sk *[KeySize]byte, ad []byte, theirSignedPreKey, ourRatchetPriv *[KeySize]byte) (*Session03, error) {
	s := &Session03{}
	if err := s.initiator(&format03, sk, ad, theirSignedPreKey, ourRatchetPriv); err != nil {
		return nil, err
	}
	return s, nil
}

// NewSession03Responder starts the responder's ratchet (RatchetInitBob):
// its first ratchet key pair is the signed pre-key the initiator used. It
// cannot send until it has decrypted the initiator's first message.
func NewSession03Responder(sk *[KeySize]byte, ad []byte, ourSignedPreKey *[KeySize]byte) (*Session03, error) {
	s := &Session03{}
	if err := s.responder(&format03, sk, ad, ourSignedPreKey); err != nil {
		return nil, err
	}
	return s, nil
}

// Encrypt is RatchetEncrypt: it steps the sending chain and returns the
// OMEMO 0.3 message (version byte, OMEMOMessage, truncated MAC).
func (s *Session03) Encrypt(plaintext []byte) ([]byte, error) {
	return s.encrypt(&format03, plaintext)
}

// Decrypt is RatchetDecrypt. rand gives the private key of our next
// ratchet key pair when the message turns the DH ratchet. A message that
// is malformed, tampered, replayed or would skip too many keys is refused
// and the session is left exactly as it was.
func (s *Session03) Decrypt(rand io.Reader, data []byte) ([]byte, error) {
	pt, err := s.decryptMessage(&format03, rand, data)
	if err == nil {
		s.hasPending = false // the peer has answered: it has its session
	}
	return pt, err
}

// session03Version is the first byte of a marshalled Session03. Version 1
// lacked the responder flag (and MACed the responder's messages with the
// initiator's key first, which no other client reads); it is refused.
const session03Version = 2

// pendingSize03 is the pending pre-key header: three ids, base and
// identity keys.
const pendingSize03 = 3*4 + 2*KeySize

// Marshal encodes the session for the store; UnmarshalSession03 restores
// it exactly. The bytes hold private keys: keep them as such.
func (s *Session03) Marshal() []byte {
	var extra []byte
	if s.hasPending {
		extra = make([]byte, 0, pendingSize03)
		extra = binary.BigEndian.AppendUint32(extra, s.pending.RegistrationID)
		extra = binary.BigEndian.AppendUint32(extra, s.pending.PreKeyID)
		extra = binary.BigEndian.AppendUint32(extra, s.pending.SignedPreKeyID)
		extra = append(extra, s.pending.BaseKey[:]...)
		extra = append(extra, s.pending.IdentityKey[:]...)
	}
	return s.marshal(session03Version, extra)
}

// UnmarshalSession03 restores a session from Marshal's bytes. It refuses
// another version, a wrong length, unknown flags, a public ratchet key
// that does not match its private key, and more skipped keys than kept.
func UnmarshalSession03(b []byte) (*Session03, error) {
	s := &Session03{}
	extra, err := s.unmarshal(&format03, session03Version, b)
	if err != nil {
		return nil, err
	}
	if extra != nil {
		// Only an initiator that has received nothing has a pending
		// header, and it names our own identity key.
		if len(extra) != pendingSize03 || s.isResponder || s.hasRecv {
			return nil, errBadSession
		}
		s.pending.RegistrationID = binary.BigEndian.Uint32(extra)
		s.pending.PreKeyID = binary.BigEndian.Uint32(extra[4:])
		s.pending.SignedPreKeyID = binary.BigEndian.Uint32(extra[8:])
		copy(s.pending.BaseKey[:], extra[12:])
		copy(s.pending.IdentityKey[:], extra[12+KeySize:])
		if !bytes.Equal(EncodePublicKey03(&s.pending.IdentityKey), s.ad[:EncodedKeySize03]) {
			return nil, errBadSession
		}
		s.hasPending = true
	}
	return s, nil
}
