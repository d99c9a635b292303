package chat

import (
	"context"
	"errors"

	"github.com/gab-chat/gab/xmpp"
)

// Form is an XEP-0004 data form as a service sent it: remote text
// throughout, to be drawn as data.
type Form struct {
	Title        string
	Instructions string
	Fields       []FormField
}

// FormField is one field of a form. Type is XEP-0004's (boolean,
// text-single, text-private, text-multi, list-single, list-multi,
// jid-single, jid-multi, fixed, hidden; "" reads as text-single).
type FormField struct {
	Var      string
	Type     string
	Label    string
	Desc     string
	Required bool
	Values   []string
	Options  []FormOption
}

// FormOption is one choice of a list field.
type FormOption struct {
	Label string
	Value string
}

// maxFormFields bounds what gab reads of a form.
const maxFormFields = 200

// parseForm reads a jabber:x:data form.
func parseForm(x *xmpp.Element) Form {
	f := Form{Title: x.ChildText(NSForms, "title"), Instructions: x.ChildText(NSForms, "instructions")}
	for _, c := range x.ChildrenIn(NSForms) {
		if c.Name.Local != "field" || len(f.Fields) == maxFormFields {
			continue
		}
		ff := FormField{Var: c.Get("var"), Type: c.Get("type"), Label: c.Get("label"), Desc: c.ChildText(NSForms, "desc"),
			Required: c.Child(NSForms, "required") != nil}
		if ff.Var == "" && ff.Type != "fixed" {
			continue // nothing to answer it by
		}
		for _, v := range c.ChildrenIn(NSForms) {
			switch v.Name.Local {
			case "value":
				ff.Values = append(ff.Values, v.Text)
			case "option":
				ff.Options = append(ff.Options, FormOption{Label: v.Get("label"), Value: v.ChildText(NSForms, "value")})
			}
		}
		f.Fields = append(f.Fields, ff)
	}
	return f
}

// submitForm is the answer to a form: every field the user may set, with
// the values given (a field not given keeps the form's own values), and
// the hidden ones as they came.
func submitForm(f Form, values map[string][]string) *xmpp.Element {
	x := xmpp.E(NSForms, "x", "type", "submit")
	for _, ff := range f.Fields {
		if ff.Type == "fixed" || ff.Var == "" {
			continue
		}
		vals := ff.Values
		if v, ok := values[ff.Var]; ok && ff.Type != "hidden" {
			vals = v
		}
		field := xmpp.E(NSForms, "field", "var", ff.Var)
		for _, v := range vals {
			field.Add(xmpp.E(NSForms, "value").WithText(v))
		}
		x.Add(field)
	}
	return x
}

// RoomConfigForm is a room's configuration form (XEP-0045 §10.2), for its
// owner to fill in: the answer to FetchRoomConfig.
type RoomConfigForm struct {
	Room string
	Form Form
}

// FetchRoomConfig asks a room for its configuration form (owners only);
// the answer is RoomConfigForm.
type FetchRoomConfig struct{ Room string }

// SubmitRoomConfig sets a room's configuration: Values by field var; a
// field not named keeps the value the form had.
type SubmitRoomConfig struct {
	Room   string
	Values map[string][]string
}

// CancelRoomConfig leaves a room's configuration as it is; for a room
// just made, the room is not opened (XEP-0045 §10.1.3: the service may
// destroy it).
type CancelRoomConfig struct{ Room string }

func (RoomConfigForm) isEvent()     {}
func (FetchRoomConfig) isCommand()  {}
func (SubmitRoomConfig) isCommand() {}
func (CancelRoomConfig) isCommand() {}

// roomConfig carries out the room configuration commands.
func (c *Client) roomConfig(ctx context.Context, sess *xmpp.Session, cmd Command) error {
	switch cmd := cmd.(type) {
	case FetchRoomConfig:
		roomJID, _, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		form, err := c.roomForm(ctx, sess, roomJID)
		if err != nil {
			return err
		}
		c.emit(ctx, RoomConfigForm{Room: roomJID, Form: form})
		return nil
	case SubmitRoomConfig:
		roomJID, _, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		// The form as the room has it now: what is not changed is sent
		// back as it is.
		form, err := c.roomForm(ctx, sess, roomJID)
		if err != nil {
			return err
		}
		if _, err = c.iqTo(ctx, sess, roomJID, "set", xmpp.E(NSMUCOwner, "query").Add(submitForm(form, cmd.Values))); err != nil {
			return err
		}
		c.learnRoom(sess, roomJID) // the archive may have been turned on or off
		return nil
	case CancelRoomConfig:
		roomJID, _, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		_, err = c.iqTo(ctx, sess, roomJID, "set", xmpp.E(NSMUCOwner, "query").Add(xmpp.E(NSForms, "x", "type", "cancel")))
		return err
	}
	return errors.New("unknown command")
}

// roomForm asks a room for its configuration form (owners only).
func (c *Client) roomForm(ctx context.Context, sess *xmpp.Session, roomJID string) (Form, error) {
	res, err := c.iqTo(ctx, sess, roomJID, "get", xmpp.E(NSMUCOwner, "query"))
	if err != nil {
		return Form{}, err
	}
	x := res.Child(NSMUCOwner, "query").Child(NSForms, "x")
	if x == nil {
		return Form{}, errors.New("the room sent no configuration form")
	}
	return parseForm(x), nil
}
