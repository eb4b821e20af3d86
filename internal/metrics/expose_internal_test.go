package metrics

import (
	"bytes"
	"testing"
)

func TestEscaping(t *testing.T) {
	var b bytes.Buffer
	header(&b, "x", "A \\ \"quoted\"\nhelp.", "gauge")
	labels(&b, "version", "v1 \\ \"2\"\n", "goversion", "go")
	want := "# HELP x A \\\\ \"quoted\"\\nhelp.\n# TYPE x gauge\n" +
		`{version="v1 \\ \"2\"\n",goversion="go"}`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
