package ui

import (
	"errors"

	"mellium.im/xmpp/jid"
)

func parseBare(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return "", err
	}
	bare := j.Bare().String()
	if again, err := jid.Parse(bare); err != nil || again.String() != bare {
		return "", errors.New("not a JID once normalised")
	}
	return bare, nil
}
