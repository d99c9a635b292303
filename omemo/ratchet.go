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

// ErrReplay: the message is older than what the session has read, and
// its key is not among the skipped ones: read already (a replay) or its
// key is gone. The session is as sound as it was.
var ErrReplay = errors.New("omemo: message already decrypted (replayed) or its key is gone")

var (
	errTooManySkipped = errors.New("omemo: the message would skip too many message keys")
	errReplay         = ErrReplay
	errCannotSend     = errors.New("omemo: the session has no sending chain yet (nothing received)")
	errChainSpent     = errors.New("omemo: the sending chain has run out of message numbers")
	errBadSession     = errors.New("omemo: malformed session state")
)

// ratchetHeader is what a Double Ratchet message tells the receiver: the
// sender's current ratchet key, the message's number in its sending chain
// (n) and the length of the sender's previous sending chain (pn).
type ratchetHeader struct {
	ratchetKey [KeySize]byte
	n, pn      uint32
}

// ratchetFormat is what tells the versions of OMEMO apart in the Double
// Ratchet: the info strings of the KDFs, the size of X3DH's associated
// data, and the message format with its encryption under a message key.
// The ratchet itself (chains, DH steps, skipped keys) is the same.
type ratchetFormat struct {
	info   kdfInfo
	adSize int
	// seal encrypts plaintext under a message key into a message with
	// header h.
	seal func(mk *[KeySize]byte, ad []byte, h ratchetHeader, plaintext []byte) ([]byte, error)
	// header reads a message's header before it is authenticated, only
	// to find its message key.
	header func(data []byte) (ratchetHeader, error)
	// open authenticates a message under a message key and decrypts it.
	open func(mk *[KeySize]byte, ad, data []byte) ([]byte, error)
	// senderFirst: a message's MAC covers the sender's identity key
	// first and the recipient's second, whoever started the session (as
	// libsignal, and so OMEMO 0.3, does); otherwise the AD as X3DH gave
	// it, the initiator's first, both ways (OMEMO 2).
	senderFirst bool
}

// skippedKey is the message key of a message not yet received: the
// sender's ratchet key and the message's number identify it.
type skippedKey struct {
	ratchetKey [KeySize]byte
	n          uint32
	key        [KeySize]byte
}

// ratchet is the Double Ratchet state, as Signal's Double Ratchet
// specification defines it (DHs, DHr, RK, CKs, CKr, Ns, Nr, PN,
// MKSKIPPED), with the associated data of its X3DH. The sessions of both
// versions are this state with their ratchetFormat.
type ratchet struct {
	rootKey  [KeySize]byte
	sendPriv [KeySize]byte // DHs (the public half is derived)
	sendPub  [KeySize]byte

	theirKey [KeySize]byte // DHr
	hasTheir bool

	sendChain [KeySize]byte // CKs
	hasSend   bool
	recvChain [KeySize]byte // CKr
	hasRecv   bool

	ns, nr, pn  uint32
	ad          []byte // AD of X3DH: both identity keys, initiator first
	isResponder bool   // we are the responder: AD's second key is ours
	skipped     []skippedKey
}

// sendAD and recvAD are the associated data the MAC of a message we send
// and of one we receive covers.
func (s *ratchet) sendAD(f *ratchetFormat) []byte {
	if f.senderFirst && s.isResponder {
		return swapAD(s.ad)
	}
	return s.ad
}

func (s *ratchet) recvAD(f *ratchetFormat) []byte {
	if f.senderFirst && !s.isResponder {
		return swapAD(s.ad)
	}
	return s.ad
}

// swapAD puts the second identity key of the AD first.
func swapAD(ad []byte) []byte {
	half := len(ad) / 2
	out := make([]byte, 0, len(ad))
	return append(append(out, ad[half:]...), ad[:half]...)
}

// peerIdentityBytes is the peer's part of the AD: its encoded identity key.
func (s *ratchet) peerIdentityBytes() []byte {
	half := len(s.ad) / 2
	if s.isResponder {
		return s.ad[:half]
	}
	return s.ad[half:]
}

func checkAD(f *ratchetFormat, ad []byte) error {
	if len(ad) != f.adSize {
		return fmt.Errorf("omemo: associated data of %d bytes, not %d", len(ad), f.adSize)
	}
	return nil
}

// initiator starts the initiator's ratchet (RatchetInitAlice): from X3DH's
// shared secret and associated data, the responder's signed pre-key as its
// first ratchet key, and our first ratchet private key.
func (s *ratchet) initiator(f *ratchetFormat, sk *[KeySize]byte, ad []byte, theirSignedPreKey, ourRatchetPriv *[KeySize]byte) error {
	if err := checkAD(f, ad); err != nil {
		return err
	}
	*s = ratchet{sendPriv: *ourRatchetPriv, theirKey: *theirSignedPreKey, hasTheir: true, ad: bytes.Clone(ad)}
	s.sendPub = PublicKey(ourRatchetPriv)
	dh, err := DH(&s.sendPriv, &s.theirKey)
	if err != nil {
		return err
	}
	s.rootKey, s.sendChain = rootStep(f.info, sk, &dh)
	s.hasSend = true
	return nil
}

// responder starts the responder's ratchet (RatchetInitBob): its first
// ratchet key pair is the signed pre-key the initiator used. It cannot
// send until it has decrypted the initiator's first message.
func (s *ratchet) responder(f *ratchetFormat, sk *[KeySize]byte, ad []byte, ourSignedPreKey *[KeySize]byte) error {
	if err := checkAD(f, ad); err != nil {
		return err
	}
	*s = ratchet{rootKey: *sk, sendPriv: *ourSignedPreKey, ad: bytes.Clone(ad), isResponder: true}
	s.sendPub = PublicKey(ourSignedPreKey)
	return nil
}

// clone is a deep copy: the state decryption works on until it succeeds.
func (s *ratchet) clone() ratchet {
	c := *s
	c.ad = bytes.Clone(s.ad)
	c.skipped = append([]skippedKey(nil), s.skipped...)
	return c
}

// encrypt is RatchetEncrypt: it steps the sending chain and returns the
// version's message.
func (s *ratchet) encrypt(f *ratchetFormat, plaintext []byte) ([]byte, error) {
	if !s.hasSend {
		return nil, errCannotSend
	}
	if s.ns == math.MaxUint32 {
		// The next number would not fit the header: the chain is spent
		// until the peer's reply turns the ratchet.
		return nil, errChainSpent
	}
	next, mk := chainStep(&s.sendChain)
	out, err := f.seal(&mk, s.sendAD(f), ratchetHeader{ratchetKey: s.sendPub, n: s.ns, pn: s.pn}, plaintext)
	if err != nil {
		return nil, err
	}
	s.sendChain = next
	s.ns++
	return out, nil
}

// decryptMessage is RatchetDecrypt. rand gives the private key of our next
// ratchet key pair when the message turns the DH ratchet. A message that
// is malformed, tampered, replayed or would skip too many keys is refused
// and the state is left exactly as it was.
func (s *ratchet) decryptMessage(f *ratchetFormat, rand io.Reader, data []byte) ([]byte, error) {
	// The header is read before it is authenticated, only to find the key;
	// nothing is kept unless the MAC under that key verifies.
	h, err := f.header(data)
	if err != nil {
		return nil, err
	}
	c := s.clone()
	pt, err := c.decrypt(f, rand, h, data)
	if err != nil {
		return nil, err
	}
	*s = c
	return pt, nil
}

func (s *ratchet) decrypt(f *ratchetFormat, rand io.Reader, h ratchetHeader, data []byte) ([]byte, error) {
	for i := range s.skipped {
		k := &s.skipped[i]
		if k.ratchetKey == h.ratchetKey && k.n == h.n {
			mk := k.key
			pt, err := f.open(&mk, s.recvAD(f), data)
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
		if err := s.dhRatchet(f, rand, &h.ratchetKey); err != nil {
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
	pt, err := f.open(&mk, s.recvAD(f), data)
	if err != nil {
		return nil, err
	}
	s.recvChain = next
	s.nr++
	return pt, nil
}

// skip is SkipMessageKeys: it keeps the keys of the receiving chain's
// messages before number until.
func (s *ratchet) skip(until uint32) error {
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
func (s *ratchet) dhRatchet(f *ratchetFormat, rand io.Reader, theirKey *[KeySize]byte) error {
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
	s.rootKey, s.recvChain = rootStep(f.info, &s.rootKey, &dh)
	s.hasRecv = true
	s.sendPriv, s.sendPub = priv, PublicKey(&priv)
	if dh, err = DH(&s.sendPriv, &s.theirKey); err != nil {
		return err
	}
	s.rootKey, s.sendChain = rootStep(f.info, &s.rootKey, &dh)
	s.hasSend = true
	return nil
}

const (
	flagTheir = 1 << iota
	flagSend
	flagRecv
	flagResponder
	// flagExtra: the session type's own state follows the ratchet's
	// (OMEMO 0.3: the pre-key header an initiator still wraps in).
	flagExtra
)

// ratchetFixedSize: version, flags, six keys, three counters and the count
// of skipped keys; the AD comes on top.
const ratchetFixedSize = 2 + 6*KeySize + 3*4 + 4

const skippedSize = KeySize + 4 + KeySize

// marshal encodes the state after a version byte that names the session
// type and its encoding; extra, when not nil, is the session type's own
// state, after the ratchet's.
func (s *ratchet) marshal(version byte, extra []byte) []byte {
	b := make([]byte, 0, ratchetFixedSize+len(s.ad)+len(s.skipped)*skippedSize+len(extra))
	var flags byte
	if s.isResponder {
		flags |= flagResponder
	}
	if extra != nil {
		flags |= flagExtra
	}
	if s.hasTheir {
		flags |= flagTheir
	}
	if s.hasSend {
		flags |= flagSend
	}
	if s.hasRecv {
		flags |= flagRecv
	}
	b = append(b, version, flags)
	for _, k := range []*[KeySize]byte{&s.rootKey, &s.sendPriv, &s.sendPub, &s.theirKey, &s.sendChain, &s.recvChain} {
		b = append(b, k[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, s.ns)
	b = binary.BigEndian.AppendUint32(b, s.nr)
	b = binary.BigEndian.AppendUint32(b, s.pn)
	b = append(b, s.ad...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.skipped)))
	for _, k := range s.skipped {
		b = append(b, k.ratchetKey[:]...)
		b = binary.BigEndian.AppendUint32(b, k.n)
		b = append(b, k.key[:]...)
	}
	return append(b, extra...)
}

// unmarshal restores the state from marshal's bytes, returning the
// session type's own state (nil for none) for its caller to check. It
// refuses another version, a wrong length, unknown flags, a public
// ratchet key that does not match its private key, and more skipped keys
// than kept.
func (s *ratchet) unmarshal(f *ratchetFormat, version byte, b []byte) (extra []byte, _ error) {
	if len(b) < ratchetFixedSize+f.adSize || b[0] != version || b[1]&^(flagTheir|flagSend|flagRecv|flagResponder|flagExtra) != 0 {
		return nil, errBadSession
	}
	*s = ratchet{hasTheir: b[1]&flagTheir != 0, hasSend: b[1]&flagSend != 0, hasRecv: b[1]&flagRecv != 0, isResponder: b[1]&flagResponder != 0}
	hasExtra := b[1]&flagExtra != 0
	p := b[2:]
	for _, k := range []*[KeySize]byte{&s.rootKey, &s.sendPriv, &s.sendPub, &s.theirKey, &s.sendChain, &s.recvChain} {
		copy(k[:], p[:KeySize])
		p = p[KeySize:]
	}
	s.ns = binary.BigEndian.Uint32(p)
	s.nr = binary.BigEndian.Uint32(p[4:])
	s.pn = binary.BigEndian.Uint32(p[8:])
	p = p[12:]
	s.ad = bytes.Clone(p[:f.adSize])
	p = p[f.adSize:]
	count := binary.BigEndian.Uint32(p)
	p = p[4:]
	if count > MaxSkippedKeys || uint64(len(p)) < uint64(count)*skippedSize || (!hasExtra && uint64(len(p)) != uint64(count)*skippedSize) {
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
		p = p[skippedSize:]
	}
	if hasExtra {
		return bytes.Clone(p), nil
	}
	return nil, nil
}
