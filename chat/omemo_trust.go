package chat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
)

// What the user asks about OMEMO and decides: our fingerprint, a
// contact's devices with theirs and their trust, and trusting or
// distrusting one of them by its fingerprint.

// ShowOMEMO asks for an OMEMOReport on JID's devices ("" for our own
// account's).
type ShowOMEMO struct{ JID string }

// SetOMEMOTrust decides the trust of JID's identity key with
// Fingerprint (as users read it, spaces allowed): history.TrustVerified
// (compared with the contact) or history.TrustDistrusted (never encrypt
// to it; its messages are marked).
type SetOMEMOTrust struct {
	JID         string
	Fingerprint string
	Trust       history.Trust
}

func (ShowOMEMO) isCommand()     {}
func (SetOMEMOTrust) isCommand() {}

// OMEMOTrustSet answers SetOMEMOTrust: JID's devices with that
// identity key (Fingerprint, as users read it) now have Trust.
type OMEMOTrustSet struct {
	JID         string
	Fingerprint string
	Trust       history.Trust
	Devices     []uint32
}

func (OMEMOTrustSet) isEvent() {}

// OMEMODeviceInfo is one device of a report. Fingerprint is "" while no
// session has told gab its identity key.
type OMEMODeviceInfo struct {
	ID uint32
	// Version is the one gab encrypts to it in: OMEMO 2 when it lists
	// itself there (it may be in 0.3's list too), 0.3 otherwise.
	Version     OMEMOVersion
	Active      bool
	Fingerprint string
	Trust       history.Trust
	Label       string // remote text
}

// OMEMOReport answers ShowOMEMO: our device's id and fingerprint, and
// JID's devices as the store knows them.
type OMEMOReport struct {
	JID            string
	Own            bool // JID is our own account
	OwnID          uint32
	OwnFingerprint string
	Devices        []OMEMODeviceInfo
}

func (OMEMOReport) isEvent() {}

// errOMEMOOff: the account does not use OMEMO.
var errOMEMOOff = errors.New("OMEMO is off for this account (omemo = true in its file turns it on)")

// runOMEMOTrust carries out ShowOMEMO and SetOMEMOTrust from the store.
func (c *Client) runOMEMOTrust(ctx context.Context, cmd Command) error {
	if !c.opts.OMEMO {
		return errOMEMOOff
	}
	s := c.opts.Store
	if s == nil {
		return errors.New("no history store: OMEMO keeps nothing")
	}
	switch cmd := cmd.(type) {
	case ShowOMEMO:
		bare, err := c.omemoTarget(cmd.JID)
		if err != nil {
			return err
		}
		c.omemo.mu.Lock()
		dev, err := c.omemoDevice(ctx)
		c.omemo.mu.Unlock()
		if err != nil {
			return err
		}
		r, err := c.omemoReportOf(ctx, bare, dev)
		if err != nil {
			return err
		}
		c.emit(ctx, r)
		return nil
	case SetOMEMOTrust:
		bare, err := BareJID(cmd.JID)
		if err != nil {
			return err
		}
		key, err := omemo.ParseFingerprint(cmd.Fingerprint)
		if err != nil {
			return fmt.Errorf("that is not a fingerprint: one is 64 hexadecimal digits (spaces allowed), as /omemo devices %s shows them", bare)
		}
		if cmd.Trust != history.TrustVerified && cmd.Trust != history.TrustDistrusted && cmd.Trust != history.TrustTrusted {
			return fmt.Errorf("%q is not a trust gab sets", cmd.Trust)
		}
		var ids []uint32
		for _, v := range []history.Version{history.OMEMO03, history.OMEMO2} {
			devs, err := s.Devices(ctx, bare, v)
			if err != nil {
				return err
			}
			for _, d := range devs {
				if string(d.Identity) == string(key[:]) && !slices.Contains(ids, d.ID) {
					ids = append(ids, d.ID)
				}
			}
		}
		if len(ids) == 0 {
			return fmt.Errorf("no device of %s has that fingerprint (/omemo devices %s lists them)", bare, bare)
		}
		if err := s.SetTrust(ctx, bare, key[:], cmd.Trust, time.Now()); err != nil {
			return err
		}
		c.omemo.mu.Lock()
		for k := range c.omemo.trust {
			if k.jid == bare {
				delete(c.omemo.trust, k) // decided again: read from the store
			}
		}
		c.omemo.mu.Unlock()
		slices.Sort(ids)
		c.emit(ctx, OMEMOTrustSet{JID: bare, Fingerprint: omemo.FormatFingerprint(&key), Trust: cmd.Trust, Devices: ids})
		return nil
	}
	return nil
}

// omemoReportOf is bare's devices as the store knows them, for
// /omemo devices (dev is ours).
func (c *Client) omemoReportOf(ctx context.Context, bare string, dev *omemo.Device) (OMEMOReport, error) {
	s := c.opts.Store
	r := OMEMOReport{JID: bare, Own: bare == c.acct.JID.Bare().String(), OwnID: dev.ID(), OwnFingerprint: dev.Fingerprint()}
	// OMEMO 2's list first: a device listed in both is one device,
	// spoken to in OMEMO 2.
	for _, v := range []history.Version{history.OMEMO2, history.OMEMO03} {
		devs, err := s.Devices(ctx, bare, v)
		if err != nil {
			return r, err
		}
		for _, d := range devs {
			info := OMEMODeviceInfo{ID: d.ID, Version: chatVersion(v), Active: d.Active, Label: d.Label, Trust: d.Trust}
			if len(d.Identity) == omemo.KeySize {
				var k [omemo.KeySize]byte
				copy(k[:], d.Identity)
				info.Fingerprint = omemo.FormatFingerprint(&k)
			}
			i := slices.IndexFunc(r.Devices, func(o OMEMODeviceInfo) bool { return o.ID == d.ID })
			switch {
			case i < 0:
				r.Devices = append(r.Devices, info)
			case !r.Devices[i].Active && info.Active:
				// Gone from OMEMO 2's list, still in 0.3's.
				r.Devices[i] = info
			case r.Devices[i].Fingerprint == "":
				r.Devices[i].Fingerprint, r.Devices[i].Trust = info.Fingerprint, info.Trust
			}
		}
	}
	slices.SortFunc(r.Devices, func(a, b OMEMODeviceInfo) int { return cmp.Compare(a.ID, b.ID) })
	return r, nil
}
