// Package logging builds the product's logger: log/slog behind a handler that
// removes secrets and masks personal data before anything is written, to the
// console and to a warnings file that `thunaivi diag` can hand to a vendor.
//
// # Attribute keys
//
// Every package logs with the same keys, in snake_case:
//
//	request_id       the HTTP request a record belongs to
//	user_id          a member of a workspace
//	workspace_id     the workspace a record concerns
//	inbox_id         an inbox
//	conversation_id  a conversation
//	method, path     the request's method and URL path
//	status           the response's HTTP status
//	duration_ms      how long something took, in milliseconds
//	error            an error, logged as its message
//	count            how many things a step handled
//	engine           the database engine, sqlite or postgres
//	addr, url        where the product listens and is reached
//
// A record logged with a context (InfoContext and the like) that carries no
// request_id gets one from [origin.RequestFrom], when the context holds a
// request.
//
// # Secrets, by attribute name
//
// A name is split into words at _ - . and spaces, at case changes and at
// digits, and compared word by word ignoring case, so api_key, apiKey and
// X-Api-Key all hold the word key while monkey does not. The value of an
// attribute whose name holds one of these words, or their plurals, becomes
// [redacted]:
//
//	secret token password passwd pwd passphrase key apikey authorization
//	cookie session credential signature sig dsn totp otp
//
// and so does a word that contains token, secret, passw, apikey, cookie,
// session or credential (accessToken, sessionid). Two words count only with
// a qualifier: code alone or beside recovery, totp, otp, mfa,
// verification, setup, invite, reset or login (recovery_code, but not
// status_code); link beside one of those (setup_link, invite_link). A name
// ending in id or ids is shown, since an id names a secret without revealing
// it (key_id, apikey_id, token_id), except a session's: the session id is the
// session cookie. A number, bool, duration or time under a secret name is
// shown (a count of tokens is no token); under a password, totp, otp or code
// name only a bool is. An empty string stays empty, so that a missing secret
// can be told from a present one.
//
// A name with url, uri or href, or an unqualified link (database_url,
// webhook_url), keeps its value without the password, as
// [config.RedactURL] does, and then gets the rules below.
//
// # Secrets and personal data, by format
//
// Maps, slices and structs are judged through their JSON encoding, field
// names included, and written as JSON. Every string (the message, values,
// groups, errors, fmt.Stringer and encoding.TextMarshaler values, []string
// elements) is searched for:
//
//   - Thunaivi tokens: thv_, two letters, _, then the body, as in thv_wt_ and
//     thv_sk_; the prefix stays, the body goes.
//   - Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key and
//     X-Auth-Token header lines: the rest of the line goes.
//   - Bearer credentials, unless the word after Bearer is a plain word of at
//     most 15 letters (as in "bearer token expired"); Basic credentials that
//     decode to user:password.
//   - URL passwords (postgres://app:xxxxx@db), written xxxxx as
//     [config.RedactURL] writes them.
//   - name=value pairs, in URL queries, DSNs and free text, and "name": value
//     pairs in JSON text, whose name is secret by the rules above (setup and
//     invitation links: /setup?token=[redacted]).
//   - Email addresses, masked to their first character and domain:
//     j***@example.com.
//   - Phone numbers, every digit but the last two masked. To leave ids,
//     timestamps, durations, dates, addresses and versions alone, a number
//     counts as a phone number only when it starts with +, has its area code
//     in parentheses, is written 555-123-4567, or starts with a 0 trunk
//     prefix and is split in groups (020 7946 0958, 06 12 34 56 78).
package logging
