// Package markdown writes text people typed into Markdown the product
// exports (postmortems, checklists) so that it reads as itself: no heading,
// emphasis, link, image, table cell or raw HTML it did not mean.
package markdown

import "strings"

// active are the characters that can make Markdown of plain text: emphasis,
// code, links and images, headings (including "===" and "---" under a line),
// tables, and HTML.
const active = "\\`*_[]()#!|<>=~-+{}"

// Escape backslash-escapes every active character, as CommonMark allows for
// any punctuation, and writes "<" as an entity.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case strings.ContainsRune(active, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Line is text on one line, fit for a heading, a list item or a table cell.
func Line(s string) string { return Escape(strings.Join(strings.Fields(s), " ")) }

// Block is text that keeps its lines, as a paragraph.
func Block(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "\n")
}
