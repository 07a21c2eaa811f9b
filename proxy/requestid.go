package proxy

import (
	"crypto/rand"
	"encoding/hex"
)

// maxRequestID is the longest client request id the proxy adopts.
const maxRequestID = 128

// requestID returns the client's X-Request-Id when it is sane (1 to 128
// characters of letters, digits and "-_.:"), or a fresh random id; ok
// reports the former. An id with anything else in it is replaced, never
// cleaned up, so it cannot carry log-breaking characters into the log
// line or the upstream call.
func requestID(fromClient string) (id string, ok bool) {
	if saneID(fromClient) {
		return fromClient, true
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:]), false
}

// saneID reports whether id may be used as a request id.
func saneID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}
