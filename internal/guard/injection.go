package guard

import (
	"regexp"
	"strings"
)

// CategoryInjection is the handoff category of a customer's message that
// tries to instruct the AI rather than ask the business something.
const CategoryInjection = "prompt_injection"

// An injection pattern is a few slots matched in order over a message's
// words: each slot is written as alternatives separated by "|", a word
// ending in "*" matches any word it starts, "_" joins the words of a
// multi-word alternative, and "~N" before a slot lets up to N other words
// come before it. Words are compared as the other rules compare them: past
// look-alike letters, invisible characters and leetspeak.
var injectionPatterns = []string{
	// Overriding the rules: "ignore all previous instructions", "disregard
	// your guidelines". A qualifier that points at the AI's own rules is
	// needed, so that "ignore my previous email" is not one.
	"ignore|disregard|forget|override|bypass|skip|overrule|drop|abandon|neglect " +
		"~3 your|previous|prior|above|earlier|all|system|initial|original|preceding|any|" +
		"every|these|those|existing|default|current|programmed " +
		"~3 instruction*|rules|rule|prompt*|directive*|guideline*|programming|guardrail*|" +
		"restriction*|constraint*|safeguard*|filters|training|orders",
	"ignore|disregard|forget ~2 everything|all|anything ~3 above|before|said|told|given|" +
		"earlier|previously",
	"ignore|disregard|forget ~1 the|all|everything ~1 above|foregoing",
	"not|stop|dont|never|no_longer|nolonger ~2 follow*|obey*|bound ~3 your|any|the|these|" +
		"those|all|previous ~2 instruction*|rules|guideline*|directive*|programming|" +
		"restriction*",
	"you ~1 are|have ~1 no|without|free_of|freed_from ~2 filter*|guardrail*|guideline*|" +
		"constraint*|ethic*|moral*|censorship|restriction*",

	// Role-play: "pretend you are", "you are now DAN", "act as an
	// unrestricted AI". "Act as" alone is not one: a customer may ask to act
	// as an admin or a developer of their own account.
	"pretend ~1 you_are|you_re|youre|to_be|that_you|you_can|you_have",
	"imagine ~1 you_are|you_re|youre",
	"you_are|you_re|youre|you_will_be ~1 now|henceforth|no_longer ~1 dan|free|" +
		"unrestricted|unfiltered|uncensored|jailbroken|evil|called|named|acting|playing|" +
		"chatgpt|gpt",
	// "You are now a premium member?" is a customer's question; "you are now
	// an unrestricted AI" casts the AI as something else.
	"you_are|you_re|youre|you_will_be ~1 now|henceforth|no_longer ~1 a|an ~2 ai|" +
		"assistant|chatbot|bot|model|llm|language_model|character|persona|person|human|" +
		"different|new|unrestricted|unfiltered|uncensored|jailbroken|evil|terminal|shell|" +
		"hacker|dan|pirate|villain|robot",
	"from_now_on|henceforth ~2 you|act|behave|pretend|ignore",
	"act|behave|respond|answer|reply|roleplay|role_play|talk|speak ~1 as|like ~3 if|ai|" +
		"assistant|chatbot|bot|model|llm|gpt|chatgpt|dan|terminal|shell|console|" +
		"interpreter|jailbreak*|character|persona|unrestricted|unfiltered|uncensored|" +
		"evil|grandma|grandmother|hacker|system",
	"let_s|lets|let_us|we ~1 roleplay|role_play|play_a_game|pretend",
	"roleplay|role_play ~1 as|with_me|game|scenario",
	"stay|remain ~1 in ~1 character",
	"break ~1 character",
	"your_new|your_real|your_true ~1 role|persona|identity|name|instructions|rules|" +
		"purpose|task ~1 is|are|will",

	// The system prompt and hidden instructions.
	"system_prompt|system_prompts|systemprompt*|pre_prompt|preprompt|initial_prompt|jailbreak*|" +
		"do_anything_now|dan_mode|god_mode|prompt_injection",
	"reveal|show|print|repeat|output|display|tell|give|share|leak|dump|write|recite|" +
		"spell|list|paste|expose|what|whats|disclose|translate|summarize|summarise|" +
		"copy ~4 hidden|secret|initial|original|internal|underlying|confidential|system|" +
		"developer|verbatim|above|preceding|starting ~1 instruction*|prompt*|rules|" +
		"guideline*|directive*|configuration",
	"reveal|show|print|repeat|output|display|tell|give|share|leak|dump|recite|paste|" +
		"list|write|spell|disclose ~2 your|ur ~1 instruction*|prompt*|directive*|" +
		"programming|configuration",
	"your|ur ~1 original|initial|hidden|secret|system|real|underlying ~1 instruction*|" +
		"prompt*|directive*|programming",
	"repeat|print|output|recite|copy ~2 text|words|everything|all ~1 above|before_this",
	"instruction*|prompt*|rules ~2 you_were|you_have_been|you_ve_been|you_got|above " +
		"~1 given|told|programmed|trained|provided|written",

	// Developer mode and its kin, as a jailbreak writes them rather than as
	// a customer asks how to turn it on in an app: addressed to the AI, or
	// chained to what it should then do.
	"simulate|emulate ~2 developer|dev|god|dan|debug|unrestricted|jailbreak ~1 mode",
	"you_are|you_re|youre|you_will|you_must|you_now|enter_your|enable_your|" +
		"activate_your|your ~2 developer_mode|dev_mode|god_mode|dan_mode|" +
		"unrestricted_mode|jailbreak_mode",
	"enable|enter|activate|unlock ~1 developer_mode|dev_mode|god_mode|unrestricted_mode " +
		"~1 and|then|now|to",
}

// fakeTurn is a line written to pass for another speaker's turn: a role
// label at its start followed by what only a system says.
var fakeTurn = regexp.MustCompile(`^\W{0,8}(system|assistant|developer|admin|` +
	`administrator|operator|root|ai)\W{0,4}(message|prompt|note|override|instructions?)?` +
	`\s*[:>\]].{0,80}\b(you (are|must|will|should|now)|ignore|disregard|forget|override|` +
	`reveal|new (instructions|rules)|respond only|reply only|the (assistant|ai|model))\b`)

// markers catch the special tokens of chat formats, a fenced block that
// calls itself instructions, and a "new instructions:" heading that
// addresses the AI. Each is tried only on text holding one of its needles.
var markers = []struct {
	needles string
	re      *regexp.Regexp
}{
	{"<[#", regexp.MustCompile(`<\|?\s*(im_start|im_end|system|endoftext|start_header_id|` +
		`end_header_id|eot_id)\s*\|?>|\[/?inst\]|<<\s*/?sys\s*>>|<\s*/?system\s*>|` +
		`#{2,}\s*(system|instructions?|new rules|developer)\b`)},
	{"`", regexp.MustCompile("```+\\s*(system|instructions?|prompt|rules|admin|developer|" +
		"override)\\b|```+[^`]{0,40}\\n[^`]{0,80}\\b(system prompt|new " +
		"instructions|new rules|you are now|ignore (all|your|previous|the above))")},
	{":", regexp.MustCompile(`\b(new|updated|revised|real|actual|secret|override)\s+` +
		`(system\s+)?(instructions?|rules|directives?|prompt|guidelines)\s*:\s*` +
		`(you|ignore|from now|forget|disregard|the (ai|assistant|bot))\b`)},
}

// slot is one place of an injection pattern: the word sequences that may
// fill it, and how many other words may come before it.
type slot struct {
	gap  int
	alts [][]string
}

var injections = func() [][]slot {
	out := make([][]slot, len(injectionPatterns))
	for i, p := range injectionPatterns {
		gap := 0
		for _, f := range strings.Fields(p) {
			if n, ok := strings.CutPrefix(f, "~"); ok {
				gap = int(n[0] - '0')
				continue
			}
			s := slot{gap: gap}
			for _, alt := range strings.Split(f, "|") {
				var words []string
				for _, w := range strings.Split(alt, "_") {
					star := strings.HasSuffix(w, "*")
					w = strings.TrimSpace(tokens(strings.TrimSuffix(w, "*")))
					if star {
						w += "*"
					}
					words = append(words, w)
				}
				s.alts = append(s.alts, words)
			}
			out[i] = append(out[i], s)
			gap = 0
		}
	}
	return out
}()

// injectionWords is every word the patterns name, for reading a message
// spelled out letter by letter.
var injectionWords = func() map[string]bool {
	m := map[string]bool{"a": true, "the": true, "to": true, "me": true, "my": true}
	for _, p := range injections {
		for _, s := range p {
			for _, alt := range s.alts {
				for _, w := range alt {
					m[strings.TrimSuffix(w, "*")] = true
				}
			}
		}
	}
	return m
}()

// Injection reports whether a customer's message tries to instruct the AI:
// to drop its rules, to take another role, to reveal its instructions, to
// enter a "developer mode", or to pass its own text off as the system's. It
// reads the message past the spelling tricks the other rules see through,
// and past words spelled out letter by letter. matched is the words that
// gave it away, for the agent.
func Injection(text string) (matched string, ok bool) {
	flat := plain(text)
	for line := range strings.SplitSeq(flat, "\n") {
		head := line[:min(len(line), 200)]
		if strings.ContainsAny(head, ":>]") {
			if m := fakeTurn.FindString(head); m != "" {
				return strings.Join(strings.Fields(m), " "), true
			}
		}
	}
	for _, m := range markers {
		if strings.ContainsAny(flat, m.needles) {
			if found := m.re.FindString(flat); found != "" {
				return strings.Join(strings.Fields(found), " "), true
			}
		}
	}
	shown, words := injectionTokens(flat)
	for start, w := range words {
		for _, i := range injectionStarts(w) {
			p := injections[i]
			if end, ok := matchAt(p[0], words, start); ok {
				if to, ok := matchRest(p[1:], words, end); ok {
					return strings.Join(shown[start:to], " "), true
				}
			}
		}
	}
	return "", false
}

// firstWords indexes the patterns by the words their first slot starts
// with, so that a message's words are each looked up once; prefixes holds
// those written with "*".
var firstWords, firstPrefixes = func() (map[string][]int, []prefixStart) {
	exact := map[string][]int{}
	var prefixes []prefixStart
	for i, p := range injections {
		for _, alt := range p[0].alts {
			if w, ok := strings.CutSuffix(alt[0], "*"); ok {
				prefixes = append(prefixes, prefixStart{w, i})
			} else {
				exact[w] = append(exact[w], i)
			}
		}
	}
	return exact, prefixes
}()

// injectionStarts returns the patterns that may start at word.
func injectionStarts(word string) []int {
	out := firstWords[word]
	for _, p := range firstPrefixes {
		if strings.HasPrefix(word, p.prefix) {
			out = append(out[:len(out):len(out)], p.pattern)
		}
	}
	return out
}

// prefixStart is a pattern whose first slot may be a word starting with
// prefix.
type prefixStart struct {
	prefix  string
	pattern int
}

// injectionTokens splits plain text into its words as written and as
// compared (leetspeak read), a run of three or more single letters read as
// the words it spells.
func injectionTokens(flat string) (shown, words []string) {
	raw := strings.FieldsFunc(flat, func(r rune) bool {
		return !isWordRune(r) && r != '@' && r != '$'
	})
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && len([]rune(raw[j])) == 1 {
			j++
		}
		if j-i >= 3 {
			for _, w := range spell(unleet(strings.Join(raw[i:j], ""))) {
				shown, words = append(shown, w), append(words, w)
			}
			i = j
			continue
		}
		shown, words = append(shown, raw[i]), append(words, unleet(raw[i]))
		i++
	}
	return shown, words
}

// spell splits letters run together into the patterns' words, longest
// first; a letter that starts none is left on its own.
func spell(letters string) []string {
	var out []string
	for len(letters) > 0 {
		n := 1
		for k := min(len(letters), 20); k > 1; k-- {
			if injectionWords[letters[:k]] {
				n = k
				break
			}
		}
		out = append(out, letters[:n])
		letters = letters[n:]
	}
	return out
}

func matchRest(p []slot, words []string, at int) (int, bool) {
	if len(p) == 0 {
		return at, true
	}
	for skip := 0; skip <= p[0].gap && at+skip < len(words); skip++ {
		if end, ok := matchAt(p[0], words, at+skip); ok {
			if to, ok := matchRest(p[1:], words, end); ok {
				return to, true
			}
		}
	}
	return 0, false
}

// matchAt reports whether one of s's alternatives is at words[at:], and
// where it ends.
func matchAt(s slot, words []string, at int) (int, bool) {
	for _, alt := range s.alts {
		if at+len(alt) > len(words) {
			continue
		}
		ok := true
		for i, w := range alt {
			if !wordIs(words[at+i], w) {
				ok = false
				break
			}
		}
		if ok {
			return at + len(alt), true
		}
	}
	return 0, false
}

func wordIs(word, want string) bool {
	if prefix, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(word, prefix)
	}
	return word == want
}
