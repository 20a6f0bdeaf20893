package websub

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

// Signatures (WebSub 3.8, 7.2). A hub that was given a hub.secret signs
// each delivery's body with HMAC and sends it as
// X-Hub-Signature: METHOD=HEX. newsdesk's hub signs with sha256; as a
// subscriber it accepts sha1, sha256, sha384 and sha512, because most hubs
// in use still sign with sha1.

// SignatureHeader is the header a signature travels in.
const SignatureHeader = "X-Hub-Signature"

// Sign returns the X-Hub-Signature value of body under secret: sha256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrUnsigned     = errors.New("the delivery is not signed (no X-Hub-Signature)")
	ErrBadSignature = errors.New("the delivery's signature does not match its body")
)

// Verify checks the X-Hub-Signature value sig of body under secret. It
// returns ErrUnsigned when sig is empty, ErrBadSignature when it does not
// match or names a method other than sha1, sha256, sha384 or sha512.
func Verify(secret string, body []byte, sig string) error {
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return ErrUnsigned
	}
	method, digest, ok := strings.Cut(sig, "=")
	if !ok {
		return ErrBadSignature
	}
	var h func() hash.Hash
	switch strings.ToLower(method) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		return ErrBadSignature
	}
	got, err := hex.DecodeString(digest)
	if err != nil {
		return ErrBadSignature
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), got) {
		return ErrBadSignature
	}
	return nil
}
