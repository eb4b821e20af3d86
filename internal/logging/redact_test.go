package logging

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("ann:pa55word"))
	tests := []struct {
		name, in, want string
	}{
		{"thunaivi widget token", "token thv_wt_AbC-dEf_123 here", "token thv_wt_[redacted] here"},
		{"thunaivi api key", "key=thv_sk_9fK2", "key=[redacted]"},
		{"thunaivi key in prose", "used thv_sk_9fK2x.", "used thv_sk_[redacted]."},
		{"session cookie name is no token", "thv_session expired", "thv_session expired"},
		{"bearer", "got Bearer eyJhbGciOi.J9x-_ end", "got Bearer [redacted] end"},
		{"bearer as a word", "missing bearer token", "missing bearer token"},
		{"basic", "Basic " + basic, "Basic [redacted]"},
		{"basic as a word", "a basic question", "a basic question"},
		{"authorization header", "Authorization: Bearer abc\nnext",
			"Authorization: [redacted]\nnext"},
		{"cookie header", "Cookie: a=b; thv_session=x", "Cookie: [redacted]"},
		{"set-cookie header", "set-cookie:sid=1; Path=/", "set-cookie:[redacted]"},
		{"api key header", "X-Api-Key: k123", "X-Api-Key: [redacted]"},
		{"url password", "postgres://app:s3cr3t@db:5432/thunaivi",
			"postgres://app:xxxxx@db:5432/thunaivi"},
		{"url password with @", "postgres://app:p@ss@db/x", "postgres://app:xxxxx@db/x"},
		{"url without password", "https://ann@example.com/x", "https://a***@example.com/x"},
		{"setup link", "https://h.example/setup?token=XYZ123",
			"https://h.example/setup?token=[redacted]"},
		{"invitation link", "open https://h/invite?token=abc&x=1 now",
			"open https://h/invite?token=[redacted]&x=1 now"},
		{"query parameters", "/cb?code=c0de&state=s&sig=ab12&X-Amz-Signature=ff&api_key=k",
			"/cb?code=[redacted]&state=s&sig=[redacted]&X-Amz-Signature=[redacted]" +
				"&api_key=[redacted]"},
		{"query parameter named like an id", "/k?key_id=k_1&status_code=200",
			"/k?key_id=k_1&status_code=200"},
		{"dsn", "host=db user=app password='my secret' dbname=x",
			"host=db user=app password='[redacted]' dbname=x"},
		{"flag", "--password=hunter2 --addr=:80", "--password=[redacted] --addr=:80"},
		{"json", `{"api_key":"k-1","status_code":500,"otp":123456,"tokens":12}`,
			`{"api_key":"[redacted]","status_code":500,"otp":"[redacted]","tokens":12}`},
		{"email", "write to john.doe+x@mail.example.com failed",
			"write to j***@mail.example.com failed"},
		{"email in a url", "mailto:ann@example.org", "mailto:a***@example.org"},
		{"handle", "from @ann@social.example", "from @a***@social.example"},
		{"two at signs", "0@0.AA@0.AA", "0***@0.AA@0.AA"},
		{"phone with country code", "call +1 (555) 123-4567", "call +* (***) ***-**67"},
		{"phone compact", "tel:+447911123456.", "tel:+**********56."},
		{"phone with dashes", "555-123-4567", "***-***-**67"},
		{"phone with a trunk prefix", "020 7946 0958", "*** **** **58"},
		{"phone in pairs", "06 12 34 56 78", "** ** ** ** 78"},
		{"phone in parentheses", "(030) 1234 5678", "(***) **** **78"},
		{"no secret", "Request failed", "Request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := Redact(got); again != got {
				t.Errorf("redacting again changed %q to %q", got, again)
			}
		})
	}
}

// TestRedactLeavesNumbers checks that ids, timestamps, durations, dates,
// addresses and versions are not taken for phone numbers.
func TestRedactLeavesNumbers(t *testing.T) {
	for _, s := range []string{
		"1718000000000",
		"at 1718000000000 ms",
		"cv_01hzx4k8m9ab7c3d5e6f",
		"ws_1718000000000",
		"took 1.234567s",
		"duration_ms=12345678",
		"2024-01-15 10:30:00",
		"2024-01-15T10:30:00.123456789+02:00",
		"m=+12.345678901",
		"192.168.100.200:5432",
		"v1.26.8 go1.26.8",
		"ports 5432 8080 9090",
		"123e4567-e89b-12d3-a456-426614174000",
		"12345678-1234-1234-1234-123456789012",
		"request 4f3c2a1b9d8e7f60",
		"1e+10 and 3.14159265",
		"count 12 345 678",
		"SQLSTATE 23505",
		"goroutine 12 [running]:\nmain.f()\n\t/src/x.go:123 +0x1a5",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		want nameClass
	}{
		{"monkey", plainName}, {"keyboard", plainName}, {"turkey_count", plainName},
		{"author", plainName}, {"request_id", plainName}, {"user_id", plainName},
		{"workspace_id", plainName}, {"key_id", plainName}, {"apikey_id", plainName},
		{"token_id", plainName}, {"status_code", plainName}, {"error_code", plainName},
		{"api_key", secretName}, {"apiKey", secretName}, {"APIKey", secretName},
		{"X-Api-Key", secretName}, {"apikey", secretName}, {"widget_token", secretName},
		{"visitor_token", secretName}, {"accessToken", secretName}, {"secret", secretName},
		{"client_secret", secretName}, {"Authorization", secretName},
		{"cookie", secretName}, {"Set-Cookie", secretName}, {"session_cookie", secretName},
		{"session", secretName}, {"sessionId", secretName}, {"session_id", secretName},
		{"sessionid", secretName}, {"dsn", secretName}, {"setup_link", secretName},
		{"invite_link", secretName}, {"signature", secretName}, {"sig", secretName},
		{"tokens", secretName}, {"audit_key", secretName},
		{"password", codeName}, {"admin_password", codeName}, {"passwd", codeName},
		{"pwd", codeName}, {"newPassword", codeName}, {"totp", codeName}, {"otp", codeName},
		{"code", codeName}, {"recovery_code", codeName}, {"recovery_codes", codeName},
		{"database_url", urlName}, {"databaseURL", urlName}, {"url", urlName},
		{"webhook_url", urlName}, {"link", urlName}, {"", plainName}, {"_-.", plainName},
	}
	for _, tt := range tests {
		if got := classify(tt.name); got != tt.want {
			t.Errorf("classify(%q) = %d, want %d", tt.name, got, tt.want)
		}
	}
}

type secretHolder struct{ token string }

func (s secretHolder) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", s.token), slog.String("kind", "widget"))
}

type stringer string

func (s stringer) String() string { return "holder of " + string(s) }

type credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Note     string `json:"note"`
}

func TestRedactAttr(t *testing.T) {
	tests := []struct {
		name string
		in   slog.Attr
		want string
	}{
		{"secret name", slog.String("api_key", "k-1"), "api_key=[redacted]"},
		{"empty secret", slog.String("password", ""), `password=""`},
		{"count under a secret name", slog.Int("tokens", 512), "tokens=512"},
		{"numeric code", slog.Int("code", 123456), "code=[redacted]"},
		{"numeric password", slog.Int("password", 1234), "password=[redacted]"},
		{"database url", slog.String("database_url", "postgres://app:pw1@db/x"),
			"database_url=postgres://app:xxxxx@db/x"},
		{"error", slog.Any("error", errors.New("dial postgres://a:pw1@db: refused")),
			`error="dial postgres://a:xxxxx@db: refused"`},
		{"stringer", slog.Any("who", stringer("ann@example.com")),
			`who="holder of a***@example.com"`},
		{"strings", slog.Any("to", []string{"ann@example.com", "bo@example.com"}),
			"to=\"[a***@example.com b***@example.com]\""},
		{"log valuer", slog.Any("holder", secretHolder{"t0k"}),
			"holder.token=[redacted] holder.kind=widget"},
		{"group", slog.Group("req", slog.String("Cookie", "a=b"), slog.Int("status", 200)),
			"req.Cookie=[redacted] req.status=200"},
		{"header", slog.Any("headers", http.Header{"Authorization": {"Bearer x1"},
			"Accept": {"text/html"}}),
			`headers="{\"Accept\":[\"text/html\"],\"Authorization\":\"[redacted]\"}"`},
		{"struct", slog.Any("creds", credentials{"ann", "pw1", "call +44 20 7946 0958"}),
			`creds="{\"note\":\"call +** ** **** **58\",\"password\":\"[redacted]\",` +
				`\"user\":\"ann\"}"`},
		{"url", slog.Any("link", &url.URL{Scheme: "https", Host: "h", Path: "/invite",
			RawQuery: "token=abc"}), `link="https://h/invite?token=[redacted]"`},
		{"duration", slog.Duration("took", time.Second), "took=1s"},
		{"int", slog.Int64("at", 1718000000000), "at=1718000000000"},
		{"bytes", slog.Any("body", []byte("password=pw1")), `body="password=[redacted]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := textOf(t, RedactAttr(tt.in))
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
