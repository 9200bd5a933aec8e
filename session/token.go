package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// maxTokenLen bounds the tokens the manager will look up. NextAuth's tokens
// are 36 (UUID) or 64 (hex) characters; custom generators get some room.
const maxTokenLen = 512

// NewUUIDToken returns a random UUID version 4 from crypto/rand, the token
// NextAuth itself creates with crypto.randomUUID().
func NewUUIDToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:]), nil
}

// IsNextAuthToken reports whether t has the shape of a token NextAuth
// creates: a UUID (v4 and v5) or 64 hexadecimal digits (v4's fallback).
func IsNextAuthToken(t string) bool {
	switch len(t) {
	case 36:
		for i := 0; i < len(t); i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if t[i] != '-' {
					return false
				}
			} else if !isHex(t[i]) {
				return false
			}
		}
		return true
	case 64:
		for i := 0; i < len(t); i++ {
			if !isHex(t[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// isPlausibleToken is the check for tokens from a custom generator: 1 to
// maxTokenLen bytes of characters that appear in URL-safe, base64 and hex
// encodings.
func isPlausibleToken(t string) bool {
	if len(t) == 0 || len(t) > maxTokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == '~', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// HashToken returns the hex SHA-256 of a token: what is stored in place of
// the token when Config.HashTokens is set.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Handle returns a short identifier of the session that is safe to show in
// pages and forms: it names the session without revealing its token.
func (s Session) Handle() string {
	sum := sha256.Sum256([]byte("nextsession handle\x00" + s.Token))
	return hex.EncodeToString(sum[:12])
}
