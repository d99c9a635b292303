package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Sort orders for the roster.
const (
	SortPresence = "presence"
	SortName     = "name"
)

// Settings is gab.toml: settings of the interface, shared by all accounts.
type Settings struct {
	File        string
	RosterSort  string // SortPresence or SortName
	ShowOffline bool
	TimeFormat  string // Go time layout for message timestamps
	Language    string // preferred xml:lang for message bodies; empty for $LANG
}

// DefaultSettings are used when gab.toml is absent and for keys it omits.
func DefaultSettings() Settings {
	return Settings{RosterSort: SortPresence, ShowOffline: true, TimeFormat: "15:04"}
}

func settingsFields(s *Settings) map[string]field {
	return map[string]field{
		"ui": {kind: kindTable},
		"ui.roster_sort": {kindString, func(v any) error {
			switch v.(string) {
			case SortPresence, SortName:
				s.RosterSort = v.(string)
				return nil
			}
			return fmt.Errorf("%q is not a sort order; use %q or %q", v, SortPresence, SortName)
		}},
		"ui.show_offline": {kindBool, func(v any) error { s.ShowOffline = v.(bool); return nil }},
		"ui.time_format": {kindString, func(v any) error {
			if v.(string) == "" {
				return errors.New("must not be empty")
			}
			s.TimeFormat = v.(string)
			return nil
		}},
		"ui.language": {kindString, func(v any) error { s.Language = v.(string); return nil }},
	}
}

// LoadSettings reads dir/gab.toml; a missing file gives the defaults.
func LoadSettings(dir string) (Settings, Problems) {
	s := DefaultSettings()
	s.File = filepath.Join(dir, "gab.toml")
	data, err := os.ReadFile(s.File)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, Problems{{File: s.File, Msg: err.Error()}}
	}
	return s, decodeFile(s.File, data, settingsFields(&s))
}
