package chat

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
	"github.com/gab-chat/gab/xmpp"
)

// Reading OMEMO messages (0.3 here, OMEMO 2 in omemo2.go): gab's device
// (its keys in the store, made at the first connection with OMEMO on) is
// published with its bundles once logged in; every encrypted message addressed to it — live, from
// another of our devices (carbons), or from the archive — is decrypted on
// the reader goroutine, in stream order, and stored as its plaintext
// with the session its decryption advanced (and our device without the
// one-time pre-key a pre-key message used), in the same transaction.

// OMEMOInfo says how a message was encrypted: with which version, by
// which device of its sender, and whether that device was trusted when
// the message was read.
type OMEMOInfo struct {
	Version OMEMOVersion
	Device  uint32
	Trust   history.Trust
}

// omemoState is the account's OMEMO state in memory: our device and the
// sessions this run has used, with what changed since the last batch was
// stored. The reader goroutine decrypts and the session's encrypts: mu
// guards it.
type omemoState struct {
	mu       sync.Mutex
	dev      *omemo.Device
	devDirty bool
	sessions map[history.SessionKey]*omemo.Session03
	dirty    []history.SessionKey
	// publish: a one-time pre-key was used; the bundle without it is to
	// be published once the batch that took it is stored.
	publish bool
	// published: the device a publication queued (omemoRepublish) is to
	// publish, nil when none is queued.
	published *omemo.Device
	// answers: empty messages to send once the batch with the messages
	// that called for them is stored (see afterDecrypt).
	answers []omemoEmpty
	// noBundle: devices whose bundle could not be read, and when; they
	// are not asked again for an hour, or until their JID's device list
	// changes (see omemoEncrypt).
	noBundle map[history.SessionKey]noBundle
	// repaired: when a session with a device was last started anew
	// after a message from it failed (see afterDecrypt).
	repaired map[history.SessionKey]time.Time
	// trust is the trust of the identity keys this run has seen, as
	// omemoTrust recorded and decided it: a message in a known session
	// costs no store access for it. SetOMEMOTrust drops a JID's.
	trust map[trustKey]history.Trust
	// v2: OMEMO 2's sessions and lists (omemo2.go).
	v2 omemo2State
}

// trustKey is a device of a JID with its identity key.
type trustKey struct {
	jid      string
	device   uint32
	identity [omemo.KeySize]byte
}

// omemoDevice is our device, read from the store or made (and saved)
// the first time.
func (c *Client) omemoDevice(ctx context.Context) (*omemo.Device, error) {
	st := &c.omemo
	if st.dev != nil {
		return st.dev, nil
	}
	if s := c.opts.Store; s != nil {
		own, ok, err := s.OwnDevice(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			dev, err := omemo.UnmarshalDevice(own.State)
			if err != nil {
				return nil, fmt.Errorf("our OMEMO keys in the store cannot be read: %w", err)
			}
			st.dev = dev
			return dev, nil
		}
	}
	dev, err := omemo.NewDevice(crand.Reader, time.Now())
	if err != nil {
		return nil, err
	}
	if s := c.opts.Store; s != nil {
		if err := s.SaveOwnDevice(ctx, dev.Marshal()); err != nil {
			return nil, fmt.Errorf("could not keep new OMEMO keys: %w", err)
		}
	}
	st.dev = dev
	return dev, nil
}

// rotateSignedPreKey replaces our signed pre-key once it is older than
// omemo.SignedPreKeyRotation (the previous one is kept for pre-key
// messages still on their way), keeping the device so changed before it
// is published. c.omemo.mu is held.
func (c *Client) rotateSignedPreKey(ctx context.Context, dev *omemo.Device) (*omemo.Device, error) {
	next := dev.Clone()
	rotated, err := next.RotateSignedPreKey(crand.Reader, time.Now())
	if err != nil || !rotated {
		return dev, err
	}
	if s := c.opts.Store; s != nil {
		if err := s.SaveOwnDevice(ctx, next.Marshal()); err != nil {
			return dev, fmt.Errorf("could not keep a new signed pre-key: %w", err)
		}
	}
	c.omemo.dev = next
	return next, nil
}

// bundle03 is our device's OMEMO 0.3 bundle as PEP carries it.
func bundle03(dev *omemo.Device) OMEMOBundle {
	p := dev.PublishBundle03()
	b := OMEMOBundle{IdentityKey: p.IdentityKey, SignedPreKeyID: p.SignedPreKeyID, SignedPreKey: p.SignedPreKey, SignedPreKeySig: p.SignedPreKeySignature}
	for _, k := range p.PreKeys {
		b.PreKeys = append(b.PreKeys, OMEMOPreKey{ID: k.ID, Key: k.Key})
	}
	return b
}

// publishOwnOMEMO publishes our device and its bundles, OMEMO 0.3 and 2
// (the session's goroutine, once logged in).
func (c *Client) publishOwnOMEMO(ctx context.Context, sess *xmpp.Session) {
	c.omemo.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	if err == nil {
		dev, err = c.rotateSignedPreKey(ctx, dev)
	}
	c.omemo.mu.Unlock()
	if err == nil {
		err = c.publishBoth(ctx, sess, dev)
	}
	if err != nil && ctx.Err() == nil {
		c.emit(ctx, Notice{Text: "could not publish this device's OMEMO keys (others cannot encrypt to it): " + err.Error()})
	}
}

// omemoSession is the session with a peer's device: the one this run
// holds, else the stored one; nil when there is none.
func (c *Client) omemoSession(ctx context.Context, k history.SessionKey) (*omemo.Session03, error) {
	return heldOrStored(ctx, c, k, c.omemo.sessions, omemo.UnmarshalSession03)
}

// heldOrStored is the session k (of either version): from held, else
// read from the store with read; nil when there is none.
func heldOrStored[S *omemo.Session03 | *omemo.Session2](ctx context.Context, c *Client, k history.SessionKey, held map[history.SessionKey]S, read func([]byte) (S, error)) (S, error) {
	if s, ok := held[k]; ok {
		return s, nil
	}
	var none S
	if c.opts.Store == nil {
		return none, nil
	}
	b, ok, err := c.opts.Store.Session(ctx, k)
	if err != nil || !ok {
		return none, err
	}
	s, err := read(b)
	if err != nil {
		return none, fmt.Errorf("the stored session with device %d of %s cannot be read: %w", k.Device, k.JID, err)
	}
	return s, nil
}

// keep holds a session's new state until the batch is stored.
func (st *omemoState) keep(k history.SessionKey, s *omemo.Session03) {
	if st.sessions == nil {
		st.sessions = map[history.SessionKey]*omemo.Session03{}
	}
	if !slices.Contains(st.dirty, k) {
		st.dirty = append(st.dirty, k)
	}
	st.sessions[k] = s
}

// hold holds a session's new state stored already (with a message sent).
func (st *omemoState) hold(k history.SessionKey, s *omemo.Session03) {
	if st.sessions == nil {
		st.sessions = map[history.SessionKey]*omemo.Session03{}
	}
	st.sessions[k] = s
}

// omemoDecrypt reads an encrypted message from bare's device: its
// plaintext (nil for an empty, key-transport message) and how it was
// encrypted, or a note saying why it could not be read.
func (c *Client) omemoDecrypt(ctx context.Context, bare string, enc *OMEMOEncrypted) (text []byte, info *OMEMOInfo, note string) {
	if enc = c.omemoElementFor(ctx, enc); enc.Version == OMEMO2 {
		return c.omemoDecrypt2(ctx, bare, enc)
	}
	if enc.Version != OMEMO03 {
		return nil, nil, OMEMOUnreadNote
	}
	dev, err := c.omemoDevice(ctx)
	if err != nil {
		return nil, nil, "an encrypted message (OMEMO) that could not be read: " + err.Error()
	}
	key := enc.KeyFor(c.acct.JID.Bare().String(), dev.ID())
	if key == nil {
		return nil, nil, "an encrypted message (OMEMO) that was not encrypted for this device"
	}
	k := history.SessionKey{JID: bare, Device: enc.SID, Version: history.OMEMO03}
	sess, err := c.omemoSession(ctx, k)
	if err != nil {
		return nil, nil, "an encrypted message (OMEMO) that could not be read: " + err.Error()
	}
	res, err := omemo.DecryptMessage03(crand.Reader, dev, sess, omemo.KeyElement03{RID: key.RID, PreKey: key.PreKey, Data: key.Data}, enc.IV, enc.Payload)
	if errors.Is(err, omemo.ErrReplay) || errors.Is(err, omemo.ErrPayload) {
		// The session read this message, or later ones, or read its key
		// (its payload was altered): it is sound, and starting anew would
		// lose what the device has on its way in it.
		return nil, nil, "an encrypted message (OMEMO) that could not be decrypted: " + err.Error()
	}
	if err != nil {
		c.afterDecrypt(bare, enc.SID, false, true)
		return nil, nil, "an encrypted message (OMEMO) that could not be decrypted: " + err.Error() + "; gab starts a new session with that device, so that its next messages can be read"
	}
	if res.NewSession && c.identityChanged(ctx, bare, enc.SID, sess, res.PeerIdentity) {
		// Not the device we know by that id: whoever can send as bare
		// (its server, say) must not take the session over.
		return nil, nil, fmt.Sprintf("an encrypted message (OMEMO) from device %d with another identity key than the one known for that device: refused, the session with it is kept (someone else may be sending as %s; a device whose keys really changed gets a new device id)", enc.SID, bare)
	}
	c.afterDecrypt(bare, enc.SID, res.NewSession, false)
	st := &c.omemo
	st.keep(k, res.Session)
	if res.UsedPreKey {
		next := dev.Clone()
		if err := next.TakePreKey(crand.Reader, res.PreKeyID); err == nil {
			st.dev, st.devDirty, st.publish = next, true, true
		}
	}
	info = &OMEMOInfo{Version: OMEMO03, Device: enc.SID, Trust: c.omemoTrustV(ctx, bare, history.OMEMO03, enc.SID, res.PeerIdentity)}
	if res.Empty {
		return nil, info, ""
	}
	return res.Plaintext, info, ""
}

// identityChanged says whether identity differs from the identity key
// known for bare's device: the one of the session held with it (sess,
// nil for none), or the one the store recorded for that device id in
// either version (one device id is one device: a device listed in both
// has one identity).
func (c *Client) identityChanged(ctx context.Context, bare string, device uint32, sess *omemo.Session03, identity [omemo.KeySize]byte) bool {
	if sess != nil {
		// The session was agreed with the key recorded for the device.
		return sess.PeerIdentity() != identity
	}
	s := c.opts.Store
	if s == nil {
		return false
	}
	for _, v := range []history.Version{history.OMEMO03, history.OMEMO2} {
		devs, err := s.Devices(ctx, bare, v)
		if err != nil {
			c.storeFailed(err)
			return true // unknown: not one to take a session over
		}
		for _, d := range devs {
			if d.ID == device && len(d.Identity) > 0 && !bytes.Equal(d.Identity, identity[:]) {
				return true
			}
		}
	}
	return false
}

// omemoTrustV records the identity key (its X25519 form) of bare's
// device in version v and says how it is trusted. A key seen for the first time is trusted blindly (as
// Conversations and Dino do) unless trust is manual or the user has
// verified a key of bare already; a decision made once stays.
// c.omemo.mu is held.
func (c *Client) omemoTrustV(ctx context.Context, bare string, v history.Version, device uint32, identity [omemo.KeySize]byte) history.Trust {
	s := c.opts.Store
	if s == nil {
		return history.TrustTrusted
	}
	k := trustKey{bare, device, identity}
	if t, ok := c.omemo.trust[k]; ok {
		return t
	}
	t := c.decideTrust(ctx, bare, v, device, identity)
	if t != history.TrustUndecided { // undecided: asked again, it may be decided meanwhile
		if c.omemo.trust == nil {
			c.omemo.trust = map[trustKey]history.Trust{}
		}
		c.omemo.trust[k] = t
	}
	return t
}

// decideTrust is omemoTrust from the store.
func (c *Client) decideTrust(ctx context.Context, bare string, v history.Version, device uint32, identity [omemo.KeySize]byte) history.Trust {
	s := c.opts.Store
	now := time.Now()
	if _, err := s.SetIdentity(ctx, bare, v, device, identity[:], now); err != nil {
		c.storeFailed(err)
	}
	t, _, err := s.TrustOf(ctx, bare, identity[:])
	if err != nil {
		c.storeFailed(err)
		return history.TrustUndecided
	}
	if t == history.TrustUndecided && !c.opts.OMEMOManualTrust && !c.verifiedAny(ctx, bare) {
		if err := s.SetTrust(ctx, bare, identity[:], history.TrustTrusted, now); err != nil {
			c.storeFailed(err)
			return history.TrustUndecided
		}
		t = history.TrustTrusted
	}
	return t
}

// verifiedAny says whether the user has verified an identity key of
// bare: from then on its new keys wait for the user's decision (blind
// trust is trust before verification).
func (c *Client) verifiedAny(ctx context.Context, bare string) bool {
	ds, err := c.opts.Store.Trusts(ctx, bare)
	if err != nil {
		c.storeFailed(err)
		return true // unknown: not one to trust blindly
	}
	for _, d := range ds {
		if d.Trust == history.TrustVerified {
			return true
		}
	}
	return false
}

// omemoText is decrypted text as a message body: valid UTF-8, without
// the NUL and other C0 controls XML cannot carry (a body that came in
// plain text could not hold them either).
func omemoText(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' {
			return utf8.RuneError
		}
		return r
	}, s)
}

// omemoIncoming decrypts ev when it is an encrypted message and returns
// it with its text; a key transport is taken in and dropped (nil).
func (c *Client) omemoIncoming(ctx context.Context, ev Event) Event {
	if !c.opts.OMEMO {
		return ev
	}
	c.omemo.mu.Lock()
	defer c.omemo.mu.Unlock()
	switch e := ev.(type) {
	case MessageReceived:
		if e.Encrypted != nil && e.Conv.Kind == KindRoom {
			return c.omemoRoomIncoming(ctx, e) // omemo_room.go
		}
		if e.Encrypted == nil || e.Conv.Kind != KindChat {
			return ev
		}
		text, info, note := c.omemoDecrypt(ctx, e.Bare, e.Encrypted)
		text, info, note = sealedText(text, info, note, e.Bare, c.acct.JID.Bare().String())
		e.OMEMO, e.Note = info, note
		if note == "" {
			if text == nil {
				return nil // an empty message: the session moved, nothing to show
			}
			e.Body = omemoText(text)
		}
		return e
	case CarbonSent:
		if e.Encrypted == nil || e.Conv.Kind == KindPrivate {
			return ev
		}
		// Sent by another device of ours: its session is with our own
		// account's device.
		text, info, note := c.omemoDecrypt(ctx, c.acct.JID.Bare().String(), e.Encrypted)
		text, info, note = sealedText(text, info, note, c.acct.JID.Bare().String(), e.Conv.JID)
		e.OMEMO = info
		if note == "" {
			if text == nil {
				return nil
			}
			e.Body = omemoText(text)
		}
		return e
	case OMEMOKeyTransport:
		if e.Conv.Kind == KindChat {
			from := e.Bare
			if e.Carbon {
				from = c.acct.JID.Bare().String()
			}
			if _, _, note := c.omemoDecrypt(ctx, from, e.Encrypted); note == omemoStrippedNote {
				return Notice{Text: "from " + e.From + ": " + note}
			}
		}
		return nil
	}
	return ev
}

// omemoBatch takes what the OMEMO state changed since the last batch, to
// store with it.
func (c *Client) omemoBatch() (own []byte, sessions []history.Session) {
	st := &c.omemo
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.devDirty && st.dev != nil {
		own = st.dev.Marshal()
	}
	for _, k := range st.dirty {
		sessions = append(sessions, history.Session{SessionKey: k, State: st.sessionState(k)})
	}
	return own, sessions
}

// omemoStored says the batch with omemoBatch's changes is stored (or,
// with err, that it is not: this run goes on with the state it has, the
// next starts from what the store kept).
func (c *Client) omemoStored(err error) {
	st := &c.omemo
	st.mu.Lock()
	defer st.mu.Unlock()
	st.dirty, st.devDirty = st.dirty[:0], false
	if err != nil {
		return
	}
	if st.publish && st.dev != nil {
		// One publication at a time, of the device last stored: a flood
		// of pre-key messages in many batches publishes the bundle once
		// per round trip, not once per batch.
		st.publish = false
		if st.published == nil {
			c.Do(omemoRepublish{})
		}
		st.published = st.dev
	}
	for _, a := range st.answers {
		c.Do(a)
	}
	st.answers = st.answers[:0]
}

// omemoRepublish publishes our bundle as the store has it now (queued
// by omemoStored, at most one at a time).
type omemoRepublish struct{}

func (omemoRepublish) isCommand() {}

// republishOMEMO carries out omemoRepublish (the session's goroutine).
func (c *Client) republishOMEMO(ctx context.Context, sess *xmpp.Session) error {
	st := &c.omemo
	st.mu.Lock()
	dev := st.published
	st.published = nil
	st.mu.Unlock()
	if dev == nil {
		return nil
	}
	return c.publishBoth(ctx, sess, dev)
}
