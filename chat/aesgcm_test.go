package chat

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	testIV12  = "000102030405060708090a0b"
	testIV16  = "000102030405060708090a0b0c0d0e0f"
	testKey32 = "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
)

func TestAESGCMLinkRoundTrip(t *testing.T) {
	iv, _ := hex.DecodeString(testIV12)
	key, _ := hex.DecodeString(testKey32)
	for _, get := range []string{
		"https://upload.example/a1b2/holiday%20photo.jpg",
		"https://127.0.0.1:5281/file_share/x/y.txt?token=1",
	} {
		link, err := encryptedLink(get, iv, key)
		if err != nil {
			t.Fatal(err)
		}
		if want := "aesgcm://" + strings.TrimPrefix(get, "https://") + "#" + testIV12 + testKey32; link != want {
			t.Fatalf("link %q, want %q", link, want)
		}
		l, err := ParseAESGCM(link)
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		if l.HTTPS != get || !bytes.Equal(l.IV, iv) || !bytes.Equal(l.Key, key) || l.String() != link {
			t.Fatalf("read back as %+v", l)
		}
	}
	l, _ := ParseAESGCM("aesgcm://upload.example/a1b2/holiday%20photo.jpg#" + testIV12 + testKey32)
	if l.Name() != "holiday photo.jpg" {
		t.Fatalf("name %q", l.Name())
	}
	// An upper-case scheme and hex are read too.
	if l, err := ParseAESGCM("AESGCM://h/f#" + strings.ToUpper(testIV12+testKey32)); err != nil || hex.EncodeToString(l.Key) != testKey32 {
		t.Fatalf("upper case: %+v %v", l, err)
	}
	// A get URL with a fragment of its own cannot carry the key.
	if _, err := encryptedLink("https://h/f#x", iv, key); err == nil {
		t.Fatal("a URL with a fragment was made a link")
	}
}

func TestAESGCMLink16ByteIV(t *testing.T) {
	l, err := ParseAESGCM("aesgcm://h.example/f.bin#" + testIV16 + testKey32)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(l.IV) != testIV16 || hex.EncodeToString(l.Key) != testKey32 || l.HTTPS != "https://h.example/f.bin" {
		t.Fatalf("read as %+v", l)
	}
}

func TestAESGCMLinkRefused(t *testing.T) {
	secret := testIV12 + testKey32
	for name, link := range map[string]string{
		"no fragment":       "aesgcm://h/f",
		"empty fragment":    "aesgcm://h/f#",
		"bad hex":           "aesgcm://h/f#" + "zz" + secret[2:],
		"short":             "aesgcm://h/f#" + secret[:86],
		"long":              "aesgcm://h/f#" + secret + "00",
		"between 12 and 16": "aesgcm://h/f#" + secret + "0000",
		"key of 16 bytes":   "aesgcm://h/f#" + testIV12 + testKey32[:32],
		"no host":           "aesgcm:///f#" + secret,
		"https":             "https://h/f#" + secret,
		"space":             "aesgcm://h/a b#" + secret,
		"user info":         "aesgcm://u@h/f#" + secret,
		"two fragments":     "aesgcm://h/f#" + secret + "#" + secret,
	} {
		_, err := ParseAESGCM(link)
		if err == nil {
			t.Errorf("%s: %q accepted", name, link)
			continue
		}
		if strings.Contains(err.Error(), testKey32[:16]) {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
	if _, err := ParseAESGCM("https://h/f"); !errors.Is(err, ErrNotAESGCM) {
		t.Fatalf("an https link: %v", err)
	}
	// Only a whole, valid link in a decrypted message is a file.
	for _, body := range []string{"see aesgcm://h/f#" + secret, "aesgcm://h/f", "aesgcm://h/#" + secret, "https://h/f.txt"} {
		if f := aesgcmFile(body); f != nil {
			t.Errorf("%q taken for a file: %+v", body, f)
		}
	}
	if f := aesgcmFile(" aesgcm://h/d/r%C3%A9sum%C3%A9.pdf#" + secret + "\n"); f == nil || f.Name != "résumé.pdf" || f.Size != -1 || !IsAESGCM(f.URL) {
		t.Fatalf("a link as the whole body: %+v", f)
	}
}

func TestAESGCMSealOpen(t *testing.T) {
	plain := make([]byte, 100_000)
	rand.Read(plain)
	ct, iv, key, err := sealFile(bytes.NewReader(plain), int64(len(plain)), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(iv) != 12 || len(key) != 32 || len(ct) != len(plain)+16 {
		t.Fatalf("iv %d, key %d, ciphertext %d bytes", len(iv), len(key), len(ct))
	}
	l := AESGCMLink{HTTPS: "https://h/f", IV: iv, Key: key}
	sent := append([]byte(nil), ct...)
	got, err := openFile(l, append([]byte(nil), sent...))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("opened: %v", err)
	}
	// A flipped bit anywhere, or a cut, is refused.
	for _, at := range []int{0, len(sent) / 2, len(sent) - 1} {
		bad := append([]byte(nil), sent...)
		bad[at] ^= 1
		if _, err := openFile(l, bad); err == nil {
			t.Fatalf("a bit flipped at %d was not noticed", at)
		}
	}
	if _, err := openFile(l, append([]byte(nil), sent[:len(sent)-1]...)); err == nil {
		t.Fatal("a file one byte short was taken")
	}
	if _, err := openFile(l, sent[:15]); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("15 bytes: %v", err)
	}
	// Two seals of the same file never share a key or IV.
	_, iv2, key2, _ := sealFile(bytes.NewReader(plain), int64(len(plain)), rand.Reader)
	if bytes.Equal(iv, iv2) || bytes.Equal(key, key2) {
		t.Fatal("the key or IV was used again")
	}
	if _, _, _, err := sealFile(bytes.NewReader(nil), MaxEncryptedFile+1, rand.Reader); err == nil {
		t.Fatal("a file over the limit was encrypted")
	}
}

// The system's Python with the cryptography package (AESGCM) is the
// independent implementation: what gab seals it opens, what it seals (12-
// and 16-byte IVs) gab opens.
func TestAESGCMAgainstPythonCryptography(t *testing.T) {
	const py = `
import json, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
req = json.load(sys.stdin)
out = {}
key, iv = bytes.fromhex(req["key"]), bytes.fromhex(req["iv"])
out["opened"] = AESGCM(key).decrypt(iv, bytes.fromhex(req["ct"]), None).hex()
for n in (12, 16):
    v = bytes(range(n))
    out["sealed%d" % n] = AESGCM(key).encrypt(v, bytes.fromhex(req["plain"]), None).hex()
print(json.dumps(out))
`
	plain := make([]byte, 4099)
	rand.Read(plain)
	ct, iv, key, err := sealFile(bytes.NewReader(plain), int64(len(plain)), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]string{"key": hex.EncodeToString(key), "iv": hex.EncodeToString(iv), "ct": hex.EncodeToString(ct), "plain": hex.EncodeToString(plain)})
	cmd := exec.Command("/usr/bin/python3", "-c", py)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 with cryptography (Debian python3-cryptography): %v\n%s", err, stderr.String())
	}
	var out map[string]string
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatal(err)
	}
	if out["opened"] != hex.EncodeToString(plain) {
		t.Fatal("Python opened something else than what gab sealed")
	}
	for _, n := range []int{12, 16} {
		iv := make([]byte, n)
		for i := range iv {
			iv[i] = byte(i)
		}
		link, err := ParseAESGCM("aesgcm://h/f#" + hex.EncodeToString(iv) + hex.EncodeToString(key))
		if err != nil {
			t.Fatal(err)
		}
		sealed, _ := hex.DecodeString(out[fmt.Sprintf("sealed%d", n)])
		got, err := openFile(link, sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("a %d-byte IV: gab could not open what Python sealed: %v", n, err)
		}
	}
}

func TestSaveFileNeverReplaces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Downloads")
	p1, err := saveFile(dir, "a.txt", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := saveFile(dir, "a.txt", []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p1) != "a.txt" || filepath.Base(p2) != "a (2).txt" {
		t.Fatalf("saved as %s and %s", p1, p2)
	}
	if b, _ := os.ReadFile(p1); string(b) != "one" {
		t.Fatalf("the first file now holds %q", b)
	}
	st, _ := os.Stat(p2)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("saved with mode %v", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("left in the directory: %v", entries)
	}
	for in, want := range map[string]string{"..": "file", ".bashrc": "bashrc", "a\\b": "a_b", "": "file", "x.pdf": "x.pdf"} {
		if got := saveName(in); got != want {
			t.Errorf("saveName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Encrypting and decrypting a 10 MB file in place (what an encrypted
// upload and download cost besides the network).
func BenchmarkAESGCMFile10MB(b *testing.B) {
	plain := make([]byte, 10<<20)
	rand.Read(plain)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		ct, iv, key, err := sealFile(bytes.NewReader(plain), int64(len(plain)), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := openFile(AESGCMLink{IV: iv, Key: key}, ct); err != nil {
			b.Fatal(err)
		}
	}
}

// Any text: ParseAESGCM never panics, and what it accepts has a 12- or
// 16-byte IV and a 32-byte key, names an https URL on a host, and is
// written back to a link that reads the same.
func FuzzParseAESGCM(f *testing.F) {
	for _, s := range []string{
		"aesgcm://h/f#" + testIV12 + testKey32,
		"aesgcm://h:443/a/b%20c.txt?x=1#" + testIV16 + testKey32,
		"aesgcm://h/f#", "aesgcm://#", "aesgcm://[::1]/f#" + testIV12 + testKey32, "AESGCM://h/f#zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseAESGCM(s)
		if err != nil {
			return
		}
		if (len(l.IV) != 12 && len(l.IV) != 16) || len(l.Key) != 32 || !strings.HasPrefix(l.HTTPS, "https://") || strings.Contains(l.HTTPS, "#") {
			t.Fatalf("%q read as %+v", s, l)
		}
		again, err := ParseAESGCM(l.String())
		if err != nil || again.HTTPS != l.HTTPS || !bytes.Equal(again.IV, l.IV) || !bytes.Equal(again.Key, l.Key) {
			t.Fatalf("%q written as %q, read back as %+v (%v)", s, l.String(), again, err)
		}
	})
}

// A link's file name longer than a file system takes (255 bytes on
// Linux; the name a link carries is clipped at 1000 characters) is
// shortened to save, keeping its extension, instead of the download,
// checked and decrypted, failing at the end with nothing saved. Also
// with a name in many-byte characters and with the next free name.
func TestSaveFileLongName(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		strings.Repeat("a", 300) + ".pdf",
		strings.Repeat("ж", 300) + ".pdf",
		strings.Repeat("ж", 300) + ".pdf",
		"x." + strings.Repeat("e", 300),
	} {
		p, err := saveFile(dir, saveName(name), []byte("data"))
		if err != nil {
			t.Fatalf("a name of %d bytes: %v", len(name), err)
		}
		base := filepath.Base(p)
		if !utf8.ValidString(base) || len(base) > 255 {
			t.Fatalf("saved as %q", base)
		}
		if strings.HasSuffix(name, ".pdf") && !strings.HasSuffix(base, ".pdf") {
			t.Fatalf("the extension was lost: %q", base)
		}
	}
}
