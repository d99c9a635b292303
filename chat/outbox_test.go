package chat

import "testing"

func TestOutboxStatesOnlyMoveForward(t *testing.T) {
	o := newOutbox(nil)
	o.add(&outgoing{id: "m", to: "b@x"}, "a@x")
	steps := []struct {
		state string
		ok    bool
	}{
		{DeliveryUnacked, true},
		{DeliveryPending, false},
		{DeliveryReceived, true}, // the peer's receipt before the server's ack
		{DeliverySent, false},    // the late ack changes nothing
		{DeliveryUnacked, false},
		{DeliveryFailed, true},
		{DeliveryReceived, false}, // failed is final
	}
	for i, s := range steps {
		if _, ok := o.set("m", s.state); ok != s.ok {
			t.Fatalf("step %d: set(%s) = %v, want %v", i, s.state, ok, s.ok)
		}
	}
	if _, ok := o.set("unknown", DeliverySent); ok {
		t.Fatal("an unknown id was accepted")
	}
	if len(o.unsent(false)) != 0 {
		t.Fatal("a settled message is still unsent")
	}
}
