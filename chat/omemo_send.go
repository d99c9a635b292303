package chat

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
	"github.com/gab-chat/gab/xmpp"
)

// Sending with OMEMO 0.3: a message the user asked to encrypt goes to
// every device of the contact and every other device of ours that is not
// distrusted, through the session held with it or one started from its
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
// store keeps it (history.Message.Wire).
type wire03 struct {
	SID     uint32     `json:"sid"`
	Keys    []OMEMOKey `json:"keys"`
	IV      []byte     `json:"iv"`
	Payload []byte     `json:"payload"`
}

func encodeWire(e *OMEMOEncrypted) string {
	b, _ := json.Marshal(wire03{SID: e.SID, Keys: e.Keys, IV: e.IV, Payload: e.Payload})
	return string(b)
}

func decodeWire(s string) (*OMEMOEncrypted, error) {
	var w wire03
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, fmt.Errorf("an encrypted message in the outbox cannot be read: %w", err)
	}
	return &OMEMOEncrypted{Version: OMEMO03, SID: w.SID, Keys: w.Keys, IV: w.IV, Payload: w.Payload}, nil
}

// omemoDevices is bare's active OMEMO 0.3 devices, from the store, or
// read from its server (and stored) when none is stored.
func (c *Client) omemoDevices(ctx context.Context, sess *xmpp.Session, bare string) ([]uint32, error) {
	var ids []uint32
	if s := c.opts.Store; s != nil {
		devs, err := s.Devices(ctx, bare, history.OMEMO03)
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
	list, err := c.fetchOMEMODevices(ctx, sess, bare, OMEMO03)
	if err != nil {
		return nil, fmt.Errorf("could not read the OMEMO devices of %s: %w", bare, err)
	}
	c.saveDeviceList(ctx, bare, list)
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	return ids, nil
}

// saveDeviceList keeps a device list read or announced; it returns the
// devices new since the last one.
func (c *Client) saveDeviceList(ctx context.Context, bare string, list []OMEMODevice) []uint32 {
	s := c.opts.Store
	if s == nil {
		return nil
	}
	ls := make([]history.ListedDevice, len(list))
	for i, d := range list {
		ls[i] = history.ListedDevice{ID: d.ID, Label: d.Label}
	}
	ch, err := s.SaveDeviceList(ctx, bare, history.OMEMO03, ls, time.Now())
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

// omemoListChanged keeps an OMEMO 0.3 device list announced (reader
// goroutine) and returns a notice naming the devices a contact added
// since the list held before, nil when there are none (or no list was
// held: the first list of someone is not news).
func (c *Client) omemoListChanged(ctx context.Context, e OMEMODeviceListChanged) Event {
	if !c.opts.OMEMO || e.Version != OMEMO03 {
		return nil
	}
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
	if c.opts.Store == nil {
		return nil
	}
	before, err := c.opts.Store.Devices(ctx, e.JID, history.OMEMO03)
	if err != nil {
		c.storeFailed(err)
		return nil
	}
	added := c.saveDeviceList(ctx, e.JID, e.Devices)
	if len(before) == 0 || len(added) == 0 {
		return nil
	}
	return OMEMODevicesAdded{JID: e.JID, Own: e.Own, Devices: added}
}

// OMEMODevicesAdded: JID's OMEMO 0.3 device list has devices it did not
// have before (Own: our own account's): what is encrypted from now on
// goes to them too, which the user is told where they talk with JID.
type OMEMODevicesAdded struct {
	JID     string
	Own     bool
	Devices []uint32
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
	switch c.omemoTrust(ctx, bare, device, identity) {
	case history.TrustTrusted, history.TrustVerified:
		return true
	}
	return false
}

// maxReasons bounds the devices a refusal to encrypt names, with why.
const maxReasons = 3

// omemoEncrypt encrypts body for bare's devices and our other ones. It
// returns the element, and the sessions it advanced, to store with the
// message; the sessions are held for this run already.
func (c *Client) omemoEncrypt(ctx context.Context, sess *xmpp.Session, bare, body string) (*OMEMOEncrypted, []history.Session, error) {
	me := c.acct.JID.Bare().String()
	theirs, err := c.omemoDevices(ctx, sess, bare)
	if err != nil {
		return nil, nil, err
	}
	if len(theirs) == 0 {
		return nil, nil, fmt.Errorf("%s has no OMEMO device to encrypt to (its client may not speak OMEMO): not sent; /omemo off sends in plain text", bare)
	}
	mine, err := c.omemoDevices(ctx, sess, me)
	if err != nil {
		mine = nil // our other devices are a courtesy; the contact is what matters
	}
	st := &c.omemo
	st.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	st.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	type target struct {
		jid string
		id  uint32
	}
	var targets []target
	for _, id := range theirs {
		targets = append(targets, target{bare, id})
	}
	for _, id := range mine {
		if id != dev.ID() {
			targets = append(targets, target{me, id})
		}
	}
	// Bundles for devices without a session are read first, without the
	// state's lock: the network is slow.
	st.mu.Lock()
	var need []target
	var skipped []string
	for _, t := range targets {
		k := history.SessionKey{JID: t.jid, Device: t.id, Version: history.OMEMO03}
		s, err := c.omemoSession(ctx, k)
		if err == nil && s != nil {
			continue
		}
		if nb, ok := st.noBundle[k]; ok && time.Since(nb.at) < noBundleFor {
			// Read in vain a moment ago: not asked again for each message.
			skipped = append(skipped, fmt.Sprintf("device %d of %s: %v", t.id, t.jid, nb.err))
			continue
		}
		need = append(need, t)
	}
	st.mu.Unlock()
	bundles := map[target]*omemo.Bundle03{}
	for _, t := range need {
		chosen, err := c.chosenBundle(ctx, sess, t.jid, t.id)
		if err == nil {
			bundles[t] = chosen
			continue
		}
		skipped = append(skipped, fmt.Sprintf("device %d of %s: %v", t.id, t.jid, err))
		if ctx.Err() == nil && !isNetError(err) {
			st.mu.Lock()
			if st.noBundle == nil {
				st.noBundle = map[history.SessionKey]noBundle{}
			}
			st.noBundle[history.SessionKey{JID: t.jid, Device: t.id, Version: history.OMEMO03}] = noBundle{time.Now(), err}
			st.mu.Unlock()
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var recipients []omemo.Recipient03
	var keys []history.SessionKey
	contact := 0
	for _, t := range targets {
		k := history.SessionKey{JID: t.jid, Device: t.id, Version: history.OMEMO03}
		s, err := c.omemoSession(ctx, k)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("device %d of %s: %v", t.id, t.jid, err))
			continue
		}
		r := omemo.Recipient03{DeviceID: t.id, Session: s}
		var identity [omemo.KeySize]byte
		switch {
		case s != nil:
			identity = s.PeerIdentity()
		case bundles[t] != nil:
			r.Bundle, identity = bundles[t], bundles[t].IdentityKey
			if c.identityChanged(ctx, t.jid, t.id, nil, identity) {
				skipped = append(skipped, fmt.Sprintf("device %d of %s published another identity key than the one known for it (not encrypted to it)", t.id, t.jid))
				continue
			}
		default:
			continue // its bundle could not be read (said above)
		}
		if !c.trusted(ctx, t.jid, t.id, identity) {
			if t.jid == bare {
				skipped = append(skipped, fmt.Sprintf("device %d is not trusted (/omemo devices %s, then /omemo trust %s FINGERPRINT)", t.id, bare, bare))
			}
			continue
		}
		recipients, keys = append(recipients, r), append(keys, k)
		if t.jid == bare {
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
	out, err := omemo.EncryptMessage03(crand.Reader, dev, []byte(body), recipients)
	if err != nil {
		return nil, nil, err
	}
	enc := &OMEMOEncrypted{Version: OMEMO03, SID: dev.ID(), IV: out.IV[:], Payload: out.Payload}
	enc.Keys = keysOf(out)
	byDevice := make(map[uint32]history.SessionKey, len(keys))
	for i, r := range recipients {
		byDevice[r.DeviceID] = keys[i]
	}
	var sessions []history.Session
	for i, s := range out.Sessions {
		k := byDevice[out.Keys[i].RID]
		st.hold(k, s)
		sessions = append(sessions, history.Session{SessionKey: k, State: s.Marshal()})
	}
	if len(enc.Keys) == 0 {
		return nil, nil, fmt.Errorf("no device of %s could be encrypted to: not sent", bare)
	}
	return enc, sessions, nil
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
		if c.opts.Store == nil {
			c.Do(omemoEmpty{JID: bare, Device: device}) // nothing is stored
		} else {
			c.omemo.answers = append(c.omemo.answers, omemoEmpty{JID: bare, Device: device})
		}
	case failed:
		st := &c.omemo
		k := history.SessionKey{JID: bare, Device: device, Version: history.OMEMO03}
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
		c.Do(omemoEmpty{JID: bare, Device: device, Repair: true})
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
