package mail

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, rawURL string
		// addr, implicitTLS, startTLS and password are what the sender must
		// hold.
		addr                  string
		implicitTLS, startTLS bool
		password              bool
	}{
		{"smtps", "smtps://u:Secr3t@mail.example.com", "mail.example.com:465",
			true, false, true},
		{"smtp", "smtp://u:Secr3t@mail.example.com", "mail.example.com:587",
			false, true, true},
		{"smtp without a password", "smtp://mail.example.com:2525", "mail.example.com:2525",
			false, true, false},
		{"user with an escaped @", "smtp://ann%40example.com:Secr3t@mail.example.com/",
			"mail.example.com:587", false, true, true},
		{"smtp+plain to 127.0.0.1", "smtp+plain://127.0.0.1", "127.0.0.1:25",
			false, false, false},
		{"smtp+plain to another loopback address", "smtp+plain://127.0.0.2:2525",
			"127.0.0.2:2525", false, false, false},
		{"smtp+plain to ::1", "smtp+plain://[::1]:2525", "[::1]:2525", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.rawURL, testFrom, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ss, ok := s.(*smtpSender)
			if !ok {
				t.Fatalf("New returned a %T", s)
			}
			if ss.addr != tt.addr || ss.implicitTLS != tt.implicitTLS ||
				ss.startTLS != tt.startTLS || (ss.creds != nil) != tt.password {
				t.Errorf("got addr %s, implicit TLS %t, STARTTLS %t, password %t",
					ss.addr, ss.implicitTLS, ss.startTLS, ss.creds != nil)
			}
			if ss.roots != nil || ss.timeout != sendTimeout {
				t.Errorf("roots %v and timeout %v are not the defaults", ss.roots, ss.timeout)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name, rawURL, from, dataDir, wantErr string
	}{
		{"smtp+plain to a remote address", "smtp+plain://10.0.0.1:25", testFrom, "d",
			"loopback"},
		{"smtp+plain to a name", "smtp+plain://localhost:25", testFrom, "d", "loopback"},
		{"smtp+plain with a password", "smtp+plain://u:Secr3t@127.0.0.1:25", testFrom, "d",
			"no password"},
		{"another scheme", "https://mail.example.com", testFrom, "d", "smtps://"},
		{"no scheme", "mail.example.com:587", testFrom, "d", "smtps://"},
		{"no host", "smtp://", testFrom, "d", "no host"},
		{"user without a password", "smtp://u@mail.example.com", testFrom, "d", "both"},
		{"password without a user", "smtp://:Secr3t@mail.example.com", testFrom, "d", "both"},
		{"a path", "smtp://mail.example.com/x", testFrom, "d", "no path"},
		{"a query", "smtp://mail.example.com?insecure_plain=loopback", testFrom, "d",
			"no path or query"},
		{"password that breaks the URL", "smtp://u:Secr3t/x@mail.example.com", testFrom,
			"d", "not a valid URL"},
		{"password with a bad escape", "smtp://u:Secr3t%zz@mail.example.com", testFrom,
			"d", "not a valid URL"},
		{"port from the password", "smtp://u:25/Secr3t@mail.example.com", testFrom,
			"d", "no path"},
		{"no sender", "", "", "d", "no sender"},
		{"sender with a header", "", "a@thunaivi.test\r\nBcc: eve@evil.test", "d",
			"line break"},
		{"sender not an address", "", "Thunaivi", "d", "sender address"},
		{"non-ASCII sender", "", "añ@thunaivi.test", "d", "not ASCII"},
		{"outbox without a data folder", "", testFrom, "", "data folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := tt.dataDir
			if dataDir != "" {
				dataDir = t.TempDir()
			}
			_, err := New(tt.rawURL, tt.from, dataDir)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "Secr3t") {
				t.Errorf("the error shows the password: %q", err)
			}
		})
	}
}
