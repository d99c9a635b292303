package omemo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Limits on skipped message keys. A message that would make us skip more
// than MaxSkip keys of one chain is refused (the Double Ratchet's
// MAX_SKIP), so a peer cannot make us derive without bound. At most
// MaxSkippedKeys are kept over all chains; when a ratchet step stores more,
// the oldest are dropped (their messages can no longer be read), so lost
// messages never wedge a session.
const (
	MaxSkip        = 1000
	MaxSkippedKeys = 1000
)

var (
	errTooManySkipped = errors.New("omemo: the message would skip too many message keys")
	errReplay         = errors.New("omemo: message already decrypted (replayed) or its key is gone")
	errCannotSend     = errors.New("omemo: the session has no sending chain yet (nothing received)")
	errChainSpent     = errors.New("omemo: the sending chain has run out of message numbers")
	errBadSession     = errors.New("omemo: malformed session state")
)

// skippedKey is the message key of a message not yet received: the
// sender's ratchet key and the message's number identify it.
type skippedKey struct {
	ratchetKey [KeySize]byte
	n          uint32
	key        [KeySize]byte
}

// Session03 is the Double Ratchet state of one OMEMO 0.3 session, as
// Signal's Double Ratchet specification defines it (DHs, DHr, RK, CKs,
// CKr, Ns, Nr, PN, MKSKIPPED) with the associated data of its X3DH. It is
// plain data: Marshal gives bytes the store keeps and UnmarshalSession03
// restores it exactly. Encrypt and Decrypt change it only on success.
type Session03 struct {
	rootKey  [KeySize]byte
	sendPriv [KeySize]byte // DHs (the public half is derived)
	sendPub  [KeySize]byte

	theirKey [KeySize]byte // DHr
	hasTheir bool

	sendChain [KeySize]byte // CKs
	hasSend   bool
	recvChain [KeySize]byte // CKr
	hasRecv   bool

	ns, nr, pn uint32
	ad         []byte // AD of X3DH: both identity keys, initiator first
	responder  bool   // we are the responder: AD's second key is ours
	skipped    []skippedKey

	// pending is the pre-key message header an initiator wraps its
	// messages in until the first message from the responder decrypts.
	pending    PreKeyMessage03
	hasPending bool
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
	k := s.ad[EncodedKeySize03+1:]
	if s.responder {
		k = s.ad[1:EncodedKeySize03]
	}
	var out [KeySize]byte
	copy(out[:], k)
	return out
}

// sendAD and recvAD are the associated data a message's MAC covers:
// libsignal (and so every OMEMO 0.3 client) puts the sender's identity key
// first and the recipient's second, whoever started the session.
func (s *Session03) sendAD() []byte {
	if s.responder {
		return swapAD03(s.ad)
	}
	return s.ad
}

func (s *Session03) recvAD() []byte {
	if s.responder {
		return s.ad
	}
	return swapAD03(s.ad)
}

func swapAD03(ad []byte) []byte {
	out := make([]byte, 0, len(ad))
	return append(append(out, ad[EncodedKeySize03:]...), ad[:EncodedKeySize03]...)
}

// NewSession03Initiator starts the initiator's ratchet (RatchetInitAlice):
// from X3DH's shared secret and associated data, the responder's signed
// pre-key as its first ratchet key, and our first ratchet private key
// (fresh random bytes from the caller).
func NewSession03Initiator(sk *[KeySize]byte, ad []byte, theirSignedPreKey, ourRatchetPriv *[KeySize]byte) (*Session03, error) {
	if len(ad) != adSize03 {
		return nil, fmt.Errorf("omemo: associated data of %d bytes, not %d", len(ad), adSize03)
	}
	s := &Session03{sendPriv: *ourRatchetPriv, theirKey: *theirSignedPreKey, hasTheir: true,
		ad: bytes.Clone(ad)}
	s.sendPub = PublicKey(ourRatchetPriv)
	dh, err := DH(&s.sendPriv, &s.theirKey)
	if err != nil {
		return nil, err
	}
	s.rootKey, s.sendChain = rootStep(info03, sk, &dh)
	s.hasSend = true
	return s, nil
}

// NewSession03Responder starts the responder's ratchet (RatchetInitBob):
// its first ratchet key pair is the signed pre-key the initiator used. It
// cannot send until it has decrypted the initiator's first message.
func NewSession03Responder(sk *[KeySize]byte, ad []byte, ourSignedPreKey *[KeySize]byte) (*Session03, error) {
	if len(ad) != adSize03 {
		return nil, fmt.Errorf("omemo: associated data of %d bytes, not %d", len(ad), adSize03)
	}
	s := &Session03{rootKey: *sk, sendPriv: *ourSignedPreKey, ad: bytes.Clone(ad), responder: true}
	s.sendPub = PublicKey(ourSignedPreKey)
	return s, nil
}

// clone is a deep copy: the state Decrypt works on until it succeeds.
func (s *Session03) clone() *Session03 {
	c := *s
	c.ad = bytes.Clone(s.ad)
	c.skipped = append([]skippedKey(nil), s.skipped...)
	return &c
}

// Encrypt is RatchetEncrypt: it steps the sending chain and returns the
// OMEMO 0.3 message (version byte, OMEMOMessage, truncated MAC).
func (s *Session03) Encrypt(plaintext []byte) ([]byte, error) {
	if !s.hasSend {
		return nil, errCannotSend
	}
	if s.ns == math.MaxUint32 {
		// The next number would not fit the header: the chain is spent
		// until the peer's reply turns the ratchet.
		return nil, errChainSpent
	}
	next, mk := chainStep(&s.sendChain)
	out, err := encryptMessage03(&mk, s.sendAD(), header03{ratchetKey: s.sendPub, n: s.ns, pn: s.pn}, plaintext)
	if err != nil {
		return nil, err
	}
	s.sendChain = next
	s.ns++
	return out, nil
}

// Decrypt is RatchetDecrypt. rand gives the private key of our next
// ratchet key pair when the message turns the DH ratchet. A message that
// is malformed, tampered, replayed or would skip too many keys is refused
// and the session is left exactly as it was.
func (s *Session03) Decrypt(rand io.Reader, data []byte) ([]byte, error) {
	if len(data) < 1+macSize03 {
		return nil, errBadMessage
	}
	// The header is read before it is authenticated, only to find the key;
	// nothing is kept unless the MAC under that key verifies.
	h, _, err := parseMessage03(data[:len(data)-macSize03])
	if err != nil {
		return nil, err
	}
	c := s.clone()
	pt, err := c.decrypt(rand, h, data)
	if err != nil {
		return nil, err
	}
	c.hasPending = false // the peer has answered: it has its session
	*s = *c
	return pt, nil
}

func (s *Session03) decrypt(rand io.Reader, h header03, data []byte) ([]byte, error) {
	for i := range s.skipped {
		k := &s.skipped[i]
		if k.ratchetKey == h.ratchetKey && k.n == h.n {
			mk := k.key
			_, pt, err := decryptMessage03(&mk, s.recvAD(), data)
			if err != nil {
				return nil, err
			}
			s.skipped = append(s.skipped[:i], s.skipped[i+1:]...)
			return pt, nil
		}
	}
	if !s.hasTheir || h.ratchetKey != s.theirKey {
		if err := s.skip(h.pn); err != nil {
			return nil, err
		}
		if err := s.dhRatchet(rand, &h.ratchetKey); err != nil {
			return nil, err
		}
	} else if !s.hasRecv {
		// Our responder's signed pre-key as a ratchet key: no chain of
		// the peer's has used it to send.
		return nil, errAuth
	} else if h.n < s.nr {
		return nil, errReplay
	}
	if err := s.skip(h.n); err != nil {
		return nil, err
	}
	next, mk := chainStep(&s.recvChain)
	_, pt, err := decryptMessage03(&mk, s.recvAD(), data)
	if err != nil {
		return nil, err
	}
	s.recvChain = next
	s.nr++
	return pt, nil
}

// skip is SkipMessageKeys: it keeps the keys of the receiving chain's
// messages before number until.
func (s *Session03) skip(until uint32) error {
	if !s.hasRecv {
		return nil
	}
	if until < s.nr {
		// Fewer messages than already received: only a forged or
		// replayed header says so.
		return errReplay
	}
	if until-s.nr > MaxSkip {
		return errTooManySkipped
	}
	for s.nr < until {
		next, mk := chainStep(&s.recvChain)
		s.skipped = append(s.skipped, skippedKey{ratchetKey: s.theirKey, n: s.nr, key: mk})
		s.recvChain = next
		s.nr++
	}
	if over := len(s.skipped) - MaxSkippedKeys; over > 0 {
		s.skipped = append(s.skipped[:0], s.skipped[over:]...)
	}
	return nil
}

// dhRatchet is DHRatchet: a new receiving chain from the peer's new
// ratchet key, then a new ratchet key pair of ours and a sending chain.
func (s *Session03) dhRatchet(rand io.Reader, theirKey *[KeySize]byte) error {
	var priv [KeySize]byte
	if _, err := io.ReadFull(rand, priv[:]); err != nil {
		return fmt.Errorf("omemo: new ratchet key: %w", err)
	}
	dh, err := DH(&s.sendPriv, theirKey)
	if err != nil {
		return err
	}
	s.pn, s.ns, s.nr = s.ns, 0, 0
	s.theirKey, s.hasTheir = *theirKey, true
	s.rootKey, s.recvChain = rootStep(info03, &s.rootKey, &dh)
	s.hasRecv = true
	s.sendPriv, s.sendPub = priv, PublicKey(&priv)
	if dh, err = DH(&s.sendPriv, &s.theirKey); err != nil {
		return err
	}
	s.rootKey, s.sendChain = rootStep(info03, &s.rootKey, &dh)
	s.hasSend = true
	return nil
}

// session03Version is the first byte of a marshalled Session03. Version 1
// lacked the responder flag (and MACed the responder's messages with the
// initiator's key first, which no other client reads); it is refused.
const session03Version = 2

const (
	flagTheir = 1 << iota
	flagSend
	flagRecv
	flagResponder
	flagPending
)

// pendingSize03 is the pending pre-key header: three ids, base and
// identity keys.
const pendingSize03 = 3*4 + 2*KeySize

// sessionFixedSize03: version, flags, six keys, three counters, the AD and
// the count of skipped keys.
const sessionFixedSize03 = 2 + 6*KeySize + 3*4 + adSize03 + 4

const skippedSize03 = KeySize + 4 + KeySize

// Marshal encodes the session for the store; UnmarshalSession03 restores
// it exactly. The bytes hold private keys: keep them as such.
func (s *Session03) Marshal() []byte {
	b := make([]byte, 0, sessionFixedSize03+len(s.skipped)*skippedSize03)
	var flags byte
	if s.hasTheir {
		flags |= flagTheir
	}
	if s.hasSend {
		flags |= flagSend
	}
	if s.hasRecv {
		flags |= flagRecv
	}
	if s.responder {
		flags |= flagResponder
	}
	if s.hasPending {
		flags |= flagPending
	}
	b = append(b, session03Version, flags)
	for _, k := range []*[KeySize]byte{&s.rootKey, &s.sendPriv, &s.sendPub, &s.theirKey, &s.sendChain, &s.recvChain} {
		b = append(b, k[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, s.ns)
	b = binary.BigEndian.AppendUint32(b, s.nr)
	b = binary.BigEndian.AppendUint32(b, s.pn)
	b = append(b, s.ad...)
	if s.hasPending {
		b = binary.BigEndian.AppendUint32(b, s.pending.RegistrationID)
		b = binary.BigEndian.AppendUint32(b, s.pending.PreKeyID)
		b = binary.BigEndian.AppendUint32(b, s.pending.SignedPreKeyID)
		b = append(b, s.pending.BaseKey[:]...)
		b = append(b, s.pending.IdentityKey[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.skipped)))
	for _, k := range s.skipped {
		b = append(b, k.ratchetKey[:]...)
		b = binary.BigEndian.AppendUint32(b, k.n)
		b = append(b, k.key[:]...)
	}
	return b
}

// UnmarshalSession03 restores a session from Marshal's bytes. It refuses
// another version, a wrong length, unknown flags, a public ratchet key
// that does not match its private key, and more skipped keys than kept.
func UnmarshalSession03(b []byte) (*Session03, error) {
	if len(b) < sessionFixedSize03 || b[0] != session03Version || b[1]&^(flagTheir|flagSend|flagRecv|flagResponder|flagPending) != 0 {
		return nil, errBadSession
	}
	s := &Session03{hasTheir: b[1]&flagTheir != 0, hasSend: b[1]&flagSend != 0, hasRecv: b[1]&flagRecv != 0,
		responder: b[1]&flagResponder != 0, hasPending: b[1]&flagPending != 0}
	p := b[2:]
	for _, k := range []*[KeySize]byte{&s.rootKey, &s.sendPriv, &s.sendPub, &s.theirKey, &s.sendChain, &s.recvChain} {
		copy(k[:], p[:KeySize])
		p = p[KeySize:]
	}
	s.ns = binary.BigEndian.Uint32(p)
	s.nr = binary.BigEndian.Uint32(p[4:])
	s.pn = binary.BigEndian.Uint32(p[8:])
	p = p[12:]
	s.ad = bytes.Clone(p[:adSize03])
	p = p[adSize03:]
	if s.hasPending {
		// Only an initiator that has received nothing has one.
		if s.responder || s.hasRecv || len(p) < pendingSize03+4 {
			return nil, errBadSession
		}
		s.pending.RegistrationID = binary.BigEndian.Uint32(p)
		s.pending.PreKeyID = binary.BigEndian.Uint32(p[4:])
		s.pending.SignedPreKeyID = binary.BigEndian.Uint32(p[8:])
		copy(s.pending.BaseKey[:], p[12:])
		copy(s.pending.IdentityKey[:], p[12+KeySize:])
		p = p[pendingSize03:]
		if !bytes.Equal(EncodePublicKey03(&s.pending.IdentityKey), s.ad[:EncodedKeySize03]) {
			return nil, errBadSession
		}
	}
	count := binary.BigEndian.Uint32(p)
	p = p[4:]
	if count > MaxSkippedKeys || uint64(len(p)) != uint64(count)*skippedSize03 {
		return nil, errBadSession
	}
	if PublicKey(&s.sendPriv) != s.sendPub {
		return nil, errBadSession
	}
	if count > 0 {
		s.skipped = make([]skippedKey, count)
	}
	for i := range s.skipped {
		k := &s.skipped[i]
		copy(k.ratchetKey[:], p)
		k.n = binary.BigEndian.Uint32(p[KeySize:])
		copy(k.key[:], p[KeySize+4:])
		p = p[skippedSize03:]
	}
	return s, nil
}
