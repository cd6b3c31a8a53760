package querykey

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
)

// DigestLen is the number of characters Key appends to the prefix.
const DigestLen = 32

// digestBytes is how much of the SHA-256 sum a key keeps. SHA-256 truncated
// to n bits is as good as an n-bit hash (SHA-224 and SHA-512/256 are built the
// same way). 192 bits cost the same 32 characters in base64url that 128 bits
// cost in hex, and they leave finding any two colliding statements at 2^96
// work: with 128 bits the 2^64 birthday bound would be within reach of a
// well-funded attacker who chooses the vars of both statements.
const digestBytes = DigestLen * 3 / 4

// format opens every encoded statement. Bump it whenever the encoding
// changes, so that processes running two versions side by side against one
// shared store never read each other's entries under a colliding key.
const format = "gormcache/querykey/v1\x00"

// maxBuf is the largest buffer returned to the pool; a statement with huge
// vars should not pin its buffer for the life of the process.
const maxBuf = 64 << 10

var encoders = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 1024)} }}

// Key returns prefix followed by DigestLen characters of unpadded base64url
// that identify the statement: the database it reads (its database, the
// Dialector's Name; gormcache adds which database of that database), its
// built SQL, its vars and the shape of its destination (any string that tells apart
// destinations a hit must be decoded into differently). The prefix is copied
// verbatim, not hashed, so that keys can be listed and deleted by prefix;
// the digest's fixed length keeps keys with different prefixes apart.
//
// Keys are stable across processes and restarts; a release that changes the
// encoding changes every key. Key fails, with an error starting with
// "querykey:", when a var's Value method fails or panics, or, wrapping
// ErrUnsupported, when a var has a type that cannot be encoded (see the
// package documentation); the statement must then not be cached. It is safe
// for concurrent use and allocates only the returned string unless a var is a
// map or a driver.Valuer.
func Key(prefix, database, sql string, vars []any, shape string) (string, error) {
	var digest [DigestLen]byte
	if err := sum(&digest, database, sql, vars, shape); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(prefix) + DigestLen)
	b.WriteString(prefix)
	b.Write(digest[:])
	return b.String(), nil
}

// AppendKey appends the key that Key returns to dst and returns the extended
// slice; on error it returns dst unchanged. It allocates nothing when dst has
// room for len(prefix)+DigestLen more bytes and no var is a map or a
// driver.Valuer.
func AppendKey(dst []byte, prefix, database, sql string, vars []any, shape string) ([]byte, error) {
	var digest [DigestLen]byte
	if err := sum(&digest, database, sql, vars, shape); err != nil {
		return dst, err
	}
	dst = append(dst, prefix...)
	return append(dst, digest[:]...), nil
}

// sum writes the base64url digest of the statement into digest.
func sum(digest *[DigestLen]byte, database, sql string, vars []any, shape string) error {
	e := encoders.Get().(*encoder)
	defer func() {
		if cap(e.buf) <= maxBuf {
			encoders.Put(e)
		}
	}()
	if err := e.statement(database, sql, vars, shape); err != nil {
		return err
	}
	h := sha256.Sum256(e.buf)
	base64.RawURLEncoding.Encode(digest[:], h[:digestBytes])
	return nil
}

// statement replaces e.buf with the canonical encoding of a statement.
func (e *encoder) statement(database, sql string, vars []any, shape string) error {
	e.buf = append(e.buf[:0], format...)
	e.buf = appendSized(e.buf, database)
	e.buf = appendSized(e.buf, sql)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(vars)))
	for i, v := range vars {
		e.arg = i
		if err := e.value(v, 0); err != nil {
			return err
		}
	}
	e.buf = appendSized(e.buf, shape)
	return nil
}
