package websub

import (
	"errors"
	"testing"
)

// The HMAC test vectors of RFC 4231, test case 2 (key "Jefe"), and the
// RFC 2202 vector for HMAC-SHA1: a signature made elsewhere verifies here.
func TestVerifyKnownVectors(t *testing.T) {
	body := []byte("what do ya want for nothing?")
	for _, sig := range []string{
		"sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
		"sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"sha384=af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
		"sha512=164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
		"SHA256=5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843",
	} {
		if err := Verify("Jefe", body, sig); err != nil {
			t.Errorf("Verify(%s) = %v, want nil", sig, err)
		}
	}
	if got := Sign("Jefe", body); got != "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Errorf("Sign = %s", got)
	}
}

func TestVerifyRejects(t *testing.T) {
	body := []byte("<feed/>")
	good := Sign("s3cret", body)
	for _, tc := range []struct {
		name, secret, sig string
		body              []byte
		want              error
	}{
		{"unsigned", "s3cret", "", body, ErrUnsigned},
		{"wrong secret", "other", good, body, ErrBadSignature},
		{"body changed", "s3cret", good, []byte("<feed></feed>"), ErrBadSignature},
		{"unknown method", "s3cret", "md5=" + good[len("sha256="):], body, ErrBadSignature},
		{"no method", "s3cret", good[len("sha256="):], body, ErrBadSignature},
		{"not hex", "s3cret", "sha256=zz", body, ErrBadSignature},
		{"truncated", "s3cret", good[:len(good)-2], body, ErrBadSignature},
	} {
		if err := Verify(tc.secret, tc.body, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}
