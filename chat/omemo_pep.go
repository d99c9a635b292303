package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// OMEMO over PEP (XEP-0163, XEP-0384): each account publishes its device
// list, and each device its bundle, in nodes anyone may read
// (pubsub#access_model open, so that people who are not contacts — in
// rooms — can encrypt to it). gab asks for the device list changes of
// everyone it sees (+notify in its capabilities, XEP-0115) and reads
// bundles when it needs them.

// NSPubSubOwner and NSPubSubErrors are XEP-0060's owner use cases and its
// error conditions.
const (
	NSPubSubOwner  = NSPubSub + "#owner"
	NSPubSubErrors = NSPubSub + "#errors"
)

// OMEMODeviceListChanged is an account's OMEMO device list of Version, as
// its server says: a PEP notification of a change, our own list as
// PublishOMEMO left it, or the answer to FetchOMEMODevices (Fetched). A
// list that was deleted, or never published, is empty. Own: it is our
// own account's. Labels are remote text.
type OMEMODeviceListChanged struct {
	JID     string // bare
	Version OMEMOVersion
	Devices []OMEMODevice
	Own     bool
	Fetched bool
}

// OMEMOBundleFetched answers FetchOMEMOBundle: the bundle device DeviceID
// of JID published.
type OMEMOBundleFetched struct {
	JID      string
	Version  OMEMOVersion
	DeviceID uint32
	Bundle   *OMEMOBundle
}

// OMEMOKeyTransport is an <encrypted/> element without payload (an empty
// OMEMO message, which starts or repairs a session or moves its ratchet):
// nothing to show, only for the decryption stage.
type OMEMOKeyTransport struct {
	Conv      Conv
	From      string
	Bare      string
	Encrypted *OMEMOEncrypted
	Carbon    bool
}

func (OMEMODeviceListChanged) isEvent() {}
func (OMEMOBundleFetched) isEvent()     {}
func (OMEMOKeyTransport) isEvent()      {}

// PublishOMEMO publishes our device DeviceID in Version: its bundle (in
// the device's own node in 0.3, as the device's item in OMEMO 2), and the
// device in the account's device list — merged into the list as the
// server has it, so our other devices stay. Label goes with it in
// OMEMO 2. Both nodes are made readable by anyone; a node set up
// otherwise is reconfigured. The list as it then is comes as an
// OMEMODeviceListChanged (Own).
type PublishOMEMO struct {
	Version  OMEMOVersion
	DeviceID uint32
	Label    string
	Bundle   OMEMOBundle
}

// FetchOMEMODevices reads JID's device list of Version (JID "" is our
// own); the answer is an OMEMODeviceListChanged with Fetched.
type FetchOMEMODevices struct {
	JID     string
	Version OMEMOVersion
}

// FetchOMEMOBundle reads the bundle of JID's device DeviceID; the answer
// is an OMEMOBundleFetched.
type FetchOMEMOBundle struct {
	JID      string
	Version  OMEMOVersion
	DeviceID uint32
}

func (PublishOMEMO) isCommand()      {}
func (FetchOMEMODevices) isCommand() {}
func (FetchOMEMOBundle) isCommand()  {}

// omemoVersionOfNode says which version's device list a PEP node is.
func omemoVersionOfNode(node string) (OMEMOVersion, bool) {
	switch node {
	case NSOMEMO03DeviceList:
		return OMEMO03, true
	case NSOMEMO2Devices:
		return OMEMO2, true
	}
	return 0, false
}

// translateOMEMOEvent reads a PEP notification about a device list; ok
// is false when ev is about another node. Notifications come from the
// publishing account's bare JID (its PEP service): one from a full JID
// was sent by a client, and a client may not speak for an account's
// device list. A malformed or oversized list is dropped, with a notice.
func translateOMEMOEvent(self Self, ev *xmpp.Element, from jid.JID) ([]Event, bool) {
	for _, c := range ev.ChildrenIn(NSPubSubEvent) {
		v, ok := omemoVersionOfNode(c.Get("node"))
		if !ok {
			continue
		}
		bare := from.Bare().String()
		if from.Resourcepart() != "" {
			return []Event{Notice{Text: "dropped an OMEMO device list from " + from.String() + " (device lists come from an account, not from one of its clients)"}}, true
		}
		out := OMEMODeviceListChanged{JID: bare, Version: v, Own: from.Bare().Equal(self.JID.Bare()), Devices: []OMEMODevice{}}
		switch c.Name.Local {
		case "items":
			// The last item is the list now; retractions alone leave none.
			var item *xmpp.Element
			for _, it := range c.ChildrenIn(NSPubSubEvent) {
				if it.Name.Local == "item" {
					item = it
				}
			}
			if item != nil {
				devs, err := parseDeviceListItem(v, item)
				if err != nil {
					return []Event{Notice{Text: fmt.Sprintf("dropped the OMEMO device list of %s: %v", bare, err)}}, true
				}
				out.Devices = devs
			}
		case "purge", "delete":
		default:
			return nil, true
		}
		return []Event{out}, true
	}
	return nil, false
}

// parseDeviceListItem reads the device list in a PEP <item/>.
func parseDeviceListItem(v OMEMOVersion, item *xmpp.Element) ([]OMEMODevice, error) {
	name := "devices"
	if v == OMEMO03 {
		name = "list"
	}
	l := item.Child(v.Namespace(), name)
	if l == nil {
		return nil, errOMEMO("the item holds no %s device list", v)
	}
	return ParseOMEMODeviceList(v, l)
}

// pepItems asks the PEP service of `to` (our own account for "") for the
// items of node (only the item id when id is not ""), and returns the
// <item/>s of the answer: none when the node does not exist. An answer
// about another node is an error.
func (c *Client) pepItems(ctx context.Context, sess *xmpp.Session, to, node, id string) ([]*xmpp.Element, error) {
	items := xmpp.E(NSPubSub, "items", "node", node)
	if id != "" {
		items.Add(xmpp.E(NSPubSub, "item", "id", id))
	}
	iq := xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E(NSPubSub, "pubsub").Add(items))
	if to != "" {
		iq.SetAttr("to", to)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.IQTimeout)
	defer cancel()
	res, err := sess.SendIQ(ctx, iq)
	var se *xmpp.StanzaError
	if errors.As(err, &se) && se.Condition == "item-not-found" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	got := res.Child(NSPubSub, "pubsub").Child(NSPubSub, "items")
	if got == nil {
		return nil, nil
	}
	if got.Get("node") != node {
		return nil, errOMEMO("the server answered about node %q, not %q", clipID(got.Get("node")), node)
	}
	var out []*xmpp.Element
	for _, it := range got.ChildrenIn(NSPubSub) {
		if it.Name.Local == "item" {
			out = append(out, it)
		}
	}
	return out, nil
}

// omemoTarget validates the JID a command names: "" is our own account.
func (c *Client) omemoTarget(s string) (string, error) {
	if s == "" {
		return c.acct.JID.Bare().String(), nil
	}
	return BareJID(s)
}

// fetchOMEMODevices reads bare's device list of v: empty when it has
// none.
func (c *Client) fetchOMEMODevices(ctx context.Context, sess *xmpp.Session, bare string, v OMEMOVersion) ([]OMEMODevice, error) {
	if !v.valid() {
		return nil, errOMEMO("unknown version %d", int(v))
	}
	items, err := c.pepItems(ctx, sess, bare, v.DeviceListNode(), "")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return []OMEMODevice{}, nil
	}
	return parseDeviceListItem(v, items[len(items)-1])
}

// fetchOMEMOBundle reads the bundle of bare's device id in v.
func (c *Client) fetchOMEMOBundle(ctx context.Context, sess *xmpp.Session, bare string, v OMEMOVersion, id uint32) (*OMEMOBundle, error) {
	if !v.valid() {
		return nil, errOMEMO("unknown version %d", int(v))
	}
	if !validDeviceID(id) {
		return nil, errOMEMO("device id %d is out of range", id)
	}
	itemID := ""
	if v == OMEMO2 {
		itemID = formatID(id)
	}
	items, err := c.pepItems(ctx, sess, bare, v.BundleNode(id), itemID)
	if err != nil {
		return nil, err
	}
	var item *xmpp.Element
	for _, it := range items {
		if v == OMEMO03 || it.Get("id") == itemID {
			item = it
		}
	}
	if item == nil {
		return nil, fmt.Errorf("%s has published no %s bundle for device %d", bare, v, id)
	}
	b := item.Child(v.Namespace(), "bundle")
	if b == nil {
		return nil, errOMEMO("the item holds no %s bundle", v)
	}
	return ParseOMEMOBundle(v, b)
}

// omemoNodeOptions are the settings of an OMEMO node: readable by anyone;
// the OMEMO 2 bundles node keeps an item for each device (XEP-0384 asks
// for max_items "max").
func omemoNodeOptions(v OMEMOVersion, bundles bool) [][2]string {
	opts := [][2]string{{"pubsub#access_model", "open"}}
	if v == OMEMO2 && bundles {
		opts = append(opts, [2]string{"pubsub#max_items", "max"})
	}
	return opts
}

// nodeForm is a data form of type submit with FORM_TYPE formType and the
// fields given.
func nodeForm(formType string, fields [][2]string) *xmpp.Element {
	form := xmpp.E(NSForms, "x", "type", "submit").Add(
		xmpp.E(NSForms, "field", "var", "FORM_TYPE", "type", "hidden").Add(xmpp.E(NSForms, "value").WithText(formType)))
	for _, f := range fields {
		form.Add(xmpp.E(NSForms, "field", "var", f[0]).Add(xmpp.E(NSForms, "value").WithText(f[1])))
	}
	return form
}

// pepPublish publishes item to our node with publish-options opts. A
// node that exists with other settings makes the server refuse
// (precondition-not-met, XEP-0060 §7.1.5): the node is then configured
// as opts say and the item published again.
func (c *Client) pepPublish(ctx context.Context, sess *xmpp.Session, node string, item *xmpp.Element, opts [][2]string) error {
	publish := func() (*xmpp.Element, error) {
		return c.iq(ctx, sess, "set", xmpp.E(NSPubSub, "pubsub").Add(
			xmpp.E(NSPubSub, "publish", "node", node).Add(item),
			xmpp.E(NSPubSub, "publish-options").Add(nodeForm(NSPubSub+"#publish-options", opts))))
	}
	res, err := publish()
	if err == nil {
		return nil
	}
	var se *xmpp.StanzaError
	if !preconditionNotMet(res) && errors.As(err, &se) && len(opts) > 1 {
		// A server that does not know an option refuses the publish
		// (ejabberd 23.01 answers pubsub#max_items with
		// resource-constraint): the item goes with the first option
		// alone (access_model, which every server knows), and the node
		// is asked for the others after, as far as it takes them.
		all := opts
		opts = opts[:1]
		if _, err := publish(); err != nil {
			return err
		}
		c.iq(ctx, sess, "set", xmpp.E(NSPubSubOwner, "pubsub").Add(
			xmpp.E(NSPubSubOwner, "configure", "node", node).Add(nodeForm(NSPubSub+"#node_config", all))))
		return nil
	}
	if !preconditionNotMet(res) {
		return err
	}
	if _, err := c.iq(ctx, sess, "set", xmpp.E(NSPubSubOwner, "pubsub").Add(
		xmpp.E(NSPubSubOwner, "configure", "node", node).Add(nodeForm(NSPubSub+"#node_config", opts)))); err != nil {
		return fmt.Errorf("could not set node %s up to be read by anyone: %w", node, err)
	}
	_, err = publish()
	return err
}

// preconditionNotMet reports whether an error answer is XEP-0060's
// precondition-not-met.
func preconditionNotMet(res *xmpp.Element) bool {
	return res.Child(xmpp.NSClient, "error").Child(NSPubSubErrors, "precondition-not-met") != nil
}

// publishOMEMO carries out PublishOMEMO: the bundle first (a device in
// the list must have one to be encrypted to), then the list.
func (c *Client) publishOMEMO(ctx context.Context, sess *xmpp.Session, cmd PublishOMEMO) error {
	v := cmd.Version
	if !v.valid() {
		return errOMEMO("unknown version %d", int(v))
	}
	if !validDeviceID(cmd.DeviceID) {
		return errOMEMO("device id %d is out of range", cmd.DeviceID)
	}
	if len(cmd.Label) > MaxOMEMOLabel {
		return errOMEMO("the device label is longer than %d bytes", MaxOMEMOLabel)
	}
	bundle, err := OMEMOBundleElement(v, &cmd.Bundle)
	if err != nil {
		return err
	}
	itemID := "current"
	if v == OMEMO2 {
		itemID = formatID(cmd.DeviceID)
	}
	if err := c.pepPublish(ctx, sess, v.BundleNode(cmd.DeviceID), xmpp.E(NSPubSub, "item", "id", itemID).Add(bundle), omemoNodeOptions(v, true)); err != nil {
		return fmt.Errorf("the server did not keep the %s bundle: %w", v, err)
	}
	own := c.acct.JID.Bare().String()
	devs, err := c.fetchOMEMODevices(ctx, sess, own, v)
	if err != nil {
		// Never publish over a list that could not be read: it would
		// drop our other devices.
		return fmt.Errorf("could not read your %s device list to add this device: %w", v, err)
	}
	merged, changed := mergeOMEMODevice(devs, OMEMODevice{ID: cmd.DeviceID, Label: cmd.Label}, v)
	if changed {
		l, err := OMEMODeviceListElement(v, merged)
		if err != nil {
			return fmt.Errorf("your %s device list cannot take this device: %w", v, err)
		}
		if err := c.pepPublish(ctx, sess, v.DeviceListNode(), xmpp.E(NSPubSub, "item", "id", "current").Add(l), omemoNodeOptions(v, false)); err != nil {
			return fmt.Errorf("the server did not keep the %s device list: %w", v, err)
		}
	}
	c.emit(ctx, OMEMODeviceListChanged{JID: own, Version: v, Devices: merged, Own: true})
	return nil
}

// mergeOMEMODevice puts d into the list devs (replacing its label in
// OMEMO 2), keeping every other device; changed says whether the list
// differs from devs.
func mergeOMEMODevice(devs []OMEMODevice, d OMEMODevice, v OMEMOVersion) ([]OMEMODevice, bool) {
	if v == OMEMO03 {
		d.Label = ""
	}
	out := slices.Clone(devs)
	for i, o := range out {
		if o.ID == d.ID {
			if o.Label == d.Label {
				return out, false
			}
			out[i] = d
			return out, true
		}
	}
	return append(out, d), true
}

// runOMEMO carries out the OMEMO commands on Run's goroutine.
func (c *Client) runOMEMO(ctx context.Context, sess *xmpp.Session, cmd Command) error {
	switch cmd := cmd.(type) {
	case PublishOMEMO:
		return c.publishOMEMO(ctx, sess, cmd)
	case FetchOMEMODevices:
		bare, err := c.omemoTarget(cmd.JID)
		if err != nil {
			return err
		}
		devs, err := c.fetchOMEMODevices(ctx, sess, bare, cmd.Version)
		if err != nil {
			return fmt.Errorf("could not read the %s device list of %s: %w", cmd.Version, bare, err)
		}
		c.emit(ctx, OMEMODeviceListChanged{JID: bare, Version: cmd.Version, Devices: devs, Own: bare == c.acct.JID.Bare().String(), Fetched: true})
		return nil
	case FetchOMEMOBundle:
		bare, err := c.omemoTarget(cmd.JID)
		if err != nil {
			return err
		}
		b, err := c.fetchOMEMOBundle(ctx, sess, bare, cmd.Version, cmd.DeviceID)
		if err != nil {
			return fmt.Errorf("could not read the %s bundle of device %d of %s: %w", cmd.Version, cmd.DeviceID, bare, err)
		}
		c.emit(ctx, OMEMOBundleFetched{JID: bare, Version: cmd.Version, DeviceID: cmd.DeviceID, Bundle: b})
		return nil
	}
	return errors.New("unknown command")
}
