package chat_test

import (
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// BenchmarkUpload compares gab's upload (XEP-0363) with `curl -T` on slots
// of the same size from the same Prosody on loopback HTTPS. Each round
// uploads the file once with gab and once with curl, one after the other:
// on a shared machine whose load changes by the minute only figures taken
// side by side compare. Reported: the medians of gab's rate, curl's rate
// and of their ratio per round.
//
//   - gab: from the upload's first progress event (the slot given) to its
//     last (the server answered the PUT): the PUT alone, as for curl;
//   - curl: `curl -T FILE` on a slot asked for beforehand (untimed), the
//     process started and ended in the time.
//
// 5 MB stays under Prosody's http_max_content_size (10 MB by default), which
// it reads whole into memory; 20 MB goes over it and is streamed to disk.
func BenchmarkUpload(b *testing.B) {
	if _, err := exec.LookPath("curl"); err != nil {
		b.Fatal("curl is not installed (apt-get install curl)")
	}
	srv := xmpptest.Start(b, xmpptest.Options{Upload: true, UploadLimit: 64 << 20})
	for _, u := range []string{"alice", "bare"} {
		srv.Register(b, u, "pw")
	}
	for _, mb := range []int{5, 20} {
		path, _ := randomFile(b, "bench.bin", mb<<20)
		b.Run(fmt.Sprintf("%dMB", mb), func(b *testing.B) { benchPaired(b, srv, path, int64(mb<<20)) })
	}
}

// curlUpload asks for a slot (untimed) and PUTs the file with curl -T,
// returning the time curl took.
func curlUpload(b *testing.B, srv *xmpptest.Server, r *xmpptest.Raw, path string, size int64) time.Duration {
	slot, err := r.UploadSlot("bench.bin", size, "application/octet-stream")
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-sS", "--fail", "--cacert", srv.CAFile, "-T", path, "-H", "Content-Type: application/octet-stream", "-o", "/dev/null"}
	for k, v := range slot.Headers {
		args = append(args, "-H", k+": "+v)
	}
	cmd := exec.Command("curl", append(args, slot.Put)...)
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("curl: %v\n%s", err, out)
	}
	return time.Since(t0)
}

func benchPaired(b *testing.B, srv *xmpptest.Server, path string, size int64) {
	c, stop := benchClient(srv, nil)
	defer stop()
	benchWait(b, c, "roster", is(func(chat.RosterReset) bool { return true }))
	r, err := xmpptest.LoginRaw(srv, "bare", "pw", fmt.Sprint("curl", time.Now().UnixNano()))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	gabUpload(b, c, path) // finds the service, warms the server
	var gab, curl, ratio []float64
	mbs := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	for b.Loop() {
		first, last := gabUpload(b, c, path)
		g := mbs(last.Sub(first))
		k := mbs(curlUpload(b, srv, r, path, size))
		gab, curl, ratio = append(gab, g), append(curl, k), append(ratio, g/k)
	}
	med := func(xs []float64) float64 { s := slices.Clone(xs); slices.Sort(s); return s[len(s)/2] }
	b.ReportMetric(med(gab), "gab-MB/s")
	b.ReportMetric(med(curl), "curl-MB/s")
	b.ReportMetric(med(ratio), "gab/curl")
	b.Logf("rounds (MB/s): gab %.2f, curl %.2f, ratio %.2f", gab, curl, ratio)
}

// gabUpload uploads path with c and returns when its first and last
// progress events came: the slot given, and the file sent.
func gabUpload(b *testing.B, c *chat.Client, path string) (first, last time.Time) {
	id := c.Do(chat.UploadFile{Conv: chat.ChatWith("bare@localhost"), Path: path})
	timeout := time.After(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		select {
		case ev := <-c.Events():
			if e, ok := ev.(chat.UploadProgress); ok && e.CommandID == id {
				if first.IsZero() {
					first = time.Now()
				}
				if e.Done {
					last = time.Now()
					if e.Err != nil {
						b.Fatalf("upload: %v", e.Err)
					}
					benchWait(b, c, "the answer", answerOf(id))
					return first, last
				}
			}
		case <-timeout:
			b.Fatal("the upload did not end")
		}
	}
}
