package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// ratchetVectors are known answers from python3-oldmemo and
// python3-doubleratchet (see testdata/gen_ratchet.py).
type ratchetVectors struct {
	KeyEncoding []struct {
		Pub     string `json:"pub"`
		Encoded string `json:"encoded"`
	} `json:"key_encoding"`
	RootChain          rootChainVectors    `json:"root_chain"`
	MessageChain       messageChainVectors `json:"message_chain"`
	Omemo2RootChain    rootChainVectors    `json:"omemo2_root_chain"`
	Omemo2MessageChain messageChainVectors `json:"omemo2_message_chain"`
}

type (
	rootChainVectors []struct {
		RootKey     string `json:"root_key"`
		OurPriv     string `json:"our_priv"`
		TheirPub    string `json:"their_pub"`
		DH          string `json:"dh"`
		NextRootKey string `json:"next_root_key"`
		ChainKey    string `json:"chain_key"`
	}
	messageChainVectors struct {
		ChainKey string `json:"chain_key"`
		Steps    []struct {
			MessageKey   string `json:"message_key"`
			NextChainKey string `json:"next_chain_key"`
			AESKey       string `json:"aes_key"`
			MACKey       string `json:"mac_key"`
			IV           string `json:"iv"`
		} `json:"steps"`
	}
)

func loadRatchetVectors(t *testing.T) ratchetVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/ratchet.json")
	if err != nil {
		t.Fatal(err)
	}
	var v ratchetVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.KeyEncoding) == 0 || len(v.RootChain) == 0 || len(v.MessageChain.Steps) == 0 ||
		len(v.Omemo2RootChain) == 0 || len(v.Omemo2MessageChain.Steps) == 0 {
		t.Fatal("testdata/ratchet.json is missing vectors")
	}
	return v
}

func TestPublicKeyEncoding03(t *testing.T) {
	for i, v := range loadRatchetVectors(t).KeyEncoding {
		pub := key32(t, v.Pub)
		enc := unhex(t, v.Encoded)
		if got := EncodePublicKey03(pub); !bytes.Equal(got, enc) {
			t.Errorf("vector %d: encoded %x, want %x", i, got, enc)
		}
		got, err := DecodePublicKey03(enc)
		if err != nil || got != *pub {
			t.Errorf("vector %d: decoded %x %v, want %x", i, got, err, pub[:])
		}
		for _, bad := range [][]byte{enc[1:], enc[:32], append(bytes.Clone(enc), 0), nil} {
			if _, err := DecodePublicKey03(bad); err == nil {
				t.Errorf("vector %d: decoded %d bytes", i, len(bad))
			}
		}
		for typ := 0; typ < 256; typ++ {
			if typ == keyTypeDJB {
				continue
			}
			bad := bytes.Clone(enc)
			bad[0] = byte(typ)
			if _, err := DecodePublicKey03(bad); err == nil {
				t.Errorf("vector %d: decoded a key of type %#02x", i, typ)
			}
		}
	}
}

func TestRootChainKnownAnswers(t *testing.T) {
	v := loadRatchetVectors(t)
	t.Run("0.3", func(t *testing.T) { testRootChain(t, info03, v.RootChain) })
	t.Run("2", func(t *testing.T) { testRootChain(t, info2, v.Omemo2RootChain) })
}

func testRootChain(t *testing.T, info kdfInfo, v rootChainVectors) {
	var prevNext *[KeySize]byte
	for i, s := range v {
		rk := key32(t, s.RootKey)
		if prevNext != nil && *prevNext != *rk {
			t.Fatalf("step %d does not continue from the previous one", i)
		}
		dh, err := DH(key32(t, s.OurPriv), key32(t, s.TheirPub))
		if err != nil || dh != *key32(t, s.DH) {
			t.Errorf("step %d: DH %x %v, want %s", i, dh, err, s.DH)
		}
		nextRoot, ck := rootStep(info, rk, &dh)
		if nextRoot != *key32(t, s.NextRootKey) {
			t.Errorf("step %d: next root key %x, want %s", i, nextRoot, s.NextRootKey)
		}
		if ck != *key32(t, s.ChainKey) {
			t.Errorf("step %d: chain key %x, want %s", i, ck, s.ChainKey)
		}
		prevNext = &nextRoot
	}
}

func TestMessageChainKnownAnswers(t *testing.T) {
	v := loadRatchetVectors(t)
	t.Run("0.3", func(t *testing.T) { testMessageChain(t, info03, v.MessageChain) })
	t.Run("2", func(t *testing.T) { testMessageChain(t, info2, v.Omemo2MessageChain) })
}

func testMessageChain(t *testing.T, info kdfInfo, v messageChainVectors) {
	ck := *key32(t, v.ChainKey)
	for i, s := range v.Steps {
		next, mk := chainStep(&ck)
		if mk != *key32(t, s.MessageKey) {
			t.Errorf("step %d: message key %x, want %s", i, mk, s.MessageKey)
		}
		if next != *key32(t, s.NextChainKey) {
			t.Errorf("step %d: next chain key %x, want %s", i, next, s.NextChainKey)
		}
		k := expandMessageKey(info, &mk)
		if !bytes.Equal(k.aesKey[:], unhex(t, s.AESKey)) || !bytes.Equal(k.macKey[:], unhex(t, s.MACKey)) ||
			!bytes.Equal(k.iv[:], unhex(t, s.IV)) {
			t.Errorf("step %d: message keys %x %x %x, want %s %s %s", i, k.aesKey, k.macKey, k.iv, s.AESKey, s.MACKey, s.IV)
		}
		ck = next
	}
}

func TestDHRefusesLowOrder(t *testing.T) {
	priv := key32(t, loadRatchetVectors(t).RootChain[0].OurPriv)
	var zero [KeySize]byte
	one := [KeySize]byte{1}
	for _, pub := range []*[KeySize]byte{&zero, &one} {
		if _, err := DH(priv, pub); err == nil {
			t.Errorf("DH with the low-order point %x succeeded", pub[:])
		}
	}
}
