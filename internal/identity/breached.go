package identity

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// BreachCheck looks new passwords up in a corpus of breached passwords
// online, with the k-anonymity range query of Pwned Passwords: only the first
// five hex digits of the password's SHA-1 leave the server, and the answer
// lists every hash that starts with them. It is optional; without it only the
// shipped list is checked.
type BreachCheck struct {
	// Base is the service's address, such as https://api.pwnedpasswords.com.
	Base   string
	Client *http.Client
}

// breachTimeout bounds a lookup: a slow service must not hold a sign-up.
const breachTimeout = 3 * time.Second

// Breached reports whether pw appears in the corpus.
func (b *BreachCheck) Breached(ctx context.Context, pw string) (bool, error) {
	sum := sha1.Sum([]byte(pw))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	ctx, cancel := context.WithTimeout(ctx, breachTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		strings.TrimRight(b.Base, "/")+"/range/"+h[:5], nil)
	if err != nil {
		return false, err
	}
	// Padding hides from an eavesdropper, by the answer's size, which
	// prefix was asked for.
	req.Header.Set("Add-Padding", "true")
	client := b.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("identity: breached-password check: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, fmt.Errorf("identity: breached-password check: status %d", res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		suffix, count, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if ok && strings.EqualFold(suffix, h[5:]) {
			n, _ := strconv.Atoi(count)
			return n > 0, nil // padding lines have a count of 0
		}
	}
	return false, sc.Err()
}
