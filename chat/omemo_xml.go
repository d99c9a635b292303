package chat

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// OMEMO's XML (XEP-0384): device lists, bundles and <encrypted/> message
// elements, in both versions gab speaks — 0.3 (eu.siacs.conversations.axolotl,
// what Conversations, Dino, Gajim and Profanity interoperate on) and
// OMEMO 2 (urn:xmpp:omemo:2). The codecs here are strict: what does not
// follow the schema, carries ids out of range, repeats an id, is not
// base64 or exceeds the caps below is refused with an error, never half
// read. They deal in bytes and ids only; the cryptography is the omemo
// package's.

// Namespaces and PEP nodes of OMEMO.
const (
	NSOMEMO03           = "eu.siacs.conversations.axolotl"
	NSOMEMO03DeviceList = NSOMEMO03 + ".devicelist" // PEP node of the 0.3 device list
	NSOMEMO03Bundles    = NSOMEMO03 + ".bundles"    // prefix of the 0.3 bundle nodes: NSOMEMO03Bundles + ":" + device id
	NSOMEMO2            = "urn:xmpp:omemo:2"
	NSOMEMO2Devices     = NSOMEMO2 + ":devices" // PEP node of the OMEMO 2 device list
	NSOMEMO2Bundles     = NSOMEMO2 + ":bundles" // PEP node of the OMEMO 2 bundles, one item per device
	NSEME               = "urn:xmpp:eme:0"      // XEP-0380 explicit message encryption
)

// OMEMOVersion is one of the two versions of OMEMO.
type OMEMOVersion int

const (
	OMEMO03 OMEMOVersion = 1 // eu.siacs.conversations.axolotl
	OMEMO2  OMEMOVersion = 2 // urn:xmpp:omemo:2
)

func (v OMEMOVersion) String() string {
	switch v {
	case OMEMO03:
		return "OMEMO 0.3"
	case OMEMO2:
		return "OMEMO 2"
	}
	return "OMEMO version " + strconv.Itoa(int(v))
}

// Namespace is the version's XML namespace ("" for an unknown version).
func (v OMEMOVersion) Namespace() string {
	switch v {
	case OMEMO03:
		return NSOMEMO03
	case OMEMO2:
		return NSOMEMO2
	}
	return ""
}

// DeviceListNode is the PEP node of the version's device list.
func (v OMEMOVersion) DeviceListNode() string {
	if v == OMEMO03 {
		return NSOMEMO03DeviceList
	}
	return NSOMEMO2Devices
}

// BundleNode is the PEP node holding device id's bundle: a node per
// device in 0.3, one node (items by device id) in OMEMO 2.
func (v OMEMOVersion) BundleNode(id uint32) string {
	if v == OMEMO03 {
		return NSOMEMO03Bundles + ":" + strconv.FormatUint(uint64(id), 10)
	}
	return NSOMEMO2Bundles
}

func (v OMEMOVersion) valid() bool { return v == OMEMO03 || v == OMEMO2 }

// Caps on what OMEMO elements may hold. Past them an element is refused:
// no honest client comes near them, and a hostile one must not make gab
// hold or work through more.
const (
	// MaxOMEMODeviceID is the largest device id (XEP-0384: 1 … 2^31−1).
	MaxOMEMODeviceID = 1<<31 - 1
	// MaxOMEMODevices bounds a device list (one account's devices).
	MaxOMEMODevices = 256
	// MaxOMEMOPreKeys bounds the one-time pre-keys of a bundle (gab and
	// the others publish 100).
	MaxOMEMOPreKeys = 256
	// MaxOMEMOKeys bounds the <key/> elements of one message: one per
	// recipient device, ours included.
	MaxOMEMOKeys = 1024
	// MaxOMEMOKeySize bounds one <key/>'s bytes (a pre-key message is
	// about 200).
	MaxOMEMOKeySize = 2048
	// MaxOMEMOPayload bounds the encrypted payload, in bytes.
	MaxOMEMOPayload = 192 << 10
	// MaxOMEMOLabel bounds an OMEMO 2 device label, in bytes.
	MaxOMEMOLabel = 128
	// MaxOMEMORecipients bounds the <keys/> elements (one per JID) of an
	// OMEMO 2 message.
	MaxOMEMORecipients = 256
)

// Sizes of keys and signatures as published: 0.3 puts a type byte (0x05)
// in front of each 32-byte X25519 key; OMEMO 2 publishes raw 32 bytes (the
// identity key in its Ed25519 form).
const (
	omemoKeySize03 = 33
	omemoKeySize2  = 32
	omemoSigSize   = 64
)

// OMEMODevice is a device in a device list; Label is OMEMO 2's optional
// label (remote text), always "" in 0.3.
type OMEMODevice struct {
	ID    uint32
	Label string
}

// OMEMOPreKey is a one-time pre-key of a bundle.
type OMEMOPreKey struct {
	ID  uint32
	Key []byte
}

// OMEMOBundle is a device's published keys: its identity key, its signed
// pre-key with id and signature, and its one-time pre-keys, as bytes on
// the wire (33 bytes per key in 0.3, 32 in OMEMO 2; 64-byte signature).
type OMEMOBundle struct {
	IdentityKey     []byte
	SignedPreKeyID  uint32
	SignedPreKey    []byte
	SignedPreKeySig []byte
	PreKeys         []OMEMOPreKey
}

// OMEMOKey is one recipient device's encrypted key material in an
// <encrypted/> header. PreKey is 0.3's prekey='true' or OMEMO 2's
// kex='true': Data is a pre-key (key exchange) message. JID is the
// recipient's bare JID in OMEMO 2 (its <keys/> element); "" in 0.3.
type OMEMOKey struct {
	RID    uint32
	JID    string
	PreKey bool
	Data   []byte
}

// OMEMOEncrypted is an <encrypted/> element: the sending device SID, the
// key material for each recipient device, the IV (0.3 only) and the
// payload — nil when absent: a key transport (empty OMEMO) message.
// Also, on an OMEMO 2 element, is the OMEMO 0.3 element the same message
// carries for devices that speak only 0.3 (nil when none).
type OMEMOEncrypted struct {
	Version OMEMOVersion
	SID     uint32
	Keys    []OMEMOKey
	IV      []byte
	Payload []byte
	Also    *OMEMOEncrypted
}

// KeyFor returns the key element for our device rid (and, in OMEMO 2,
// our bare JID), or nil when the message was not encrypted for it.
func (e *OMEMOEncrypted) KeyFor(jid string, rid uint32) *OMEMOKey {
	for i := range e.Keys {
		k := &e.Keys[i]
		if k.RID == rid && (e.Version == OMEMO03 || k.JID == jid) {
			return k
		}
	}
	return nil
}

// errOMEMO makes the errors of the codecs, all starting alike.
func errOMEMO(format string, a ...any) error {
	return fmt.Errorf("omemo: "+format, a...)
}

// parseDeviceID reads a device id: decimal digits only, no sign or
// leading zero, within 1 … 2^31−1.
func parseDeviceID(s string) (uint32, error) {
	if s == "" || len(s) > 10 || s[0] == '0' {
		return 0, errOMEMO("%q is not a device id", clipID(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errOMEMO("%q is not a device id", clipID(s))
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < 1 || n > MaxOMEMODeviceID {
		return 0, errOMEMO("device id %s is out of range (1 to 2^31-1)", clipID(s))
	}
	return uint32(n), nil
}

// validDeviceID reports whether id may be used as a device or key id.
func validDeviceID(id uint32) bool { return id >= 1 && id <= MaxOMEMODeviceID }

// formatID writes an id as the attribute value.
func formatID(id uint32) string { return strconv.FormatUint(uint64(id), 10) }

// clip shortens remote text quoted in an error.
func clipID(s string) string {
	if len(s) > 24 {
		return strings.ToValidUTF8(s[:24], "") + "…"
	}
	return s
}

// parseB64 reads base64 (xs:base64Binary: standard alphabet, padded; XML
// white space between the characters is allowed), refusing more than max
// bytes and, when exact > 0, any other length.
func parseB64(what, s string, exact, max int) ([]byte, error) {
	if len(s) > (max+2)/3*4*2+64 {
		// Longer than max could be even with a space after every
		// character: refused before it is copied.
		return nil, errOMEMO("%s is too long", what)
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.Strict().DecodeString(clean)
	if err != nil {
		return nil, errOMEMO("%s is not base64", what)
	}
	switch {
	case exact > 0 && len(b) != exact:
		return nil, errOMEMO("%s has %d bytes, not %d", what, len(b), exact)
	case len(b) > max:
		return nil, errOMEMO("%s has %d bytes, more than %d", what, len(b), max)
	}
	return b, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// parseBool reads an xs:boolean attribute; "" is false.
func parseBool(what, s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errOMEMO("%s is %q, not a boolean", what, clipID(s))
}

// ownChildren returns el's children in space, refusing any whose name is
// not among names (children in other namespaces are extensions: skipped).
func ownChildren(el *xmpp.Element, space string, names ...string) ([]*xmpp.Element, error) {
	cs := el.ChildrenIn(space)
	for _, c := range cs {
		ok := false
		for _, n := range names {
			ok = ok || c.Name.Local == n
		}
		if !ok {
			return nil, errOMEMO("unexpected <%s/> in <%s/>", clipID(c.Name.Local), el.Name.Local)
		}
	}
	return cs, nil
}

// only returns the one child of el called name in space: none or two are
// errors.
func only(el *xmpp.Element, space, name string) (*xmpp.Element, error) {
	var one *xmpp.Element
	for _, c := range el.Children {
		if c.Is(space, name) {
			if one != nil {
				return nil, errOMEMO("<%s/> holds two <%s/>", el.Name.Local, name)
			}
			one = c
		}
	}
	if one == nil {
		return nil, errOMEMO("<%s/> has no <%s/>", el.Name.Local, name)
	}
	return one, nil
}

// ParseOMEMODeviceList reads a device list: 0.3's <list/> or OMEMO 2's
// <devices/>, in the version's namespace.
func ParseOMEMODeviceList(v OMEMOVersion, el *xmpp.Element) ([]OMEMODevice, error) {
	name := "devices"
	if v == OMEMO03 {
		name = "list"
	}
	if !v.valid() || !el.Is(v.Namespace(), name) {
		return nil, errOMEMO("not a %s device list", v)
	}
	cs, err := ownChildren(el, v.Namespace(), "device")
	if err != nil {
		return nil, err
	}
	if len(cs) > MaxOMEMODevices {
		return nil, errOMEMO("a device list of %d devices (at most %d)", len(cs), MaxOMEMODevices)
	}
	out := make([]OMEMODevice, 0, len(cs))
	seen := make(map[uint32]bool, len(cs))
	for _, c := range cs {
		id, err := parseDeviceID(c.Get("id"))
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, errOMEMO("device %d listed twice", id)
		}
		seen[id] = true
		d := OMEMODevice{ID: id}
		if v == OMEMO2 {
			if d.Label = c.Get("label"); len(d.Label) > MaxOMEMOLabel {
				return nil, errOMEMO("the label of device %d is too long", id)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// OMEMODeviceListElement is a device list as published. Labels go out in
// OMEMO 2 only.
func OMEMODeviceListElement(v OMEMOVersion, devices []OMEMODevice) (*xmpp.Element, error) {
	if !v.valid() {
		return nil, errOMEMO("unknown version %d", int(v))
	}
	if len(devices) > MaxOMEMODevices {
		return nil, errOMEMO("a device list of %d devices (at most %d)", len(devices), MaxOMEMODevices)
	}
	el := xmpp.E(NSOMEMO2, "devices")
	if v == OMEMO03 {
		el = xmpp.E(NSOMEMO03, "list")
	}
	seen := map[uint32]bool{}
	for _, d := range devices {
		if !validDeviceID(d.ID) || seen[d.ID] {
			return nil, errOMEMO("device id %d is out of range or listed twice", d.ID)
		}
		seen[d.ID] = true
		c := xmpp.E(v.Namespace(), "device", "id", formatID(d.ID))
		if v == OMEMO2 && d.Label != "" {
			if len(d.Label) > MaxOMEMOLabel {
				return nil, errOMEMO("the label of device %d is too long", d.ID)
			}
			c.SetAttr("label", d.Label)
		}
		el.Add(c)
	}
	return el, nil
}

// bundleNames are the element and attribute names of a bundle in each
// version.
type bundleNames struct {
	spk, spkID, spks, ik, pk, pkID string
	keySize                        int
}

func namesOf(v OMEMOVersion) bundleNames {
	if v == OMEMO03 {
		return bundleNames{"signedPreKeyPublic", "signedPreKeyId", "signedPreKeySignature", "identityKey", "preKeyPublic", "preKeyId", omemoKeySize03}
	}
	return bundleNames{"spk", "id", "spks", "ik", "pk", "id", omemoKeySize2}
}

// ParseOMEMOBundle reads a <bundle/> of the version.
func ParseOMEMOBundle(v OMEMOVersion, el *xmpp.Element) (*OMEMOBundle, error) {
	if !v.valid() || !el.Is(v.Namespace(), "bundle") {
		return nil, errOMEMO("not a %s bundle", v)
	}
	ns, n := v.Namespace(), namesOf(v)
	if _, err := ownChildren(el, ns, n.spk, n.spks, n.ik, "prekeys"); err != nil {
		return nil, err
	}
	var b OMEMOBundle
	spk, err := only(el, ns, n.spk)
	if err != nil {
		return nil, err
	}
	if b.SignedPreKeyID, err = parseDeviceID(spk.Get(n.spkID)); err != nil {
		return nil, errOMEMO("signed pre-key id: %w", err)
	}
	if b.SignedPreKey, err = parseB64("the signed pre-key", spk.Text, n.keySize, n.keySize); err != nil {
		return nil, err
	}
	sig, err := only(el, ns, n.spks)
	if err != nil {
		return nil, err
	}
	if b.SignedPreKeySig, err = parseB64("the signature", sig.Text, omemoSigSize, omemoSigSize); err != nil {
		return nil, err
	}
	ik, err := only(el, ns, n.ik)
	if err != nil {
		return nil, err
	}
	if b.IdentityKey, err = parseB64("the identity key", ik.Text, n.keySize, n.keySize); err != nil {
		return nil, err
	}
	pks, err := only(el, ns, "prekeys")
	if err != nil {
		return nil, err
	}
	cs, err := ownChildren(pks, ns, n.pk)
	if err != nil {
		return nil, err
	}
	switch {
	case len(cs) == 0:
		return nil, errOMEMO("a bundle without pre-keys")
	case len(cs) > MaxOMEMOPreKeys:
		return nil, errOMEMO("a bundle of %d pre-keys (at most %d)", len(cs), MaxOMEMOPreKeys)
	}
	seen := make(map[uint32]bool, len(cs))
	for _, c := range cs {
		id, err := parseDeviceID(c.Get(n.pkID))
		if err != nil {
			return nil, errOMEMO("pre-key id: %w", err)
		}
		if seen[id] {
			return nil, errOMEMO("pre-key %d twice in the bundle", id)
		}
		seen[id] = true
		key, err := parseB64("a pre-key", c.Text, n.keySize, n.keySize)
		if err != nil {
			return nil, err
		}
		b.PreKeys = append(b.PreKeys, OMEMOPreKey{ID: id, Key: key})
	}
	return &b, nil
}

// OMEMOBundleElement is a bundle as published; it refuses what
// ParseOMEMOBundle would.
func OMEMOBundleElement(v OMEMOVersion, b *OMEMOBundle) (*xmpp.Element, error) {
	if !v.valid() {
		return nil, errOMEMO("unknown version %d", int(v))
	}
	ns, n := v.Namespace(), namesOf(v)
	switch {
	case !validDeviceID(b.SignedPreKeyID):
		return nil, errOMEMO("signed pre-key id %d is out of range", b.SignedPreKeyID)
	case len(b.SignedPreKey) != n.keySize || len(b.IdentityKey) != n.keySize:
		return nil, errOMEMO("%s keys have %d bytes", v, n.keySize)
	case len(b.SignedPreKeySig) != omemoSigSize:
		return nil, errOMEMO("the signature has %d bytes, not %d", len(b.SignedPreKeySig), omemoSigSize)
	case len(b.PreKeys) == 0 || len(b.PreKeys) > MaxOMEMOPreKeys:
		return nil, errOMEMO("a bundle needs 1 to %d pre-keys, not %d", MaxOMEMOPreKeys, len(b.PreKeys))
	}
	pks := xmpp.E(ns, "prekeys")
	seen := map[uint32]bool{}
	for _, pk := range b.PreKeys {
		if !validDeviceID(pk.ID) || seen[pk.ID] || len(pk.Key) != n.keySize {
			return nil, errOMEMO("pre-key %d: id out of range or twice, or not %d bytes", pk.ID, n.keySize)
		}
		seen[pk.ID] = true
		pks.Add(xmpp.E(ns, n.pk, n.pkID, formatID(pk.ID)).WithText(b64(pk.Key)))
	}
	return xmpp.E(ns, "bundle").Add(
		xmpp.E(ns, n.spk, n.spkID, formatID(b.SignedPreKeyID)).WithText(b64(b.SignedPreKey)),
		xmpp.E(ns, n.spks).WithText(b64(b.SignedPreKeySig)),
		xmpp.E(ns, n.ik).WithText(b64(b.IdentityKey)),
		pks,
	), nil
}

// ParseOMEMOEncrypted reads an <encrypted/> element of either version
// (told by its namespace).
func ParseOMEMOEncrypted(el *xmpp.Element) (*OMEMOEncrypted, error) {
	var v OMEMOVersion
	switch {
	case el.Is(NSOMEMO03, "encrypted"):
		v = OMEMO03
	case el.Is(NSOMEMO2, "encrypted"):
		v = OMEMO2
	default:
		return nil, errOMEMO("not an <encrypted/> element")
	}
	ns := v.Namespace()
	if _, err := ownChildren(el, ns, "header", "payload"); err != nil {
		return nil, err
	}
	h, err := only(el, ns, "header")
	if err != nil {
		return nil, err
	}
	e := &OMEMOEncrypted{Version: v}
	if e.SID, err = parseDeviceID(h.Get("sid")); err != nil {
		return nil, errOMEMO("sender device: %w", err)
	}
	keys := 0
	readKey := func(k *xmpp.Element, jid string, seen map[uint32]bool, flag string) error {
		if keys++; keys > MaxOMEMOKeys {
			return errOMEMO("more than %d keys in one message", MaxOMEMOKeys)
		}
		rid, err := parseDeviceID(k.Get("rid"))
		if err != nil {
			return errOMEMO("recipient device: %w", err)
		}
		if seen[rid] {
			return errOMEMO("two keys for device %d", rid)
		}
		seen[rid] = true
		pre, err := parseBool(flag, k.Get(flag))
		if err != nil {
			return err
		}
		data, err := parseB64("a key", k.Text, 0, MaxOMEMOKeySize)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return errOMEMO("an empty key for device %d", rid)
		}
		e.Keys = append(e.Keys, OMEMOKey{RID: rid, JID: jid, PreKey: pre, Data: data})
		return nil
	}
	if v == OMEMO03 {
		cs, err := ownChildren(h, ns, "key", "iv")
		if err != nil {
			return nil, err
		}
		seen := map[uint32]bool{}
		for _, c := range cs {
			if c.Name.Local == "key" {
				if err := readKey(c, "", seen, "prekey"); err != nil {
					return nil, err
				}
			}
		}
		iv, err := only(h, ns, "iv")
		if err != nil {
			return nil, err
		}
		// 12 bytes as XEP-0384 0.3 says; 16 as older Conversations sent.
		if e.IV, err = parseB64("the IV", iv.Text, 0, 16); err != nil {
			return nil, err
		}
		if len(e.IV) != 12 && len(e.IV) != 16 {
			return nil, errOMEMO("an IV of %d bytes", len(e.IV))
		}
	} else {
		cs, err := ownChildren(h, ns, "keys")
		if err != nil {
			return nil, err
		}
		if len(cs) > MaxOMEMORecipients {
			return nil, errOMEMO("keys for %d accounts (at most %d)", len(cs), MaxOMEMORecipients)
		}
		jids := map[string]bool{}
		for _, c := range cs {
			jid, err := BareJID(c.Get("jid"))
			if err != nil || jid != c.Get("jid") {
				return nil, errOMEMO("<keys/> for %q, which is no bare JID", clipID(c.Get("jid")))
			}
			if jids[jid] {
				return nil, errOMEMO("two <keys/> for %s", jid)
			}
			jids[jid] = true
			ks, err := ownChildren(c, ns, "key")
			if err != nil {
				return nil, err
			}
			if len(ks) == 0 {
				return nil, errOMEMO("<keys/> for %s without a key", jid)
			}
			seen := map[uint32]bool{}
			for _, k := range ks {
				if err := readKey(k, jid, seen, "kex"); err != nil {
					return nil, err
				}
			}
		}
	}
	ps := 0
	for _, c := range el.Children {
		if c.Is(ns, "payload") {
			ps++
		}
	}
	switch ps {
	case 0:
	case 1:
		p, _ := only(el, ns, "payload")
		if e.Payload, err = parseB64("the payload", p.Text, 0, MaxOMEMOPayload); err != nil {
			return nil, err
		}
		if len(e.Payload) == 0 {
			return nil, errOMEMO("an empty payload")
		}
	default:
		return nil, errOMEMO("two payloads")
	}
	return e, nil
}

// Element is the <encrypted/> element as sent; it refuses what
// ParseOMEMOEncrypted would.
func (e *OMEMOEncrypted) Element() (*xmpp.Element, error) {
	if !e.Version.valid() {
		return nil, errOMEMO("unknown version %d", int(e.Version))
	}
	if !validDeviceID(e.SID) {
		return nil, errOMEMO("sender device id %d is out of range", e.SID)
	}
	if len(e.Keys) > MaxOMEMOKeys {
		return nil, errOMEMO("more than %d keys in one message", MaxOMEMOKeys)
	}
	if e.Payload != nil && (len(e.Payload) == 0 || len(e.Payload) > MaxOMEMOPayload) {
		return nil, errOMEMO("a payload of %d bytes", len(e.Payload))
	}
	ns := e.Version.Namespace()
	h := xmpp.E(ns, "header", "sid", formatID(e.SID))
	key := func(k OMEMOKey, flag string) (*xmpp.Element, error) {
		if !validDeviceID(k.RID) || len(k.Data) == 0 || len(k.Data) > MaxOMEMOKeySize {
			return nil, errOMEMO("the key for device %d: id out of range or %d bytes", k.RID, len(k.Data))
		}
		el := xmpp.E(ns, "key", "rid", formatID(k.RID)).WithText(b64(k.Data))
		if k.PreKey {
			el.SetAttr(flag, "true")
		}
		return el, nil
	}
	if e.Version == OMEMO03 {
		seen := map[uint32]bool{}
		for _, k := range e.Keys {
			if seen[k.RID] {
				return nil, errOMEMO("two keys for device %d", k.RID)
			}
			seen[k.RID] = true
			el, err := key(k, "prekey")
			if err != nil {
				return nil, err
			}
			h.Add(el)
		}
		if len(e.IV) != 12 && len(e.IV) != 16 {
			return nil, errOMEMO("an IV of %d bytes", len(e.IV))
		}
		h.Add(xmpp.E(ns, "iv").WithText(b64(e.IV)))
	} else {
		// One <keys/> per JID, in the order the JIDs first come.
		var order []string
		byJID := map[string]*xmpp.Element{}
		seen := map[string]map[uint32]bool{}
		for _, k := range e.Keys {
			jid, err := BareJID(k.JID)
			if err != nil || jid != k.JID {
				return nil, errOMEMO("the key for device %d names %q, which is no bare JID", k.RID, clipID(k.JID))
			}
			if byJID[jid] == nil {
				if len(order) == MaxOMEMORecipients {
					return nil, errOMEMO("keys for more than %d accounts", MaxOMEMORecipients)
				}
				order = append(order, jid)
				byJID[jid] = xmpp.E(ns, "keys", "jid", jid)
				seen[jid] = map[uint32]bool{}
			}
			if seen[jid][k.RID] {
				return nil, errOMEMO("two keys for device %d of %s", k.RID, jid)
			}
			seen[jid][k.RID] = true
			el, err := key(k, "kex")
			if err != nil {
				return nil, err
			}
			byJID[jid].Add(el)
		}
		for _, jid := range order {
			h.Add(byJID[jid])
		}
	}
	out := xmpp.E(ns, "encrypted").Add(h)
	if e.Payload != nil {
		out.Add(xmpp.E(ns, "payload").WithText(b64(e.Payload)))
	}
	return out, nil
}

// errNoOMEMO: the stanza has no <encrypted/> element.
var errNoOMEMO = errors.New("omemo: no encrypted element")

// omemoIn returns a message's <encrypted/> element parsed; errNoOMEMO
// when it has none. Of a message carrying both versions' elements it is
// OMEMO 2's, with 0.3's as its Also when that reads too (the decryption
// stage takes the one with a key for our device).
func omemoIn(msg *xmpp.Element) (*OMEMOEncrypted, error) {
	el2, el03 := msg.Child(NSOMEMO2, "encrypted"), msg.Child(NSOMEMO03, "encrypted")
	switch {
	case el2 == nil && el03 == nil:
		return nil, errNoOMEMO
	case el2 == nil:
		return ParseOMEMOEncrypted(el03)
	}
	e, err := ParseOMEMOEncrypted(el2)
	if err != nil || el03 == nil {
		return e, err
	}
	if also, err := ParseOMEMOEncrypted(el03); err == nil && (also.Payload == nil) == (e.Payload == nil) {
		e.Also = also
	}
	return e, nil
}

// encryptedIn is the OMEMO stage of translating a message in conv from
// `from`: enc is its <encrypted/> element when it carries a payload (a
// message to show as encrypted); side is what else it means — a notice
// for a malformed element, or an OMEMOKeyTransport — and plain says it
// has no <encrypted/> at all. Whenever plain is false, the message's body
// is a fallback, never the message.
func encryptedIn(el *xmpp.Element, conv Conv, from jid.JID) (enc *OMEMOEncrypted, side Event, plain bool) {
	e, err := omemoIn(el)
	switch {
	case err == errNoOMEMO:
		return nil, nil, true
	case err != nil:
		return nil, Notice{Text: "dropped an encrypted message from " + from.String() + ": " + err.Error()}, false
	case e.Payload == nil:
		return nil, OMEMOKeyTransport{Conv: conv, From: from.String(), Bare: from.Bare().String(), Encrypted: e}, false
	}
	return e, nil, false
}

// OMEMOFallbackBody is the body an encrypted message carries for clients
// without OMEMO, in the words Conversations uses.
const OMEMOFallbackBody = "I sent you an OMEMO encrypted message but your client doesn’t seem to support that. Find more information on https://conversations.im/omemo"

// OMEMOMessage is a chat message to `to` carrying enc: the <encrypted/>
// element (and its Also's, OMEMO 0.3's beside OMEMO 2's), the XEP-0380 note of which encryption it is, a hint that it is
// to be archived (XEP-0334: servers keep no body-less messages otherwise,
// and key transport messages have none), an origin-id, and the fallback
// body — the form Conversations sends.
func OMEMOMessage(to, id string, enc *OMEMOEncrypted) (*xmpp.Element, error) {
	e, err := enc.Element()
	if err != nil {
		return nil, err
	}
	m := xmpp.E(xmpp.NSClient, "message", "type", "chat", "to", to, "id", id).Add(e)
	if enc.Also != nil {
		if enc.Version != OMEMO2 || enc.Also.Version != OMEMO03 {
			return nil, errOMEMO("a message carries OMEMO 0.3 beside OMEMO 2, nothing else")
		}
		also, err := enc.Also.Element()
		if err != nil {
			return nil, err
		}
		m.Add(also)
	}
	m.Add(
		xmpp.E(NSEME, "encryption", "namespace", enc.Version.Namespace(), "name", "OMEMO"),
		xmpp.E(NSHints, "store"),
		xmpp.E(NSSID, "origin-id", "id", id),
	)
	if enc.Payload != nil {
		m.Add(xmpp.E(xmpp.NSClient, "body").WithText(OMEMOFallbackBody))
	}
	return m, nil
}

// OMEMOUnreadNote is the Note of a received encrypted message gab cannot
// decrypt (yet): what the conversation shows instead of its text.
const OMEMOUnreadNote = "an encrypted message (OMEMO) that gab cannot read yet"
