package llm

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// maxTokens bounds the tokens one call may be charged, so that a provider
// reporting nonsense cannot spend a month's budget many times over, nor
// overflow the count.
const maxTokens = 1 << 24

// completionBody is the part of a chat-completions answer the product reads.
type completionBody struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		TotalTokens int64 `json:"total_tokens"`
	} `json:"usage"`
}

// ParseCompletion reads a chat-completions answer: the first choice's
// message and the tokens the call cost. A text cut short (finish_reason
// "length") or withheld by the provider's filter is no answer: the rest of
// it is unknown. The tokens are set whenever the usage could be read, even
// when the text could not.
func ParseCompletion(raw []byte) (Completion, error) {
	var b completionBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return Completion{}, &Error{Kind: FailMalformed, Code: "not_json"}
	}
	var out Completion
	if b.Usage != nil && b.Usage.TotalTokens > 0 {
		out.Tokens = min(b.Usage.TotalTokens, maxTokens)
	}
	if len(b.Choices) == 0 || b.Choices[0].Message.Content == nil {
		return out, &Error{Kind: FailMalformed, Code: "no_message"}
	}
	switch b.Choices[0].FinishReason {
	case "length":
		return out, &Error{Kind: FailMalformed, Code: "cut_short"}
	case "content_filter":
		return out, &Error{Kind: FailMalformed, Code: "filtered"}
	}
	text := strings.TrimSpace(*b.Choices[0].Message.Content)
	if text == "" || !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return out, &Error{Kind: FailMalformed, Code: "no_text"}
	}
	out.Text = text
	return out, nil
}

// errorCode reads the type or code of a documented error body,
// {"error": {"message", "type", "code"}}, such as "invalid_api_key" or
// "server_error": lower-case letters and underscores, at most 40, or
// nothing. The message is left out, and so is a code of any other shape: a
// provider may quote the key it refused.
func errorCode(raw []byte) string {
	var b struct {
		Error struct {
			Type string `json:"type"`
			Code any    `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &b) != nil {
		return ""
	}
	code := b.Error.Type
	if s, ok := b.Error.Code.(string); ok && s != "" {
		code = s
	}
	if len(code) > 40 || strings.ContainsFunc(code, func(r rune) bool {
		return r != '_' && (r < 'a' || r > 'z')
	}) {
		return ""
	}
	return code
}
