package compliance

import (
	"bytes"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown renders documents without passing raw HTML through (goldmark's
// default), with tables for the retention and response-time tables, and
// bare addresses as links.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table,
	extension.Linkify))

// sanitizer keeps what documents need (headings, lists, tables, links over
// http, https and mailto) and drops anything that could run: a document is
// written by an admin and read by anyone, so it is never trusted.
var sanitizer = bluemonday.UGCPolicy()

// HTML renders a document's Markdown as HTML safe to serve to anyone.
func HTML(md string) string {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(md), &b); err != nil {
		// goldmark fails only when the writer does; a buffer does not.
		return ""
	}
	return sanitizer.Sanitize(b.String())
}
