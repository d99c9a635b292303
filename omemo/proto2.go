package omemo

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// protoValue is one field of a protobuf message read by readProto.
type protoValue struct {
	seen bool
	n    uint32 // a varint field's value
	b    []byte // a length-delimited field's bytes (aliasing the input)
}

// protoField declares a field of the messages of OMEMO 2 (proto2): its
// wire type and whether it is required. All varint fields of OMEMO 2 are
// uint32.
type protoField struct {
	typ      protowire.Type
	required bool
}

// readProto decodes b as the message whose fields (indexed by field
// number, from 1) are declared. It refuses truncated input (a truncated
// group too), a field number 0, a declared field repeated or of the wrong
// wire type, a varint too large for uint32, and a missing required field;
// unknown fields are skipped, as protobuf has it. what names the message
// in errors.
func readProto(b []byte, what string, fields []protoField) ([]protoValue, error) {
	vals := make([]protoValue, len(fields))
	malformed := fmt.Errorf("omemo: malformed %s", what)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, malformed
		}
		b = b[n:]
		i := int(num) - 1
		if i < 0 || i >= len(fields) {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, malformed
			}
			b = b[n:]
			continue
		}
		if vals[i].seen {
			return nil, fmt.Errorf("omemo: %s field %d repeated", what, num)
		}
		if typ != fields[i].typ {
			return nil, fmt.Errorf("omemo: %s field %d of the wrong type", what, num)
		}
		vals[i].seen = true
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v > 1<<32-1 {
				return nil, malformed
			}
			vals[i].n = uint32(v)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, malformed
			}
			vals[i].b = v
			b = b[n:]
		default:
			panic("omemo: readProto: field declared with an unsupported type")
		}
	}
	for i, f := range fields {
		if f.required && !vals[i].seen {
			return nil, fmt.Errorf("omemo: %s lacks field %d", what, i+1)
		}
	}
	return vals, nil
}
