package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"syscall"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/ui"
)

// tabFile keeps the open tabs from one run to the next in a small JSON
// file in the data directory (ui.TabStore), written whole to a fresh
// temporary file (mode 0600) and renamed over the old one, so a crash
// leaves the old file or the new one, never half of one.
type tabFile struct {
	path string
	// configured reports whether an account of that name is configured:
	// the tabs of others are dropped.
	configured func(name string) bool
}

// tabFileVersion is the version of the file's layout.
const tabFileVersion = 1

type tabFileData struct {
	Version int            `json:"version"`
	Active  int            `json:"active"` // index in Tabs, -1 for the console
	Tabs    []tabFileEntry `json:"tabs"`
}

type tabFileEntry struct {
	Account string `json:"account"`
	Kind    string `json:"kind"` // chat, room or room-private
	JID     string `json:"jid"`
}

// Load reads the tabs saved last. A missing file is no tabs. A file that
// is not what gab writes is moved aside to FILE.bad, so nothing in it is
// lost when the tabs are next saved, and the error names both.
func (f tabFile) Load() ([]ui.TabRef, int, error) {
	data, err := readTabFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, -1, nil
	}
	var notOurs errNotTabFile
	if err != nil && !errors.As(err, &notOurs) {
		return nil, -1, err // the path is in it
	}
	var d tabFileData
	if err == nil {
		d, err = parseTabFile(data)
	}
	if err != nil {
		bad := f.path + ".bad"
		if rerr := os.Rename(f.path, bad); rerr != nil {
			return nil, -1, fmt.Errorf("%s: %v (and it could not be moved aside: %v)", f.path, err, rerr)
		}
		return nil, -1, fmt.Errorf("%s: %v (the file is kept as %s)", f.path, err, bad)
	}
	var tabs []ui.TabRef
	active, dropped := -1, false
	for i, e := range d.Tabs {
		if f.configured != nil && !f.configured(e.Account) {
			dropped = true
			continue // the account is gone: its tabs with it
		}
		if i == d.Active {
			active = len(tabs)
		}
		tabs = append(tabs, ui.TabRef{Account: e.Account, Conv: chat.Conv{Kind: chat.Kind(e.Kind), JID: e.JID}})
	}
	if dropped {
		// Out of the file now, not at the next change: an account added
		// again under that name later does not find them back. If this
		// write fails, the next save (whose failure the user is told
		// of) leaves them out all the same.
		_ = f.Save(tabs, active)
	}
	return tabs, active, nil
}

// maxTabFile bounds what is read of the tabs file: gab writes under
// 100 bytes a tab, so this is thousands of tabs.
const maxTabFile = 1 << 20

// errNotTabFile says the path holds something gab never writes there (a
// device, a pipe, a file too big): it is moved aside, like a
// file that does not parse.
type errNotTabFile string

func (e errNotTabFile) Error() string { return string(e) }

// readTabFile reads the tabs file if it is a plain file of a sensible
// size. It is opened without waiting, so a pipe put there (or a link to
// one) cannot hold up the start, and read no further than maxTabFile, so
// a link to an endless device cannot fill the memory.
func readTabFile(path string) ([]byte, error) {
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR} // left where it is
	}
	if !st.Mode().IsRegular() {
		what := "a device"
		switch t := st.Mode().Type(); {
		case t&fs.ModeNamedPipe != 0:
			what = "a pipe"
		case t&fs.ModeSocket != 0:
			what = "a socket"
		}
		return nil, errNotTabFile("not a plain file but " + what)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxTabFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTabFile {
		return nil, errNotTabFile(fmt.Sprintf("larger than %d KiB, more than gab ever writes", maxTabFile>>10))
	}
	return data, nil
}

// parseTabFile reads and checks the file's contents; its errors say where
// and what, in words.
func parseTabFile(data []byte) (tabFileData, error) {
	var d tabFileData
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return d, fmt.Errorf("line %d: not JSON as gab writes it: %v", lineAt(data, se.Offset), se)
		case errors.As(err, &te):
			want := map[reflect.Kind]string{reflect.Int: "a whole number", reflect.String: "text in quotes", reflect.Slice: "a list", reflect.Struct: "an object"}[te.Type.Kind()]
			return d, fmt.Errorf("line %d: %s must be %s", lineAt(data, te.Offset), te.Field, want)
		case errors.Is(err, io.EOF):
			return d, errors.New("the file is empty")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return d, fmt.Errorf("line %d: the file ends in the middle of the tabs", lineAt(data, int64(len(data))))
		}
		return d, err
	}
	if dec.More() {
		return d, fmt.Errorf("line %d: more after the end of the tabs", lineAt(data, dec.InputOffset()))
	}
	if d.Version != tabFileVersion {
		return d, fmt.Errorf("version %d, but this gab reads version %d", d.Version, tabFileVersion)
	}
	if d.Active < -1 || d.Active >= len(d.Tabs) {
		return d, fmt.Errorf("active tab %d, but there are %d tabs", d.Active, len(d.Tabs))
	}
	for i, e := range d.Tabs {
		if err := checkTabEntry(e); err != nil {
			return d, fmt.Errorf("tab %d: %v", i+1, err)
		}
	}
	return d, nil
}

func checkTabEntry(e tabFileEntry) error {
	if e.Account == "" {
		return errors.New("no account")
	}
	room, nick := e.JID, ""
	switch chat.Kind(e.Kind) {
	case chat.KindChat, chat.KindRoom:
	case chat.KindPrivate:
		var ok bool
		if room, nick, ok = strings.Cut(e.JID, "/"); !ok || nick == "" {
			return fmt.Errorf("%q is not a room's address and a nick (room@service/nick)", e.JID)
		}
	default:
		return fmt.Errorf("kind %q is none of chat, room, room-private", e.Kind)
	}
	if bare, err := chat.BareJID(room); err != nil || bare != room {
		return fmt.Errorf("%q is not a bare address", room)
	}
	return nil
}

// lineAt is the line of data that offset falls on, counting from 1.
func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// Save replaces the file with tabs, active the index of the active one
// (-1: the console).
func (f tabFile) Save(tabs []ui.TabRef, active int) error {
	d := tabFileData{Version: tabFileVersion, Active: active, Tabs: make([]tabFileEntry, 0, len(tabs))}
	for _, t := range tabs {
		d.Tabs = append(d.Tabs, tabFileEntry{Account: t.Account, Kind: string(t.Conv.Kind), JID: t.Conv.JID})
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return config.ReplaceFile(f.path, append(data, '\n'))
}
