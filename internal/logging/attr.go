package logging

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/thunaivi/thunaivi/internal/config"
)

// RedactAttr returns a with its value redacted by its name and by the format
// rules, groups and LogValuers included.
func RedactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch classify(a.Key) {
	case codeName:
		if v.Kind() != slog.KindBool && !isEmpty(v) {
			return slog.String(a.Key, redacted)
		}
	case secretName:
		if !isScalar(v) && !isEmpty(v) {
			return slog.String(a.Key, redacted)
		}
	case urlName:
		if v.Kind() == slog.KindString && v.String() != "" {
			return slog.String(a.Key, Redact(config.RedactURL(v.String())))
		}
	}
	return slog.Attr{Key: a.Key, Value: redactValue(v)}
}

func isEmpty(v slog.Value) bool { return v.Kind() == slog.KindString && v.String() == "" }

// isScalar reports whether v is a number, bool, duration or time.
func isScalar(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindString, slog.KindAny, slog.KindGroup, slog.KindLogValuer:
		return false
	}
	return true
}

// redactValue applies the format rules to the text in a resolved value.
func redactValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(Redact(v.String()))
	case slog.KindGroup:
		as := v.Group()
		out := make([]slog.Attr, len(as))
		for i, a := range as {
			out[i] = RedactAttr(a)
		}
		return slog.GroupValue(out...)
	case slog.KindAny:
		return redactAny(v.Any())
	}
	return v
}

func redactAny(x any) slog.Value {
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(Redact(safeText(x.Error)))
	case fmt.Stringer:
		return slog.StringValue(Redact(safeText(x.String)))
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = Redact(s)
		}
		return slog.AnyValue(out)
	case []byte:
		return slog.StringValue(Redact(string(x)))
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return slog.StringValue(Redact(err.Error()))
		}
		return slog.StringValue(Redact(string(b)))
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.String:
		return slog.StringValue(Redact(rv.String()))
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct, reflect.Pointer:
		return redactStructured(x)
	}
	return slog.AnyValue(x)
}

// safeText calls a String or Error method, which may panic on a nil
// receiver, as fmt does.
func safeText(f func() string) (s string) {
	defer func() {
		if recover() != nil {
			s = "<nil>"
		}
	}()
	return f()
}

// redactStructured redacts a map, slice or struct through its JSON encoding,
// so that fields are judged by name like attributes are.
func redactStructured(x any) slog.Value {
	b, err := json.Marshal(x)
	if err != nil {
		return slog.StringValue(Redact(fmt.Sprintf("%+v", x)))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return slog.StringValue(Redact(string(b)))
	}
	out, err := json.Marshal(redactJSON("", v))
	if err != nil {
		return slog.StringValue(redacted)
	}
	return slog.AnyValue(jsonText(out))
}

// redactJSON redacts a decoded JSON value found under key.
func redactJSON(key string, v any) any {
	c := classify(key)
	switch v := v.(type) {
	case string:
		switch {
		case v == "":
			return v
		case c >= secretName:
			return redacted
		case c == urlName:
			return Redact(config.RedactURL(v))
		}
		return Redact(v)
	case json.Number:
		if c == codeName {
			return redacted
		}
	case map[string]any:
		if c >= secretName {
			return redacted
		}
		for k, e := range v {
			v[k] = redactJSON(k, e)
		}
	case []any:
		if c >= secretName {
			return redacted
		}
		for i, e := range v {
			v[i] = redactJSON("", e)
		}
	}
	return v
}

// jsonText is JSON that both handlers write as it is: the JSON handler as a
// value, the text handler as text.
type jsonText []byte

func (j jsonText) MarshalJSON() ([]byte, error) { return j, nil }
func (j jsonText) MarshalText() ([]byte, error) { return j, nil }
