package config

import (
	"errors"
	"os"
	"path/filepath"
)

// Dirs are where gab keeps its configuration and its data.
type Dirs struct {
	Config string // gab.toml and accounts/
	Data   string // history databases
}

// ResolveDirs applies gab's rules: a flag wins, then $XDG_CONFIG_HOME/gab
// (or $XDG_DATA_HOME/gab), then ~/.config/gab (or ~/.local/share/gab).
// getenv is os.Getenv outside tests.
func ResolveDirs(configFlag, dataFlag string, getenv func(string) string) (Dirs, error) {
	home := getenv("HOME")
	pick := func(flag, xdgVar, fallback string) (string, error) {
		if flag != "" {
			return filepath.Abs(flag)
		}
		if x := getenv(xdgVar); x != "" && filepath.IsAbs(x) {
			return filepath.Join(x, "gab"), nil
		}
		if home == "" {
			return "", errors.New("cannot find a home directory: set HOME or pass --config and --data")
		}
		return filepath.Join(home, fallback, "gab"), nil
	}
	c, err := pick(configFlag, "XDG_CONFIG_HOME", ".config")
	if err != nil {
		return Dirs{}, err
	}
	d, err := pick(dataFlag, "XDG_DATA_HOME", filepath.Join(".local", "share"))
	if err != nil {
		return Dirs{}, err
	}
	return Dirs{Config: c, Data: d}, nil
}

// HistoryFile is the database file of one account.
func (d Dirs) HistoryFile(account string) string {
	return filepath.Join(d.Data, account+".db")
}

// PinFile is where the certificate the user trusted for an account is kept.
func (d Dirs) PinFile(account string) string {
	return filepath.Join(d.Data, account+".pin.pem")
}

// TabsFile is where the tabs open at the end of a run are kept, to be
// reopened at the next launch.
func (d Dirs) TabsFile() string {
	return filepath.Join(d.Data, "tabs.json")
}

// EnsureData creates the data directory, readable by its owner only.
func (d Dirs) EnsureData() error {
	return os.MkdirAll(d.Data, 0o700)
}
