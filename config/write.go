package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// NewAccount is what the first-run form collects.
type NewAccount struct {
	JID             string
	Password        string
	PasswordCommand string
	Server          string
}

var accountName = regexp.MustCompile(`[^a-zA-Z0-9@._-]+`)

// AccountName derives a file name from a JID: "alice@example.net" gives
// "alice@example.net" with unsafe characters replaced.
func AccountName(bareJID string) string {
	n := accountName.ReplaceAllString(bareJID, "_")
	n = strings.Trim(n, "._")
	if n == "" {
		n = "account"
	}
	return n
}

// WriteAccount validates na and writes dir/accounts/<name>.toml with mode
// 0600, refusing to overwrite an existing file. It returns the file's path.
func WriteAccount(dir string, na NewAccount) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# gab account, written by first-run setup\n")
	fmt.Fprintf(&b, "jid = %s\n", tomlString(strings.TrimSpace(na.JID)))
	switch {
	case na.PasswordCommand != "":
		fmt.Fprintf(&b, "password_command = %s\n", tomlString(na.PasswordCommand))
	case na.Password != "":
		fmt.Fprintf(&b, "password = %s\n", tomlString(na.Password))
	}
	if s := strings.TrimSpace(na.Server); s != "" {
		fmt.Fprintf(&b, "server = %s\n", tomlString(s))
	}
	data := []byte(b.String())
	a, probs := ParseAccount("new account", data)
	if len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, p := range probs {
			msgs[i] = p.Msg
		}
		return "", errors.New(strings.Join(msgs, "; "))
	}
	accDir := filepath.Join(dir, "accounts")
	if err := os.MkdirAll(accDir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(accDir, AccountName(a.JID.String())+".toml")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, f.Close()
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
