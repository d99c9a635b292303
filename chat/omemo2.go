package chat

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
	"github.com/gab-chat/gab/xmpp"
)

// OMEMO 2 (urn:xmpp:omemo:2, XEP-0384 0.8 with XEP-0420) in one-to-one
// chats, beside OMEMO 0.3: the same device (id and identity) is published
// in both versions; a contact's device is encrypted to in OMEMO 2 when it
// lists itself there, in 0.3 otherwise (python-omemo and Conversations
// list one device id in both); what is encrypted in OMEMO 2 is a sealed
// envelope (sce.go) that names sender and recipient, checked when it is
// read. Sessions, pre-keys, trust and repairs follow the rules of 0.3
// (omemo_session.go, omemo_send.go): the session a message advanced is
// stored with it, in one transaction.

// omemo2State is OMEMO 2's part of omemoState (guarded by its mu).
type omemo2State struct {
	// sessions: the sessions this run has used, as omemoState.sessions.
	sessions map[history.SessionKey]*omemo.Session2
	// emptyList: JIDs whose device list of a version was read from
	// their server this run and found empty: not asked again at each
	// message (a notification brings a list they publish later, and
	// forgets this).
	emptyList map[listKey]bool
}

// listKey is a JID's device list of one version.
type listKey struct {
	jid string
	v   history.Version
}

// listEmpty says whether bare's list of v was read empty this run and
// need not be read again. For our own account and contacts, whose
// notifications bring a list published later, it need not. For anyone
// else (a room's member) only while bare has devices in the other
// version (elsewhere, when the caller knows it): they are encrypted to there meanwhile, where someone with no
// device at all is read again at each message (which is refused until
// they have one).
func (c *Client) listEmpty(ctx context.Context, bare string, v history.Version, elsewhere bool) bool {
	c.omemo.mu.Lock()
	empty := c.omemo.v2.emptyList[listKey{bare, v}]
	c.omemo.mu.Unlock()
	if !empty || elsewhere || bare == c.acct.JID.Bare().String() || c.inRoster(bare) {
		return empty
	}
	other := history.OMEMO2
	if v == history.OMEMO2 {
		other = history.OMEMO03
	}
	if s := c.opts.Store; s != nil {
		devs, err := s.Devices(ctx, bare, other)
		return err == nil && slices.ContainsFunc(devs, func(d history.Device) bool { return d.Active })
	}
	return false
}

// listRead notes that bare's list of v was read from its server, empty
// or not.
func (c *Client) listRead(bare string, v history.Version, empty bool) {
	c.omemo.mu.Lock()
	defer c.omemo.mu.Unlock()
	st := &c.omemo.v2
	if !empty {
		delete(st.emptyList, listKey{bare, v})
		return
	}
	if st.emptyList == nil {
		st.emptyList = map[listKey]bool{}
	}
	st.emptyList[listKey{bare, v}] = true
}

// historyVersion is v as the store names it.
func historyVersion(v OMEMOVersion) history.Version {
	if v == OMEMO2 {
		return history.OMEMO2
	}
	return history.OMEMO03
}

// chatVersion is v as the client names it.
func chatVersion(v history.Version) OMEMOVersion {
	if v == history.OMEMO2 {
		return OMEMO2
	}
	return OMEMO03
}

// bundle2 is our device's OMEMO 2 bundle as PEP carries it.
func bundle2(dev *omemo.Device) OMEMOBundle {
	p := dev.PublishBundle2()
	b := OMEMOBundle{IdentityKey: p.IdentityKey, SignedPreKeyID: p.SignedPreKeyID, SignedPreKey: p.SignedPreKey, SignedPreKeySig: p.SignedPreKeySignature}
	for _, k := range p.PreKeys {
		b.PreKeys = append(b.PreKeys, OMEMOPreKey{ID: k.ID, Key: k.Key})
	}
	return b
}

// omemoLabel is the label our device has in the OMEMO 2 device list.
const omemoLabel = "gab"

// publishBoth publishes our device in OMEMO 0.3 and OMEMO 2.
func (c *Client) publishBoth(ctx context.Context, sess *xmpp.Session, dev *omemo.Device) error {
	if err := c.publishOMEMO(ctx, sess, PublishOMEMO{Version: OMEMO03, DeviceID: dev.ID(), Bundle: bundle03(dev)}); err != nil {
		return err
	}
	return c.publishOMEMO(ctx, sess, PublishOMEMO{Version: OMEMO2, DeviceID: dev.ID(), Label: omemoLabel, Bundle: bundle2(dev)})
}

// omemoSession2 is the OMEMO 2 session with a peer's device: the one this
// run holds, else the stored one; nil when there is none. c.omemo.mu is
// held.
func (c *Client) omemoSession2(ctx context.Context, k history.SessionKey) (*omemo.Session2, error) {
	return heldOrStored(ctx, c, k, c.omemo.v2.sessions, omemo.UnmarshalSession2)
}

// keep2 and hold2 are keep and hold for OMEMO 2 sessions.
func (st *omemoState) keep2(k history.SessionKey, s *omemo.Session2) {
	if !slices.Contains(st.dirty, k) {
		st.dirty = append(st.dirty, k)
	}
	st.hold2(k, s)
}

func (st *omemoState) hold2(k history.SessionKey, s *omemo.Session2) {
	if st.v2.sessions == nil {
		st.v2.sessions = map[history.SessionKey]*omemo.Session2{}
	}
	st.v2.sessions[k] = s
}

// sessionState is the marshalled state of a session held (either
// version). c.omemo.mu is held.
func (st *omemoState) sessionState(k history.SessionKey) []byte {
	if k.Version == history.OMEMO2 {
		return st.v2.sessions[k].Marshal()
	}
	return st.sessions[k].Marshal()
}

// omemoElementFor picks, of a message carrying both versions' elements,
// the one with a key for our device (OMEMO 2's when both have one).
func (c *Client) omemoElementFor(ctx context.Context, enc *OMEMOEncrypted) *OMEMOEncrypted {
	if enc.Also == nil {
		return enc
	}
	dev, err := c.omemoDevice(ctx)
	if err != nil {
		return enc
	}
	me := c.acct.JID.Bare().String()
	if enc.KeyFor(me, dev.ID()) == nil && enc.Also.KeyFor(me, dev.ID()) != nil {
		return enc.Also
	}
	return enc
}

// omemoDecrypt2 is omemoDecrypt for an OMEMO 2 element: its plaintext is
// the sealed envelope (openEnvelope reads it). c.omemo.mu is held.
func (c *Client) omemoDecrypt2(ctx context.Context, bare string, enc *OMEMOEncrypted) (text []byte, info *OMEMOInfo, note string) {
	dev, err := c.omemoDevice(ctx)
	if err != nil {
		return nil, nil, "an encrypted message (OMEMO 2) that could not be read: " + err.Error()
	}
	key := enc.KeyFor(c.acct.JID.Bare().String(), dev.ID())
	if key == nil {
		return nil, nil, "an encrypted message (OMEMO 2) that was not encrypted for this device"
	}
	k := history.SessionKey{JID: bare, Device: enc.SID, Version: history.OMEMO2}
	sess, err := c.omemoSession2(ctx, k)
	if err != nil {
		return nil, nil, "an encrypted message (OMEMO 2) that could not be read: " + err.Error()
	}
	res, err := omemo.DecryptMessage2(crand.Reader, dev, sess, omemo.KeyElement2{RID: key.RID, Kex: key.PreKey, Data: key.Data}, enc.Payload)
	if errors.Is(err, omemo.ErrPayload) && enc.Payload == nil {
		return nil, nil, omemoStrippedNote
	}
	if errors.Is(err, omemo.ErrReplay) || errors.Is(err, omemo.ErrPayload) {
		// As in 0.3: the session is sound, starting anew would lose
		// what the device has on its way in it.
		return nil, nil, "an encrypted message (OMEMO 2) that could not be decrypted: " + err.Error()
	}
	if err != nil {
		c.afterDecryptV(history.OMEMO2, bare, enc.SID, false, true)
		return nil, nil, "an encrypted message (OMEMO 2) that could not be decrypted: " + err.Error() + "; gab starts a new session with that device, so that its next messages can be read"
	}
	identity, err := omemo.IdentityX25519(&res.PeerIdentity)
	if err != nil {
		return nil, nil, "an encrypted message (OMEMO 2) that could not be read: " + err.Error()
	}
	if res.NewSession && c.identityChanged2(ctx, bare, enc.SID, sess, identity) {
		return nil, nil, fmt.Sprintf("an encrypted message (OMEMO 2) from device %d with another identity key than the one known for that device: refused, the session with it is kept (someone else may be sending as %s; a device whose keys really changed gets a new device id)", enc.SID, bare)
	}
	c.afterDecryptV(history.OMEMO2, bare, enc.SID, res.NewSession, false)
	st := &c.omemo
	st.keep2(k, res.Session)
	if res.UsedPreKey {
		next := dev.Clone()
		if err := next.TakePreKey(crand.Reader, res.PreKeyID); err == nil {
			st.dev, st.devDirty, st.publish = next, true, true
		}
	}
	info = &OMEMOInfo{Version: OMEMO2, Device: enc.SID, Trust: c.omemoTrustV(ctx, bare, history.OMEMO2, enc.SID, identity)}
	if res.Empty {
		return nil, info, ""
	}
	return res.Plaintext, info, ""
}

// omemoStrippedNote: an OMEMO 2 message came without its payload, its
// header's key that of a message with content (an empty message's key
// has no MAC): the content was removed on the way. Said, as the message
// would otherwise vanish; its session is left as it was, so that a whole
// copy still reads.
const omemoStrippedNote = "an encrypted message (OMEMO 2) arrived without its content (removed on the way): it cannot be shown"

// identityChanged2 is identityChanged for an OMEMO 2 session (identity
// in its X25519 form).
func (c *Client) identityChanged2(ctx context.Context, bare string, device uint32, sess *omemo.Session2, identity [omemo.KeySize]byte) bool {
	if sess != nil {
		ed := sess.PeerIdentity()
		x, err := omemo.IdentityX25519(&ed)
		return err != nil || x != identity
	}
	return c.identityChanged(ctx, bare, device, nil, identity)
}

// sealedText reads what an OMEMO 2 message decrypted to (text, the sealed
// envelope) from `from` to `to`: its body, or, for an envelope that says
// another sender or recipient, none and why it was refused. A message of
// 0.3, one not read, and an empty one pass unchanged.
func sealedText(text []byte, info *OMEMOInfo, note, from, to string) ([]byte, *OMEMOInfo, string) {
	if info == nil || info.Version != OMEMO2 || note != "" || text == nil {
		return text, info, note
	}
	env, err := openEnvelope(text, from, to)
	if err != nil {
		return nil, nil, "an encrypted message (OMEMO 2) refused: " + err.Error()
	}
	if !env.HasBody {
		return nil, info, "" // nothing gab shows (a chat state, say)
	}
	return []byte(env.Body), info, ""
}

// omemoTarget is a device to encrypt to, in the version it speaks.
type omemoTarget struct {
	jid string
	id  uint32
	v   history.Version
}

func (t omemoTarget) key() history.SessionKey {
	return history.SessionKey{JID: t.jid, Device: t.id, Version: t.v}
}

// omemoTargets is bare's devices and our other ones (ours is ourID), each
// in OMEMO 2 when it lists itself there, in 0.3 otherwise. An error comes
// only when neither of bare's lists can be read.
func (c *Client) omemoTargets(ctx context.Context, sess *xmpp.Session, bare string, ourID uint32) ([]omemoTarget, error) {
	out, err := c.targetsOf(ctx, sess, bare, ourID)
	if err != nil {
		return nil, err
	}
	mine, _ := c.targetsOf(ctx, sess, c.acct.JID.Bare().String(), ourID)
	return append(out, mine...), nil
}

// targetsOf is j's devices (our own device, ourID, left out), each in
// OMEMO 2 when it lists itself there, in 0.3 otherwise. An error comes
// only when j has none and one of its lists could not be read.
func (c *Client) targetsOf(ctx context.Context, sess *xmpp.Session, j string, ourID uint32) ([]omemoTarget, error) {
	me := c.acct.JID.Bare().String()
	v03, err03 := c.omemoDevices(ctx, sess, j, history.OMEMO03)
	v2, err2 := c.devicesOf(ctx, sess, j, history.OMEMO2, len(v03) > 0)
	if len(v03)+len(v2) == 0 {
		cause := func(err error) error {
			if u := errors.Unwrap(err); u != nil {
				return u
			}
			return err
		}
		switch {
		case err03 != nil && err2 != nil:
			return nil, fmt.Errorf("no OMEMO device list of %s could be read (%v: %w; %v: %w)", j, OMEMO03, cause(err03), OMEMO2, cause(err2))
		case err03 != nil:
			return nil, err03
		case err2 != nil:
			return nil, err2
		}
	}
	var out []omemoTarget
	for _, id := range v2 {
		if j != me || id != ourID {
			out = append(out, omemoTarget{j, id, history.OMEMO2})
		}
	}
	for _, id := range v03 {
		if !slices.Contains(v2, id) && (j != me || id != ourID) {
			out = append(out, omemoTarget{j, id, history.OMEMO03})
		}
	}
	return out, nil
}

// sessionOf is the session held with t's device: nil when none, else an
// *omemo.Session03 or *omemo.Session2. c.omemo.mu is held.
func (c *Client) sessionOf(ctx context.Context, t omemoTarget) (any, error) {
	if t.v == history.OMEMO2 {
		s, err := c.omemoSession2(ctx, t.key())
		if err != nil || s == nil {
			return nil, err
		}
		return s, nil
	}
	s, err := c.omemoSession(ctx, t.key())
	if err != nil || s == nil {
		return nil, err
	}
	return s, nil
}

// heldSession is sessionOf with the identity key the session was agreed
// with, in its X25519 form. c.omemo.mu is held.
func (c *Client) heldSession(ctx context.Context, t omemoTarget) (any, [omemo.KeySize]byte, error) {
	s, err := c.sessionOf(ctx, t)
	switch s := s.(type) {
	case *omemo.Session2:
		ed := s.PeerIdentity()
		x, err := omemo.IdentityX25519(&ed)
		return s, x, err
	case *omemo.Session03:
		return s, s.PeerIdentity(), nil
	}
	return nil, [omemo.KeySize]byte{}, err
}

// chosenBundleV reads the bundle of t's device in its version and picks
// one of its one-time pre-keys, its signed pre-key's signature checked:
// an *omemo.Bundle03 or *omemo.Bundle2, with its identity key in the
// X25519 form.
func (c *Client) chosenBundleV(ctx context.Context, sess *xmpp.Session, t omemoTarget) (any, [omemo.KeySize]byte, error) {
	if t.v != history.OMEMO2 {
		b, err := c.chosenBundle(ctx, sess, t.jid, t.id)
		if err != nil {
			return nil, [omemo.KeySize]byte{}, err
		}
		return b, b.IdentityKey, nil
	}
	b, err := c.fetchOMEMOBundle(ctx, sess, t.jid, OMEMO2, t.id)
	if err != nil {
		return nil, [omemo.KeySize]byte{}, err
	}
	p := omemo.PublishedBundle2{IdentityKey: b.IdentityKey, SignedPreKey: b.SignedPreKey, SignedPreKeyID: b.SignedPreKeyID, SignedPreKeySignature: b.SignedPreKeySig}
	for _, k := range b.PreKeys {
		p.PreKeys = append(p.PreKeys, omemo.PublishedPreKey{ID: k.ID, Key: k.Key})
	}
	chosen, err := p.Choose(crand.Reader)
	if err != nil {
		return nil, [omemo.KeySize]byte{}, err
	}
	x, err := omemo.IdentityX25519(&chosen.IdentityKey)
	return chosen, x, err
}

// omemoRecipients collects the recipients of one message in both
// versions, with the session key of each.
type omemoRecipients struct {
	r03 []omemo.Recipient03
	k03 []history.SessionKey
	r2  []omemo.Recipient2
	k2  []history.SessionKey
}

// has says whether a device with t's id is in already in t's version:
// the omemo package names a recipient by its device id alone (and 0.3's
// keys do too), so two devices with one id — a contact's and one of
// ours, or two members' — cannot both be encrypted to in one message.
func (rs *omemoRecipients) has(t omemoTarget) bool {
	keys := rs.k03
	if t.v == history.OMEMO2 {
		keys = rs.k2
	}
	return slices.ContainsFunc(keys, func(k history.SessionKey) bool { return k.Device == t.id })
}

// add puts t with its session (or, when session is nil, bundle) in.
func (rs *omemoRecipients) add(t omemoTarget, session, bundle any) {
	if t.v == history.OMEMO2 {
		r := omemo.Recipient2{DeviceID: t.id}
		r.Session, _ = session.(*omemo.Session2)
		r.Bundle, _ = bundle.(*omemo.Bundle2)
		rs.r2, rs.k2 = append(rs.r2, r), append(rs.k2, t.key())
		return
	}
	r := omemo.Recipient03{DeviceID: t.id}
	r.Session, _ = session.(*omemo.Session03)
	r.Bundle, _ = bundle.(*omemo.Bundle03)
	rs.r03, rs.k03 = append(rs.r03, r), append(rs.k03, t.key())
}

// encryptFor encrypts body (sealed in an envelope from `from` to `to` for
// OMEMO 2) for the recipients: one element per version that has any,
// OMEMO 2's first with 0.3's as its Also. It holds the sessions
// advanced and returns them to store with the message. c.omemo.mu is
// held.
func (c *Client) encryptFor(dev *omemo.Device, rs *omemoRecipients, body, from, to string) (*OMEMOEncrypted, []history.Session, error) {
	st := &c.omemo
	// Each key the omemo package returns is matched to its recipient by
	// device id: with two recipients of one id in a version, one's
	// session would be kept as the other's.
	for _, ks := range [][]history.SessionKey{rs.k03, rs.k2} {
		seen := map[uint32]bool{}
		for _, k := range ks {
			if seen[k.Device] {
				return nil, nil, fmt.Errorf("two devices with id %d to encrypt to", k.Device)
			}
			seen[k.Device] = true
		}
	}
	var sessions []history.Session
	var enc2, enc03 *OMEMOEncrypted
	var errs []error
	if len(rs.r2) > 0 {
		env, err := sealEnvelope(crand.Reader, body, from, to, time.Now())
		if err != nil {
			return nil, nil, err
		}
		out, err := omemo.EncryptMessage2(crand.Reader, dev, env, rs.r2)
		if err == nil {
			enc2 = &OMEMOEncrypted{Version: OMEMO2, SID: dev.ID(), Payload: out.Payload}
			keys := map[uint32]history.SessionKey{}
			for i, r := range rs.r2 {
				keys[r.DeviceID] = rs.k2[i]
			}
			for i, k := range out.Keys {
				sk := keys[k.RID]
				enc2.Keys = append(enc2.Keys, OMEMOKey{RID: k.RID, JID: sk.JID, PreKey: k.Kex, Data: k.Data})
				st.hold2(sk, out.Sessions[i])
				sessions = append(sessions, history.Session{SessionKey: sk, State: out.Sessions[i].Marshal()})
			}
		} else {
			errs = append(errs, err)
		}
	}
	if len(rs.r03) > 0 {
		out, err := omemo.EncryptMessage03(crand.Reader, dev, []byte(body), rs.r03)
		if err == nil {
			enc03 = &OMEMOEncrypted{Version: OMEMO03, SID: dev.ID(), IV: out.IV[:], Payload: out.Payload, Keys: keysOf(out)}
			keys := map[uint32]history.SessionKey{}
			for i, r := range rs.r03 {
				keys[r.DeviceID] = rs.k03[i]
			}
			for i, k := range out.Keys {
				sk := keys[k.RID]
				st.hold(sk, out.Sessions[i])
				sessions = append(sessions, history.Session{SessionKey: sk, State: out.Sessions[i].Marshal()})
			}
		} else {
			errs = append(errs, err)
		}
	}
	switch {
	case enc2 != nil:
		enc2.Also = enc03
		return enc2, sessions, nil
	case enc03 != nil:
		return enc03, sessions, nil
	}
	return nil, nil, errors.Join(errs...)
}

// sendOMEMOEmpty2 carries out omemoEmpty for an OMEMO 2 device (the
// session's goroutine).
func (c *Client) sendOMEMOEmpty2(ctx context.Context, sess *xmpp.Session, cmd omemoEmpty) error {
	k := history.SessionKey{JID: cmd.JID, Device: cmd.Device, Version: history.OMEMO2}
	t := omemoTarget{cmd.JID, cmd.Device, history.OMEMO2}
	var bundle *omemo.Bundle2
	var identity [omemo.KeySize]byte
	if cmd.Repair {
		b, id, err := c.chosenBundleV(ctx, sess, t)
		if err != nil {
			return err
		}
		bundle, identity = b.(*omemo.Bundle2), id
	}
	st := &c.omemo
	st.mu.Lock()
	defer st.mu.Unlock()
	dev, err := c.omemoDevice(ctx)
	if err != nil {
		return err
	}
	r := omemo.Recipient2{DeviceID: cmd.Device, Bundle: bundle}
	if bundle != nil {
		if c.identityChanged(ctx, cmd.JID, cmd.Device, nil, identity) || !c.trustedV(ctx, cmd.JID, history.OMEMO2, cmd.Device, identity) {
			return nil // not one to start a session with
		}
	} else if r.Session, err = c.omemoSession2(ctx, k); err != nil || r.Session == nil {
		return err
	}
	out, err := omemo.EncryptEmpty2(crand.Reader, dev, []omemo.Recipient2{r})
	if err != nil {
		return err
	}
	enc := &OMEMOEncrypted{Version: OMEMO2, SID: dev.ID()}
	for _, key := range out.Keys {
		enc.Keys = append(enc.Keys, OMEMOKey{RID: key.RID, JID: cmd.JID, PreKey: key.Kex, Data: key.Data})
	}
	el, err := OMEMOMessage(cmd.JID, NewID(), enc)
	if err != nil {
		return err
	}
	s := out.Sessions[0]
	if c.opts.Store != nil {
		// Kept before it goes: what the device sends next is read with it.
		if err := c.opts.Store.Commit(history.Batch{Sessions: []history.Session{{SessionKey: k, State: s.Marshal()}}}); err != nil {
			return err
		}
	}
	st.hold2(k, s)
	return sess.Send(el)
}
