package chat

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
	"github.com/gab-chat/gab/xmpp"
)

// Sending with OMEMO: a message the user asked to encrypt goes to every
// device of the contact and every other device of ours that is not
// distrusted, each in its version (omemo2.go), through the session held with it or one started from its
// bundle (its signed pre-key verified first). The encrypted element is
// kept in the outbox with the message, in the transaction that also
// keeps the sessions it advanced: a resend sends those same bytes and
// never encrypts again. A message to be encrypted is never sent in plain
// text: when nothing can be encrypted to, it is refused and says why.

// errOMEMOOffline: an encrypted message cannot wait in the outbox before
// it is encrypted, and encrypting needs the server.
var errOMEMOOffline = errors.New("not sent: gab is not connected, and encrypting needs the contact's devices from the server; send it again once connected")

// errOMEMOReply: a reply's markup and quote would travel in plain text.
var errOMEMOReply = errors.New("replies are not sent encrypted yet: send it without replying, or turn encryption off (/omemo off)")

// wire03 is the encrypted element of a message in the outbox, as the
// store keeps it (history.Message.Wire): V is its version (0 for 0.3, as
// rows kept before OMEMO 2 have it), Also the other version's element
// the message carries too.
type wire03 struct {
	V       OMEMOVersion `json:"v,omitempty"`
	SID     uint32       `json:"sid"`
	Keys    []OMEMOKey   `json:"keys"`
	IV      []byte       `json:"iv"`
	Payload []byte       `json:"payload"`
	Also    *wire03      `json:"also,omitempty"`
}

func toWire(e *OMEMOEncrypted) *wire03 {
	if e == nil {
		return nil
	}
	w := &wire03{SID: e.SID, Keys: e.Keys, IV: e.IV, Payload: e.Payload, Also: toWire(e.Also)}
	if e.Version != OMEMO03 {
		w.V = e.Version
	}
	return w
}

func encodeWire(e *OMEMOEncrypted) string {
	b, _ := json.Marshal(toWire(e))
	return string(b)
}

func decodeWire(s string) (*OMEMOEncrypted, error) {
	var w wire03
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, fmt.Errorf("an encrypted message in the outbox cannot be read: %w", err)
	}
	from := func(w *wire03) *OMEMOEncrypted {
		v := w.V
		if v == 0 {
			v = OMEMO03
		}
		return &OMEMOEncrypted{Version: v, SID: w.SID, Keys: w.Keys, IV: w.IV, Payload: w.Payload}
	}
	e := from(&w)
	if w.Also != nil {
		e.Also = from(w.Also)
	}
	if !e.Version.valid() || e.Also != nil && (!e.Also.Version.valid() || e.Also.Version == e.Version) {
		return nil, errors.New("an encrypted message in the outbox names an unknown OMEMO version")
	}
	return e, nil
}

// omemoDevices is bare's active devices of version v, from the store, or
// read from its server (and stored) when none is stored and it was not
// read empty this run. c.omemo.mu is not held.
func (c *Client) omemoDevices(ctx context.Context, sess *xmpp.Session, bare string, v history.Version) ([]uint32, error) {
	return c.devicesOf(ctx, sess, bare, v, false)
}

// devicesOf is omemoDevices; elsewhere says bare is known to have
// active devices in the other version.
func (c *Client) devicesOf(ctx context.Context, sess *xmpp.Session, bare string, v history.Version, elsewhere bool) ([]uint32, error) {
	var ids []uint32
	if s := c.opts.Store; s != nil {
		devs, err := s.Devices(ctx, bare, v)
		if err != nil {
			return nil, err
		}
		for _, d := range devs {
			if d.Active {
				ids = append(ids, d.ID)
			}
		}
		if len(devs) > 0 {
			return ids, nil
		}
	}
	if c.listEmpty(ctx, bare, v, elsewhere) {
		return nil, nil
	}
	cv := chatVersion(v)
	list, err := c.fetchOMEMODevices(ctx, sess, bare, cv)
	if err != nil {
		return nil, fmt.Errorf("could not read the %s devices of %s: %w", cv, bare, err)
	}
	c.saveDeviceListV(ctx, bare, v, list)
	c.listRead(bare, v, len(list) == 0)
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	return ids, nil
}

// saveDeviceList keeps a device list read or announced; it returns the
// devices new since the last one.
func (c *Client) saveDeviceList(ctx context.Context, bare string, list []OMEMODevice) []uint32 {
	return c.saveDeviceListV(ctx, bare, history.OMEMO03, list)
}

// saveDeviceListV is saveDeviceList for version v.
func (c *Client) saveDeviceListV(ctx context.Context, bare string, v history.Version, list []OMEMODevice) []uint32 {
	s := c.opts.Store
	if s == nil {
		return nil
	}
	ls := make([]history.ListedDevice, len(list))
	for i, d := range list {
		ls[i] = history.ListedDevice{ID: d.ID, Label: d.Label}
	}
	ch, err := s.SaveDeviceList(ctx, bare, v, ls, time.Now())
	if err != nil {
		c.storeFailed(err)
		return nil
	}
	return ch.New
}

// noBundle is a device whose bundle could not be read, when, and why.
type noBundle struct {
	at  time.Time
	err error
}

// noBundleFor is how long a device whose bundle could not be read is
// left out of what is encrypted, unless its device list changes first:
// a list naming devices that publish nothing would otherwise cost a
// request for each of them at every message.
const noBundleFor = time.Hour

// omemoListChanged keeps a device list announced (reader goroutine) and
// returns a notice naming the devices a contact added since the list of
// that version held before, nil when there are none (or no list was
// held: the first list of someone is not news; nor is a device listed in
// the other version already: the same device in both).
func (c *Client) omemoListChanged(ctx context.Context, e OMEMODeviceListChanged) Event {
	if !c.opts.OMEMO || !e.Version.valid() {
		return nil
	}
	v := historyVersion(e.Version)
	if e.Own {
		c.omemoStillListed(e.Devices)
	}
	c.omemo.mu.Lock()
	for k := range c.omemo.noBundle {
		if k.JID == e.JID {
			delete(c.omemo.noBundle, k) // a new list: its devices may publish now
		}
	}
	c.omemo.mu.Unlock()
	c.listRead(e.JID, v, len(e.Devices) == 0)
	if c.opts.Store == nil {
		return nil
	}
	before, err := c.opts.Store.Devices(ctx, e.JID, v)
	if err != nil {
		c.storeFailed(err)
		return nil
	}
	other, err := c.opts.Store.Devices(ctx, e.JID, history.OMEMO03+history.OMEMO2-v)
	if err != nil {
		c.storeFailed(err)
		return nil
	}
	added := slices.DeleteFunc(c.saveDeviceListV(ctx, e.JID, v, e.Devices), func(id uint32) bool {
		return slices.ContainsFunc(other, func(d history.Device) bool { return d.ID == id })
	})
	if len(before) == 0 || len(added) == 0 {
		return nil
	}
	// Whether they will be trusted blindly (decideTrust), before any
	// identity key of theirs is known.
	untrusted := c.opts.OMEMOManualTrust || c.verifiedAny(ctx, e.JID)
	return OMEMODevicesAdded{JID: e.JID, Own: e.Own, Devices: added, Untrusted: untrusted}
}

// OMEMODevicesAdded: JID's OMEMO device list (0.3 or 2) has devices it did not
// have before (Own: our own account's): what is encrypted from now on
// goes to them too, which the user is told where they talk with JID —
// unless they are Untrusted: with manual trust, or once the user verified
// one of JID's devices, a new one is encrypted to only after /omemo trust.
type OMEMODevicesAdded struct {
	JID       string
	Own       bool
	Devices   []uint32
	Untrusted bool
}

func (OMEMODevicesAdded) isEvent() {}

// Text says it in words.
func (e OMEMODevicesAdded) Text() string {
	ids := make([]string, len(e.Devices))
	for i, id := range e.Devices {
		ids[i] = fmt.Sprint(id)
	}
	who := e.JID
	if e.Own {
		who = "your account"
	}
	if e.Untrusted {
		return fmt.Sprintf("%s has a new OMEMO device (%s), not trusted yet: nothing is encrypted to it and its messages show 🔓 until you compare its fingerprint (/omemo devices %s shows it once known) and /omemo trust %s FINGERPRINT", who, strings.Join(ids, ", "), e.JID, e.JID)
	}
	return fmt.Sprintf("%s has a new OMEMO device (%s): messages encrypted from now on go to it too; /omemo devices %s shows its fingerprint once known", who, strings.Join(ids, ", "), e.JID)
}

// omemoStillListed sees that this device is in our own account's list
// announced: when another client of ours, or the server, published one
// without it, it is published again with it (a device no longer listed
// is not encrypted to), once however many such lists come before that
// is done.
func (c *Client) omemoStillListed(list []OMEMODevice) {
	st := &c.omemo
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.dev == nil {
		return // not published yet: login publishes it
	}
	for _, d := range list {
		if d.ID == st.dev.ID() {
			return
		}
	}
	if st.devDirty {
		st.publish = true // once the device as it is now is stored
		return
	}
	if st.published == nil {
		c.Do(omemoRepublish{})
	}
	st.published = st.dev
}

// trusted says whether bare's identity key may be encrypted to, deciding
// blindly for a key seen for the first time.
func (c *Client) trusted(ctx context.Context, bare string, device uint32, identity [omemo.KeySize]byte) bool {
	return c.trustedV(ctx, bare, history.OMEMO03, device, identity)
}

// trustedV is trusted for a device of version v.
func (c *Client) trustedV(ctx context.Context, bare string, v history.Version, device uint32, identity [omemo.KeySize]byte) bool {
	switch c.omemoTrustV(ctx, bare, v, device, identity) {
	case history.TrustTrusted, history.TrustVerified:
		return true
	}
	return false
}

// untrustedReason says why device id of jid, with trust t, is not
// encrypted to, and what the user may do about it.
func untrustedReason(t history.Trust, device, jid string) string {
	if t == history.TrustDistrusted {
		return fmt.Sprintf("%s is distrusted, as you decided (/omemo trust %s FINGERPRINT undoes it)", device, jid)
	}
	return fmt.Sprintf("%s is not trusted yet: /omemo devices %s shows its fingerprint; once compared with theirs, /omemo trust %s FINGERPRINT", device, jid, jid)
}

// maxReasons bounds the devices a refusal to encrypt names, with why.
const maxReasons = 3

// omemoEncrypt encrypts body for bare's devices and our other ones, each
// in the version it speaks (OMEMO 2 where it lists itself, 0.3
// otherwise). It returns the element (OMEMO 2's, with 0.3's as its Also
// when some devices speak only 0.3), and the sessions it advanced, to
// store with the message; the sessions are held for this run already.
func (c *Client) omemoEncrypt(ctx context.Context, sess *xmpp.Session, bare, body string) (*OMEMOEncrypted, []history.Session, error) {
	me := c.acct.JID.Bare().String()
	st := &c.omemo
	st.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	st.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	targets, err := c.omemoTargets(ctx, sess, bare, dev.ID())
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(targets, func(t omemoTarget) bool { return t.jid == bare }) {
		return nil, nil, fmt.Errorf("%s has no OMEMO device to encrypt to (its client may not speak OMEMO): not sent; /omemo off sends in plain text", bare)
	}
	rs, left := c.pickRecipients(ctx, sess, targets)
	defer st.mu.Unlock()
	var skipped []string
	for _, l := range left {
		switch {
		case l.t.jid == bare && l.untrusted:
			skipped = append(skipped, l.short) // it is the contact's
		case !l.untrusted:
			skipped = append(skipped, l.long)
		}
	}
	contact := 0
	for _, k := range slices.Concat(rs.k03, rs.k2) {
		if k.JID == bare {
			contact++
		}
	}
	if contact == 0 {
		why := ""
		if len(skipped) > maxReasons {
			// A list of hundreds of devices (any server can publish one)
			// is not a reason hundreds of lines long.
			skipped = append(skipped[:maxReasons:maxReasons], fmt.Sprintf("and %d more", len(skipped)-maxReasons))
		}
		if len(skipped) > 0 {
			why = " (" + strings.Join(skipped, "; ") + ")"
		}
		return nil, nil, fmt.Errorf("no device of %s can be encrypted to%s: not sent", bare, why)
	}
	enc, sessions, err := c.encryptFor(dev, rs, body, me, bare)
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(sessions, func(s history.Session) bool { return s.JID == bare }) {
		return nil, nil, fmt.Errorf("no device of %s could be encrypted to: not sent", bare)
	}
	return enc, sessions, nil
}

// maxBundleReads bounds the requests for device lists and bundles under
// way at once.
const maxBundleReads = 32

// together runs f(0) … f(n-1), at most maxBundleReads at once, and
// returns when all have: requests to servers that may hold them
// unanswered (anyone can list hundreds of devices, a room thousands of
// members) cost the time of one for each batch of them, not of each,
// while no message can be sent.
func together(n int, f func(i int)) {
	sem := make(chan struct{}, maxBundleReads)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

// readBundle is a bundle read for a device (chosenBundleV's results).
type readBundle struct {
	bundle   any
	identity [omemo.KeySize]byte
	err      error
}

// readBundles reads the bundles of the devices need together.
// c.omemo.mu is not held.
func (c *Client) readBundles(ctx context.Context, sess *xmpp.Session, need []omemoTarget) []readBundle {
	out := make([]readBundle, len(need))
	together(len(need), func(i int) {
		b, identity, err := c.chosenBundleV(ctx, sess, need[i])
		out[i] = readBundle{b, identity, err}
	})
	return out
}

// leftOut is a device a message is not encrypted to, and why: short
// names it by its id ("device 7 …"), long with its JID too.
type leftOut struct {
	t           omemoTarget
	short, long string
	untrusted   bool // a trust decision (or none yet), not a failure
}

// leaveOut says why t is left out; say makes the reason from the
// device's name.
func leaveOut(t omemoTarget, untrusted bool, say func(device string) string) leftOut {
	return leftOut{t: t, untrusted: untrusted,
		short: say(fmt.Sprintf("device %d", t.id)),
		long:  say(fmt.Sprintf("device %d of %s", t.id, t.jid))}
}

// failed is a reason that is an error.
func failed(err error) func(string) string {
	return func(device string) string { return device + ": " + err.Error() }
}

// pickRecipients decides which of targets a message goes to, in chats
// and rooms alike: a device with a session held or stored, else one
// whose bundle is read now (all together, without the lock; a bundle
// read in vain is not asked for again for noBundleFor), whose identity
// key is the one known for it, and which is trusted; one device per id
// and version (a key names a device by its id alone: in 0.3 at all, and
// in the sessions encryptFor holds). It returns with c.omemo.mu held, as
// encryptFor needs it, and says which devices it left out and why.
func (c *Client) pickRecipients(ctx context.Context, sess *xmpp.Session, targets []omemoTarget) (*omemoRecipients, []leftOut) {
	st := &c.omemo
	var left []leftOut
	st.mu.Lock()
	var need []omemoTarget
	for _, t := range targets {
		if s, err := c.sessionOf(ctx, t); err == nil && s != nil {
			continue
		}
		if nb, ok := st.noBundle[t.key()]; ok && time.Since(nb.at) < noBundleFor {
			// Read in vain a moment ago: not asked again for each message.
			left = append(left, leaveOut(t, false, failed(nb.err)))
			continue
		}
		need = append(need, t)
	}
	st.mu.Unlock()
	bundles := map[omemoTarget]readBundle{}
	for i, r := range c.readBundles(ctx, sess, need) {
		t := need[i]
		if r.err == nil {
			bundles[t] = r
			continue
		}
		left = append(left, leaveOut(t, false, failed(r.err)))
		if ctx.Err() == nil && !isNetError(r.err) {
			st.mu.Lock()
			if st.noBundle == nil {
				st.noBundle = map[history.SessionKey]noBundle{}
			}
			st.noBundle[t.key()] = noBundle{time.Now(), r.err}
			st.mu.Unlock()
		}
	}
	st.mu.Lock()
	rs := &omemoRecipients{}
	for _, t := range targets {
		s, identity, err := c.heldSession(ctx, t)
		if err != nil {
			left = append(left, leaveOut(t, false, failed(err)))
			continue
		}
		var bundle any
		if s == nil {
			b, ok := bundles[t]
			if !ok {
				continue // its bundle could not be read (said above)
			}
			bundle, identity = b.bundle, b.identity
			if c.identityChanged(ctx, t.jid, t.id, nil, identity) {
				left = append(left, leaveOut(t, false, func(d string) string { return d + " published another identity key than the one known for it" }))
				continue
			}
		}
		if tr := c.omemoTrustV(ctx, t.jid, t.v, t.id, identity); tr != history.TrustTrusted && tr != history.TrustVerified {
			left = append(left, leaveOut(t, true, func(d string) string { return untrustedReason(tr, d, t.jid) }))
			continue
		}
		if rs.has(t) {
			left = append(left, leaveOut(t, false, func(d string) string {
				return d + " has the id of another device encrypted to (gab cannot tell them apart)"
			}))
			continue
		}
		rs.add(t, s, bundle)
	}
	return rs, left
}

// omemoEmpty sends an empty OMEMO message (a key transport) to one
// device: after a pre-key message from it decrypted (Repair false), so
// that it knows the session is ours too and stops sending pre-key
// messages; or, after a message from it could not be decrypted (Repair
// true), in a new session started from its bundle, so that what it sends
// next decrypts again.
type omemoEmpty struct {
	JID    string
	Device uint32
	Repair bool
	V2     bool // the device's session is OMEMO 2's
}

func (omemoEmpty) isCommand() {}

// repairEvery bounds how often a session with one device is started
// anew: a peer sending undecryptable messages does not make gab read
// its bundle for each.
const repairEvery = time.Hour

// maxRepairsPerJID bounds the sessions started anew with the devices of
// one JID within repairEvery: the device id of a message is whatever its
// sender wrote, so a new one in each undecryptable message must not make
// gab read a bundle for each.
const maxRepairsPerJID = 4

// sendOMEMOEmpty carries out omemoEmpty (the session's goroutine).
func (c *Client) sendOMEMOEmpty(ctx context.Context, sess *xmpp.Session, cmd omemoEmpty) error {
	if cmd.V2 {
		return c.sendOMEMOEmpty2(ctx, sess, cmd)
	}
	k := history.SessionKey{JID: cmd.JID, Device: cmd.Device, Version: history.OMEMO03}
	var bundle *omemo.Bundle03
	if cmd.Repair {
		var err error
		if bundle, err = c.chosenBundle(ctx, sess, cmd.JID, cmd.Device); err != nil {
			return err
		}
	}
	st := &c.omemo
	st.mu.Lock()
	defer st.mu.Unlock()
	dev, err := c.omemoDevice(ctx)
	if err != nil {
		return err
	}
	r := omemo.Recipient03{DeviceID: cmd.Device, Bundle: bundle}
	if bundle != nil {
		if c.identityChanged(ctx, cmd.JID, cmd.Device, nil, bundle.IdentityKey) || !c.trusted(ctx, cmd.JID, cmd.Device, bundle.IdentityKey) {
			return nil // not one to start a session with
		}
	} else if r.Session, err = c.omemoSession(ctx, k); err != nil || r.Session == nil {
		return err
	}
	out, err := omemo.EncryptEmpty03(crand.Reader, dev, []omemo.Recipient03{r})
	if err != nil {
		return err
	}
	enc := &OMEMOEncrypted{Version: OMEMO03, SID: dev.ID(), IV: out.IV[:]}
	enc.Keys = keysOf(out)
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
	st.hold(k, s)
	return sess.Send(el)
}

// afterDecrypt queues what a decryption calls for: the answer to a
// pre-key message, or the repair of a session that failed. c.omemo.mu is
// held.
func (c *Client) afterDecrypt(bare string, device uint32, newSession, failed bool) {
	c.afterDecryptV(history.OMEMO03, bare, device, newSession, failed)
}

// afterDecryptV is afterDecrypt for a session of version v.
func (c *Client) afterDecryptV(v history.Version, bare string, device uint32, newSession, failed bool) {
	if bare != c.acct.JID.Bare().String() && !c.inRoster(bare) && !c.roomMember(bare) {
		// Neither answered nor repaired: a message to a stranger would
		// tell it we are online (receipts go to contacts alone for the
		// same reason). Its messages still decrypt in the session it
		// started. A member of an encrypted room we are in sees us there
		// already: answered as a contact is (omemo_room.go).
		return
	}
	switch {
	case newSession:
		// Sent once the message and its session are stored: the answer's
		// session is committed as it goes, and must not be in the store
		// without the message it read.
		answer := omemoEmpty{JID: bare, Device: device, V2: v == history.OMEMO2}
		if c.opts.Store == nil {
			c.Do(answer) // nothing is stored
		} else {
			c.omemo.answers = append(c.omemo.answers, answer)
		}
	case failed:
		st := &c.omemo
		k := history.SessionKey{JID: bare, Device: device, Version: v}
		now, n := time.Now(), 0
		for rk, at := range st.repaired {
			switch {
			case now.Sub(at) >= repairEvery:
				delete(st.repaired, rk) // long ago: may be repaired again
			case rk == k:
				return
			case rk.JID == bare:
				n++
			}
		}
		if n >= maxRepairsPerJID {
			return
		}
		if st.repaired == nil {
			st.repaired = map[history.SessionKey]time.Time{}
		}
		st.repaired[k] = now
		c.Do(omemoEmpty{JID: bare, Device: device, Repair: true, V2: v == history.OMEMO2})
	}
}

// chosenBundle reads the OMEMO 0.3 bundle of bare's device and picks one
// of its one-time pre-keys, its signed pre-key's signature checked.
func (c *Client) chosenBundle(ctx context.Context, sess *xmpp.Session, bare string, device uint32) (*omemo.Bundle03, error) {
	b, err := c.fetchOMEMOBundle(ctx, sess, bare, OMEMO03, device)
	if err != nil {
		return nil, err
	}
	p := omemo.PublishedBundle03{IdentityKey: b.IdentityKey, SignedPreKey: b.SignedPreKey, SignedPreKeyID: b.SignedPreKeyID, SignedPreKeySignature: b.SignedPreKeySig}
	for _, k := range b.PreKeys {
		p.PreKeys = append(p.PreKeys, omemo.PublishedPreKey{ID: k.ID, Key: k.Key})
	}
	return p.Choose(crand.Reader)
}

// keysOf is the key elements of an encryption, as the XML carries them.
func keysOf(out *omemo.Encrypted03) []OMEMOKey {
	keys := make([]OMEMOKey, 0, len(out.Keys))
	for _, k := range out.Keys {
		keys = append(keys, OMEMOKey{RID: k.RID, PreKey: k.PreKey, Data: k.Data})
	}
	return keys
}
