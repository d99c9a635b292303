package ui

import "mellium.im/xmpp/jid"

func parseBare(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return "", err
	}
	return j.Bare().String(), nil
}
