package gormcache

import (
	"encoding"
	"encoding/binary"
	"fmt"

	"github.com/gormcache/gormcache/internal/replay"
)

// An entry's value is: a version byte, the statement's SQL with its vars
// inlined (for people reading the cache: the admin pages), and the recorded
// rows.
const entryVersion = 1

// encodeEntry encodes an entry's value; rows is a *replay.Rowset or a
// *replay.Recorder.
func encodeEntry(sql string, rows encoding.BinaryAppender) ([]byte, error) {
	b := make([]byte, 0, 256+len(sql))
	b = append(b, entryVersion)
	b = binary.AppendUvarint(b, uint64(len(sql)))
	b = append(b, sql...)
	return rows.AppendBinary(b)
}

// splitEntry returns the SQL and the encoded rows of an entry's value.
func splitEntry(b []byte) (sql, rows []byte, err error) {
	if len(b) == 0 || b[0] != entryVersion {
		return nil, nil, fmt.Errorf("gormcache: cache entry of an unknown version")
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)-1-w) {
		return nil, nil, replay.ErrCorrupt
	}
	start := 1 + w
	return b[start : start+int(n)], b[start+int(n):], nil
}

// entryRows decodes the rows of an entry's value; they keep references into b.
func entryRows(b []byte) (*replay.Rowset, error) {
	_, rows, err := splitEntry(b)
	if err != nil {
		return nil, err
	}
	return replay.Decode(rows)
}
