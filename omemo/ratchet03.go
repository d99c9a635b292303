package omemo

import (
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
}

// Session03 is the Double Ratchet state of one OMEMO 0.3 session, as
// Signal's Double Ratchet specification defines it (DHs, DHr, RK, CKs,
// CKr, Ns, Nr, PN, MKSKIPPED) with the associated data of its X3DH. It is
// plain data: Marshal gives bytes the store keeps and UnmarshalSession03
// restores it exactly. Encrypt and Decrypt change it only on success.
type Session03 struct {
	ratchet
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
	return s.decryptMessage(&format03, rand, data)
}

// session03Version is the first byte of a marshalled Session03.
const session03Version = 1

// Marshal encodes the session for the store; UnmarshalSession03 restores
// it exactly. The bytes hold private keys: keep them as such.
func (s *Session03) Marshal() []byte {
	return s.marshal(session03Version)
}

// UnmarshalSession03 restores a session from Marshal's bytes. It refuses
// another version, a wrong length, unknown flags, a public ratchet key
// that does not match its private key, and more skipped keys than kept.
func UnmarshalSession03(b []byte) (*Session03, error) {
	s := &Session03{}
	if err := s.unmarshal(&format03, session03Version, b); err != nil {
		return nil, err
	}
	return s, nil
}
