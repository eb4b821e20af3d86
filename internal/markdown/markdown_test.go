package markdown_test

import (
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/markdown"
)

func TestTypedTextStaysText(t *testing.T) {
	for _, in := range []string{"# Heading", "Fake\n===", "x\n---", "<script>alert(1)</script>",
		"[click](javascript:alert(1))", "![img](https://evil.example/x.png)", "a | b",
		"**bold** _it_ `code`", "<img src=x onerror=alert(1)>"} {
		out := markdown.Block(in)
		for _, bad := range []string{"<", "](", "\n===", "\n---", "# ", "**", "| "} {
			if strings.Contains(out, bad) && !strings.Contains(out, "\\"+bad[:1]) {
				t.Errorf("%q became %q, which holds %q", in, out, bad)
			}
		}
		if strings.Contains(out, "<") {
			t.Errorf("%q kept a raw <: %q", in, out)
		}
	}
	if got := markdown.Line("a\n  b\tc"); got != "a b c" {
		t.Errorf("Line = %q", got)
	}
}
