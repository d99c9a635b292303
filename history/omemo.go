package history

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// OMEMO state (XEP-0384), kept beside the messages it encrypts and
// decrypts. The store does not read the key material and sessions it
// keeps (package omemo marshals them); it keeps them with the messages
// they belong to, in one transaction (see Commit). They hold private keys,
// as the messages hold their plaintext: the database is readable by its
// owner only (see Open).
//
// JIDs here are bare JIDs, compared as given: the caller normalises them.
// Identity keys are bytes compared as given: the caller passes one form of
// a key for both versions (gab passes the X25519 form a fingerprint
// shows), so that trust decided on a device in one version holds in the
// other.

// Version is an OMEMO protocol version.
type Version uint8

// The OMEMO versions gab speaks.
const (
	OMEMO03 Version = 1 // OMEMO 0.3, eu.siacs.conversations.axolotl
	OMEMO2  Version = 2 // OMEMO 2, urn:xmpp:omemo:2
)

func (v Version) valid() bool { return v == OMEMO03 || v == OMEMO2 }

// Trust is what the user (or the trust policy) decided about an identity
// key of a contact.
type Trust string

// Trust decisions. Trusted is trust without verification: given blindly
// by the default policy (blind trust before verification) or by the user
// without comparing fingerprints; Verified means the user compared the
// fingerprint. Keeping them apart lets the interface mark each line, and
// lets the blind-trust policy stop trusting a contact's new keys blindly
// once one of the contact's keys is verified.
const (
	TrustUndecided  Trust = "undecided"
	TrustTrusted    Trust = "trusted"
	TrustVerified   Trust = "verified"
	TrustDistrusted Trust = "distrusted"
)

func (t Trust) valid() bool {
	switch t {
	case TrustUndecided, TrustTrusted, TrustVerified, TrustDistrusted:
		return true
	}
	return false
}

// maxDevice is the highest OMEMO device id (ids are 1 to 2^31-1).
const maxDevice = 1<<31 - 1

func validDevice(id uint32) bool { return id >= 1 && id <= maxDevice }

// SessionKey names a session: with one device of a contact (or of our
// own account), in one OMEMO version.
type SessionKey struct {
	JID     string // bare JID
	Device  uint32
	Version Version
}

func (k SessionKey) check() error {
	if k.JID == "" || !validDevice(k.Device) || !k.Version.valid() {
		return fmt.Errorf("history: no such OMEMO session: JID %q, device %d, version %d", k.JID, k.Device, k.Version)
	}
	return nil
}

// Session is a session's state as package omemo marshalled it.
type Session struct {
	SessionKey
	State []byte
}

// check refuses what cannot be stored, before anything of b is written.
func (b *Batch) check() error {
	for _, m := range b.Messages {
		if m.Peer == "" || (m.Direction != In && m.Direction != Out) {
			return errors.New("history: message without peer or direction")
		}
		if m.Encryption != 0 && !m.Encryption.valid() {
			return fmt.Errorf("history: unknown OMEMO version %d", m.Encryption)
		}
		if m.Encryption == 0 && (m.Device != 0 || m.Trust != "") {
			return errors.New("history: a message not encrypted has no sender device or trust")
		}
		if m.Trust != "" && !m.Trust.valid() {
			return fmt.Errorf("history: unknown trust %q", m.Trust)
		}
		if m.Device > maxDevice {
			return fmt.Errorf("history: device id %d out of range", m.Device)
		}
		if m.Wire != "" && (m.Direction != Out || m.Encryption == 0 || (m.State != StatePending && m.State != StateUnacked)) {
			return errors.New("history: an encrypted element is kept only for a message in the outbox")
		}
	}
	if b.OwnDevice != nil && len(b.OwnDevice) == 0 {
		return errors.New("history: our OMEMO device's key material is empty")
	}
	for _, se := range b.Sessions {
		if err := se.check(); err != nil {
			return err
		}
		if len(se.State) == 0 {
			return errors.New("history: an OMEMO session without state")
		}
	}
	for _, k := range b.Ended {
		if err := k.check(); err != nil {
			return err
		}
	}
	return nil
}

// writeOMEMO writes b's OMEMO state changes in tx.
func (s *Store) writeOMEMO(tx *sql.Tx, b Batch) error {
	now := time.Now().UnixMicro()
	if b.OwnDevice != nil {
		if _, err := tx.Exec(`INSERT INTO omemo_own (id, state, created, updated) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated = excluded.updated`, b.OwnDevice, now, now); err != nil {
			return err
		}
		if err := s.fail("own device"); err != nil {
			return err
		}
	}
	if len(b.Sessions) > 0 {
		st, err := tx.Prepare(`INSERT INTO omemo_sessions (jid, version, device, state, updated) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (jid, version, device) DO UPDATE SET state = excluded.state, updated = excluded.updated`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, se := range b.Sessions {
			if _, err := st.Exec(se.JID, se.Version, se.Device, se.State, now); err != nil {
				return err
			}
			if err := s.fail("session"); err != nil {
				return err
			}
		}
	}
	for _, k := range b.Ended {
		if _, err := tx.Exec(`DELETE FROM omemo_sessions WHERE jid = ? AND version = ? AND device = ?`, k.JID, k.Version, k.Device); err != nil {
			return err
		}
		if err := s.fail("ended"); err != nil {
			return err
		}
	}
	return nil
}

// OwnDevice is our device's key material (identity, signed pre-keys,
// one-time pre-keys) as package omemo marshalled it, one for the account
// and both versions, and when it was first and last saved.
type OwnDevice struct {
	State            []byte
	Created, Updated time.Time
}

// OwnDevice reads our device's key material; ok is false before any was
// saved.
func (s *Store) OwnDevice(ctx context.Context) (d OwnDevice, ok bool, err error) {
	var created, updated int64
	err = s.db.QueryRowContext(ctx, `SELECT state, created, updated FROM omemo_own WHERE id = 1`).Scan(&d.State, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return OwnDevice{}, false, nil
	}
	if err != nil {
		return OwnDevice{}, false, fmt.Errorf("read our OMEMO device: %w", err)
	}
	d.Created, d.Updated = time.UnixMicro(created), time.UnixMicro(updated)
	return d, true, nil
}

// SaveOwnDevice replaces our device's key material (Created stays that of
// the first save). What a message used up (a one-time pre-key) is saved
// with the message instead, through Commit.
func (s *Store) SaveOwnDevice(ctx context.Context, state []byte) error {
	if len(state) == 0 {
		return errors.New("history: our OMEMO device's key material is empty")
	}
	return s.Commit(Batch{OwnDevice: state})
}

// Session reads the session k; ok is false when there is none.
func (s *Store) Session(ctx context.Context, k SessionKey) (state []byte, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT state FROM omemo_sessions WHERE jid = ? AND version = ? AND device = ?`,
		k.JID, k.Version, k.Device).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read an OMEMO session: %w", err)
	}
	return state, true, nil
}

// Sessions reads every session with jid's devices in version v, by device
// id.
func (s *Store) Sessions(ctx context.Context, jid string, v Version) ([]Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT device, state FROM omemo_sessions WHERE jid = ? AND version = ? ORDER BY device`, jid, v)
	if err != nil {
		return nil, fmt.Errorf("read OMEMO sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		se := Session{SessionKey: SessionKey{JID: jid, Version: v}}
		if err := rows.Scan(&se.Device, &se.State); err != nil {
			return nil, fmt.Errorf("read OMEMO sessions: %w", err)
		}
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read OMEMO sessions: %w", err)
	}
	return out, nil
}

// SaveSession saves a session by itself (one just built, before any
// message). A session a message advanced is saved with the message,
// through Commit.
func (s *Store) SaveSession(ctx context.Context, se Session) error {
	if len(se.State) == 0 {
		return errors.New("history: an OMEMO session without state")
	}
	return s.Commit(Batch{Sessions: []Session{se}})
}

// DeleteSession removes the session k (none is not an error).
func (s *Store) DeleteSession(ctx context.Context, k SessionKey) error {
	return s.Commit(Batch{Ended: []SessionKey{k}})
}

// ListedDevice is one entry of a published device list: its id and, in
// OMEMO 2, an optional label its owner gave it.
type ListedDevice struct {
	ID    uint32
	Label string
}

// Device is one device of a contact (or of our account) as known from its
// device lists.
type Device struct {
	ID uint32
	// Active: in the last list fetched. A device that left its list is
	// kept, inactive (old messages name it); it is active again if it
	// comes back.
	Active bool
	Label  string // from the last list that named it ("" for none)
	// Identity is its identity key once known (from its bundle or its
	// first message), nil before; Trust the decision on it for this
	// JID (TrustUndecided when none), taken at Decided.
	Identity []byte
	Trust    Trust
	Decided  time.Time
	// FirstSeen is when it was first seen, LastSeen when it was last in a
	// list fetched (or first seen, if never).
	FirstSeen, LastSeen time.Time
}

// DeviceListChange is what a newly fetched device list changed: devices
// now listed that were not active (never seen, or back after leaving),
// and devices that left the list and became inactive, each by id in
// ascending order. These are what the interface announces.
type DeviceListChange struct {
	New, Inactive []uint32
}

// MaxGoneDevices bounds the devices of one JID kept after they left its
// list without ever telling us their identity key.
const MaxGoneDevices = 256

// SaveDeviceList records the device list jid published for version v,
// fetched at at: listed devices are active (labels as listed, last seen
// at at), known devices not listed become inactive (of those whose
// identity key is not known, the MaxGoneDevices last listed are kept).
// It reports what changed. An id outside 1 to 2^31-1 is refused and
// nothing is saved; an id listed twice counts once (its first label).
func (s *Store) SaveDeviceList(ctx context.Context, jid string, v Version, list []ListedDevice, at time.Time) (DeviceListChange, error) {
	if jid == "" || !v.valid() {
		return DeviceListChange{}, fmt.Errorf("history: no device list for JID %q, version %d", jid, v)
	}
	for _, d := range list {
		if !validDevice(d.ID) {
			return DeviceListChange{}, fmt.Errorf("history: device id %d out of range", d.ID)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return DeviceListChange{}, err
	}
	defer tx.Rollback()
	known := map[uint32]bool{} // device: active
	rows, err := tx.QueryContext(ctx, `SELECT device, active FROM omemo_devices WHERE jid = ? AND version = ?`, jid, v)
	if err != nil {
		return DeviceListChange{}, err
	}
	for rows.Next() {
		var id uint32
		var active bool
		if err := rows.Scan(&id, &active); err != nil {
			rows.Close()
			return DeviceListChange{}, err
		}
		known[id] = active
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return DeviceListChange{}, err
	}
	var ch DeviceListChange
	ts := at.UnixMicro()
	listed := make(map[uint32]bool, len(list))
	for _, d := range list {
		if listed[d.ID] {
			continue
		}
		listed[d.ID] = true
		active, seen := known[d.ID]
		if !active {
			ch.New = append(ch.New, d.ID)
		}
		if seen {
			_, err = tx.ExecContext(ctx, `UPDATE omemo_devices SET active = 1, label = ?, last_seen = ? WHERE jid = ? AND version = ? AND device = ?`, d.Label, ts, jid, v, d.ID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO omemo_devices (jid, version, device, active, label, first_seen, last_seen) VALUES (?, ?, ?, 1, ?, ?, ?)`, jid, v, d.ID, d.Label, ts, ts)
		}
		if err != nil {
			return DeviceListChange{}, err
		}
		if err := s.fail("device"); err != nil {
			return DeviceListChange{}, err
		}
	}
	for id, active := range known {
		if active && !listed[id] {
			ch.Inactive = append(ch.Inactive, id)
			if _, err := tx.ExecContext(ctx, `UPDATE omemo_devices SET active = 0 WHERE jid = ? AND version = ? AND device = ?`, jid, v, id); err != nil {
				return DeviceListChange{}, err
			}
		}
	}
	// Devices gone from the list that never told us their identity key
	// (no message, no session names them) are kept only so many: a list
	// of new ids each time must not grow the database without end.
	if _, err := tx.ExecContext(ctx, `DELETE FROM omemo_devices WHERE jid = ? AND version = ? AND active = 0 AND identity IS NULL AND device NOT IN (
		SELECT device FROM omemo_devices WHERE jid = ? AND version = ? AND active = 0 AND identity IS NULL ORDER BY last_seen DESC, device LIMIT ?)`,
		jid, v, jid, v, MaxGoneDevices); err != nil {
		return DeviceListChange{}, err
	}
	if err := tx.Commit(); err != nil {
		return DeviceListChange{}, err
	}
	slices.Sort(ch.New)
	slices.Sort(ch.Inactive)
	return ch, nil
}

// Devices reads what is known of jid's devices in version v, active or
// not, by id.
func (s *Store) Devices(ctx context.Context, jid string, v Version) ([]Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.device, d.active, d.label, d.identity, d.first_seen, d.last_seen, t.trust, t.decided
		FROM omemo_devices d LEFT JOIN omemo_trust t ON t.jid = d.jid AND t.identity = d.identity
		WHERE d.jid = ? AND d.version = ? ORDER BY d.device`, jid, v)
	if err != nil {
		return nil, fmt.Errorf("read OMEMO devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		var d Device
		var first, last int64
		var trust sql.NullString
		var decided sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Active, &d.Label, &d.Identity, &first, &last, &trust, &decided); err != nil {
			return nil, fmt.Errorf("read OMEMO devices: %w", err)
		}
		d.FirstSeen, d.LastSeen = time.UnixMicro(first), time.UnixMicro(last)
		d.Trust = TrustUndecided
		if trust.Valid {
			d.Trust, d.Decided = Trust(trust.String), time.UnixMicro(decided.Int64)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read OMEMO devices: %w", err)
	}
	return out, nil
}

// SetIdentity records the identity key of jid's device in version v,
// learnt at at (from its bundle or a pre-key message). A device not known
// yet is recorded, inactive until a list names it. It returns the key the
// device had before when this one differs from it: a device id whose
// identity key changed (nil when the key is new or the same). The trust
// decided on the old key does not pass to the new one.
func (s *Store) SetIdentity(ctx context.Context, jid string, v Version, device uint32, key []byte, at time.Time) (prev []byte, err error) {
	if err := (SessionKey{JID: jid, Device: device, Version: v}).check(); err != nil {
		return nil, err
	}
	if len(key) == 0 {
		return nil, errors.New("history: an empty identity key")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var old []byte
	err = tx.QueryRowContext(ctx, `SELECT identity FROM omemo_devices WHERE jid = ? AND version = ? AND device = ?`, jid, v, device).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO omemo_devices (jid, version, device, active, identity, first_seen, last_seen) VALUES (?, ?, ?, 0, ?, ?, ?)`,
			jid, v, device, key, at.UnixMicro(), at.UnixMicro())
	case err != nil:
		return nil, err
	case bytes.Equal(old, key):
		return nil, nil
	default:
		_, err = tx.ExecContext(ctx, `UPDATE omemo_devices SET identity = ? WHERE jid = ? AND version = ? AND device = ?`, key, jid, v, device)
	}
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if len(old) == 0 {
		return nil, nil
	}
	return old, nil
}

// TrustDecision is a decision on one identity key of a contact.
type TrustDecision struct {
	Identity []byte
	Trust    Trust
	Decided  time.Time
}

// SetTrust records the decision t on jid's identity key, taken at at.
func (s *Store) SetTrust(ctx context.Context, jid string, key []byte, t Trust, at time.Time) error {
	if jid == "" || len(key) == 0 || !t.valid() {
		return fmt.Errorf("history: cannot record trust %q for JID %q and a key of %d bytes", t, jid, len(key))
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO omemo_trust (jid, identity, trust, decided) VALUES (?, ?, ?, ?)
		ON CONFLICT (jid, identity) DO UPDATE SET trust = excluded.trust, decided = excluded.decided`, jid, key, string(t), at.UnixMicro())
	if err != nil {
		return fmt.Errorf("record OMEMO trust: %w", err)
	}
	return nil
}

// TrustOf reads the decision on jid's identity key: TrustUndecided and a
// zero time when none was taken.
func (s *Store) TrustOf(ctx context.Context, jid string, key []byte) (Trust, time.Time, error) {
	var t string
	var decided int64
	err := s.db.QueryRowContext(ctx, `SELECT trust, decided FROM omemo_trust WHERE jid = ? AND identity = ?`, jid, key).Scan(&t, &decided)
	if errors.Is(err, sql.ErrNoRows) {
		return TrustUndecided, time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read OMEMO trust: %w", err)
	}
	return Trust(t), time.UnixMicro(decided), nil
}

// Trusts reads every decision taken on jid's identity keys, oldest first.
func (s *Store) Trusts(ctx context.Context, jid string) ([]TrustDecision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identity, trust, decided FROM omemo_trust WHERE jid = ? ORDER BY decided, identity`, jid)
	if err != nil {
		return nil, fmt.Errorf("read OMEMO trust: %w", err)
	}
	defer rows.Close()
	var out []TrustDecision
	for rows.Next() {
		var d TrustDecision
		var t string
		var decided int64
		if err := rows.Scan(&d.Identity, &t, &decided); err != nil {
			return nil, fmt.Errorf("read OMEMO trust: %w", err)
		}
		d.Trust, d.Decided = Trust(t), time.UnixMicro(decided)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read OMEMO trust: %w", err)
	}
	return out, nil
}
