package newsdesk

import "crypto/subtle"

// TokenEqual reports whether a token from a request (got) is the secret
// want: a private section's token or the admin token. It compares in
// constant time, so that the time taken does not tell how much of a guess
// was right, and an empty token matches nothing, not even an empty want.
// It is the one comparison for every secret newsdesk checks.
func TokenEqual(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
