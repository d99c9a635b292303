package omemo

import "io"

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
	return s.decryptMessage(&format2, rand, data)
}

// session2Version is the first byte of a marshalled Session2; it differs
// from Session03's so that neither restores from the other's bytes.
const session2Version = 0x21

// Marshal encodes the session for the store; UnmarshalSession2 restores it
// exactly. The bytes hold private keys: keep them as such.
func (s *Session2) Marshal() []byte {
	return s.marshal(session2Version, nil)
}

// UnmarshalSession2 restores a session from Marshal's bytes. It refuses
// another version (a Session03's bytes too), a wrong length, unknown
// flags, a public ratchet key that does not match its private key, and
// more skipped keys than kept.
func UnmarshalSession2(b []byte) (*Session2, error) {
	s := &Session2{}
	if extra, err := s.unmarshal(&format2, session2Version, b); err != nil || extra != nil {
		if err == nil {
			err = errBadSession
		}
		return nil, err
	}
	return s, nil
}
