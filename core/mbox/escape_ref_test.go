package mbox

import (
	"bytes"
	"io"
	"math/rand/v2"
	"regexp"
	"testing"
	"testing/iotest"
)

var fromLine = regexp.MustCompile(`(?m)^(>*From )`)
var escapedFromLine = regexp.MustCompile(`(?m)^>(>*From )`)

// TestEscaperMatchesReference compares the streaming escaper with a
// regular-expression reference on random inputs read in random chunks.
func TestEscaperMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"From ", ">", "\n", "\r\n", "x", "Fro", "m ", " ", "F"}
	for i := range 2000 {
		var b bytes.Buffer
		for range rng.IntN(60) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		in := b.Bytes()
		want := fromLine.ReplaceAll(in, []byte(">$1"))
		var src io.Reader = bytes.NewReader(in)
		if i%2 == 0 {
			src = iotest.HalfReader(src)
		}
		got, err := io.ReadAll(newEscaper(src))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("escape(%q) = %q, %v; want %q", in, got, err, want)
		}
		back, err := io.ReadAll(iotest.OneByteReader(NewUnescaper(iotest.HalfReader(bytes.NewReader(got)))))
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("unescape(%q) = %q, %v; want %q", got, back, err, in)
		}
		if ref := escapedFromLine.ReplaceAll(got, []byte("$1")); !bytes.Equal(ref, in) {
			t.Fatalf("reference unescape(%q) = %q; want %q", got, ref, in)
		}
	}
}

func TestEscaperLong(t *testing.T) {
	in := bytes.Repeat([]byte("From here, a line that needs escaping\r\n"), 5000)
	want := fromLine.ReplaceAll(in, []byte(">$1"))
	got, err := io.ReadAll(newEscaper(bytes.NewReader(in)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("escape(long) = %d bytes, %v; want %d", len(got), err, len(want))
	}
}
