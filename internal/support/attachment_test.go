package support_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/support"
)

func TestCleanName(t *testing.T) {
	long := strings.Repeat("é", 300) + ".pdf"
	for _, tc := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{`C:\Users\ana\Desktop\photo.png`, "photo.png"},
		{"folder/photo.png", "photo.png"},
		{"  .hidden.txt. ", "hidden.txt"},
		{"bill\x00\x07\n.pdf", "bill.pdf"},
		{"invoice\u202egnp.exe", "invoicegnp.exe"},
		{"\ufeffnotes.txt", "notes.txt"},
		{long, strings.Repeat("é", support.MaxNameRunes-4) + ".pdf"},
		{"../../etc/passwd", ""},
		{`..\boot.ini`, ""},
		{"a/ .. /b.txt", ""},
		{"...", ""},
		{"", ""},
		{"\xff\xfe.txt", ""},
	} {
		got, err := support.CleanName(tc.in)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("CleanName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if err != nil && !errors.Is(err, support.ErrInvalid) {
			t.Errorf("CleanName(%q): %v is not ErrInvalid", tc.in, err)
		}
	}
}

func TestCheckUpload(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, tc := range []struct {
		name    string
		content string
		want    string
		err     error
	}{
		{"a.png", string(png), "image/png", nil},
		{"a.PNG", string(png), "image/png", nil},
		{"a.jpg", string(png), "", support.ErrUnsupportedType},
		{"a.gif", "GIF89a\x01\x00", "image/gif", nil},
		{"a.jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", nil},
		{"a.webp", "RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", nil},
		{"a.pdf", "%PDF-1.7\n", "application/pdf", nil},
		{"a.txt", "hello\n", "text/plain; charset=utf-8", nil},
		{"a.csv", "a,b\n1,2\n", "text/csv; charset=utf-8", nil},
		{"a.txt", "<!DOCTYPE html><p>hi", "", support.ErrUnsupportedType},
		{"a.txt", "  <SVG onload=x>", "", support.ErrUnsupportedType},
		{"a.txt", "caf\xe9", "", support.ErrUnsupportedType},
		{"a.txt", "\xfe\xff\x00h\x00i", "", support.ErrUnsupportedType},
		{"a.html", "<p>hi", "", support.ErrUnsupportedType},
		{"a.svg", "<svg/>", "", support.ErrUnsupportedType},
		{"a.exe", "MZ\x90\x00", "", support.ErrUnsupportedType},
		{"a.zip", "PK\x03\x04", "", support.ErrUnsupportedType},
		{"a.txt", "", "", support.ErrInvalid},
		{"a.txt", strings.Repeat("a", 101), "", support.ErrTooLong},
	} {
		f, err := support.CheckUpload(support.Upload{Name: tc.name,
			Content: []byte(tc.content)}, 100)
		if f.ContentType != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("CheckUpload(%q, %q) = %q, %v; want %q, %v", tc.name, tc.content,
				f.ContentType, err, tc.want, tc.err)
		}
		if err == nil && (len(f.SHA256) != 64 || f.Size != int64(len(tc.content))) {
			t.Errorf("CheckUpload(%q): digest %q, size %d", tc.name, f.SHA256, f.Size)
		}
	}
}

// FuzzCheckUpload checks that whatever name and content a client sends, a
// file is stored only under a clean name and as a type it was checked to be,
// never as something a browser would render or run.
func FuzzCheckUpload(f *testing.F) {
	f.Add("photo.png", []byte("\x89PNG\r\n\x1a\n"))
	f.Add("../x.txt", []byte("hello"))
	f.Add("a\u202e.txt", []byte("<svg/>"))
	f.Add(`C:\a\b.csv`, []byte("a,b"))
	f.Add("x.pdf", []byte("%PDF-"))
	f.Fuzz(func(t *testing.T, name string, content []byte) {
		if clean, err := support.CleanName(name); err == nil {
			if again, err := support.CleanName(clean); err != nil || again != clean {
				t.Fatalf("CleanName(%q) = %q, which cleans to %q, %v", name, clean, again, err)
			}
			if clean == "" || !utf8.ValidString(clean) ||
				utf8.RuneCountInString(clean) > support.MaxNameRunes ||
				strings.ContainsAny(clean, `/\`) || strings.ContainsFunc(clean, func(r rune) bool {
				return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
			}) {
				t.Fatalf("CleanName(%q) = %q", name, clean)
			}
		}
		file, err := support.CheckUpload(support.Upload{Name: name, Content: content}, 1<<20)
		if err != nil {
			return
		}
		sniffed := http.DetectContentType(content)
		switch file.ContentType {
		case "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf":
			if sniffed != file.ContentType {
				t.Fatalf("%q stored as %s, sniffed as %s", name, file.ContentType, sniffed)
			}
		case "text/plain; charset=utf-8", "text/csv; charset=utf-8":
			if sniffed != "text/plain; charset=utf-8" || !utf8.Valid(content) {
				t.Fatalf("%q stored as %s, sniffed as %s", name, file.ContentType, sniffed)
			}
		default:
			t.Fatalf("%q stored as %s", name, file.ContentType)
		}
	})
}
