package redis

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gormcache/gormcache/store"
)

// getScript returns the entry KEYS[1] if every stamp it recorded is still
// current under the epoch KEYS[2], and false otherwise. It reads the stamp
// keys named in the entry, which it is not given as KEYS, so it runs on a
// single node only; a sharded client validates in Go instead (see
// Store.validate).
//
// Each stamp field of the entry (see the key layout) holds the first 16 hex
// digits of SHA-1(raw ":" epoch), where raw and epoch are the raw values of
// the stamp and of the epoch when Stamps read them: see mix.
//
// ARGV[1] is "1" to get {value, remaining TTL in ms, field, recorded, ...}
// rather than the value alone.
var getScript = goredis.NewScript(`
local e = redis.call('HGETALL', KEYS[1])
local value, epoch
local checks = {}
for i = 1, #e, 2 do
  local f, recorded = e[i], e[i + 1]
  if f == 'v' then
    value = recorded
  elseif f ~= 't' then
    epoch = epoch or redis.call('HGET', KEYS[2], 's')
    local raw = epoch and redis.call('HGET', f, 's')
    if not raw or string.sub(redis.sha1hex(raw .. ':' .. epoch), 1, 16) ~= recorded then
      return false
    end
    checks[#checks + 1] = f
    checks[#checks + 1] = recorded
  end
end
if not value then
  return false
end
if ARGV[1] ~= '1' then
  return value
end
local out = {value, tostring(redis.call('PTTL', KEYS[1]))}
for _, c in ipairs(checks) do
  out[#out + 1] = c
end
return out
`)

// freshLua is the part of the scripts that create stamps: fresh returns
// the raw value of a stamp (or epoch, or near registry's life) that a call
// creates, made of the caller's candidate and the server's clock (seconds
// and microseconds, in hex), which server_clock reads.
//
// The candidate alone would not do. When a connection breaks after Redis
// ran a call but before its reply arrived (CLIENT KILL, a reset, a
// failover), go-redis sends the same call again, with the same arguments,
// on a new connection. Had the first run created a stamp that another
// reader then read, and a write then deleted, the second run would bring
// the deleted value back, and with it the reader's entry, filled before
// the write (TestLostReplyRenewsNothing). The second run reads the clock
// later than the first: the value it creates is new. (Only a clock set
// back between the two runs by exactly the time between them, to the
// microsecond, could repeat one.)
const freshLua = `
local function server_clock()
  local t = redis.call('TIME')
  return tonumber(t[1]), tonumber(t[2])
end

local function fresh(candidate)
  local sec, usec = server_clock()
  return string.format('%s.%x.%05x', candidate, sec, usec)
end
`

// stampsScript returns the raw value of every stamp (or epoch) of KEYS,
// creating the one of a key that has none from its candidate ARGV[2+i]
// (see freshLua). It gives each key a TTL of ARGV[1] milliseconds, except
// the first ARGV[2] keys, which have none: the epoch. KEYS must share a
// slot on Redis Cluster: the caller groups them by hash tag.
var stampsScript = goredis.NewScript(freshLua + `
local persistent = tonumber(ARGV[2])
local out = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('HGET', k, 's')
  if not v then
    v = fresh(ARGV[2 + i])
    redis.call('HSET', k, 's', v)
  end
  if i > persistent then
    redis.call('PEXPIRE', k, ARGV[1])
  end
  out[i] = v
end
return out
`)

// addSchemesScript adds the schemes ARGV[4:] to the table stamp KEYS[1],
// creating the stamp from the candidate ARGV[2] if it has none (see
// freshLua), and gives it a TTL of ARGV[1] milliseconds. It returns 0 if
// the table would have more than ARGV[3] schemes: the schemes before the
// one that did not fit are added, as the memory store does.
var addSchemesScript = goredis.NewScript(freshLua + `
local k = KEYS[1]
if not redis.call('HGET', k, 's') then
  redis.call('HSET', k, 's', fresh(ARGV[2]))
end
redis.call('PEXPIRE', k, ARGV[1])
local n = redis.call('HLEN', k) - 1
for i = 4, #ARGV do
  local f = 'c:' .. ARGV[i]
  if redis.call('HEXISTS', k, f) == 0 then
    if n >= tonumber(ARGV[3]) then
      return 0
    end
    redis.call('HSET', k, f, '1')
    n = n + 1
  end
end
return 1
`)

// runner runs a script in a pipeline.
type runner func(sc *goredis.Script, keys []string, args ...any) *goredis.Cmd

// pipelined sends the commands fill adds to a pipeline: one round trip per
// node, to all nodes at once. fill runs scripts with run, by SHA-1; if a
// server does not know one (it restarted, or a failover happened), fill is
// called again and the pipeline sent with the scripts' sources. fill's
// commands are the ones of its last call.
func (s *Store) pipelined(ctx context.Context, fill func(p goredis.Pipeliner, run runner)) error {
	bySHA := true
	for {
		p := s.client.Pipeline()
		fill(p, func(sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
			if bySHA {
				return sc.EvalSha(ctx, p, keys, args...)
			}
			return sc.Eval(ctx, p, keys, args...)
		})
		_, err := p.Exec(ctx)
		if !bySHA || !goredis.HasErrorPrefix(err, "NOSCRIPT") {
			return err
		}
		bySHA = false
	}
}

// mix returns the stamp Stamps hands out for a dependency whose stamp key
// holds raw while the epoch holds epoch. getScript computes the same with
// redis.sha1hex. A new raw value or a new epoch gives a new stamp, but for
// a 2^-64 chance. Its buffer holds two raw values of freshLua's (35 bytes
// at most each: a 20-digit candidate, two dots, 8 and 5 hex digits) and the
// colon: mixing them allocates nothing.
func mix(raw, epoch string) store.Stamp {
	var buf [96]byte
	b := append(buf[:0], raw...)
	b = append(b, ':')
	b = append(b, epoch...)
	sum := sha1.Sum(b)
	return store.Stamp(binary.BigEndian.Uint64(sum[:8]))
}

// formatStamp returns st as an entry records it: 16 lowercase hex digits.
func formatStamp(st store.Stamp) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(st))
	return hex.EncodeToString(b[:])
}

// parseStamp is the inverse of formatStamp.
func parseStamp(s string) (store.Stamp, bool) {
	if len(s) != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return store.Stamp(v), err == nil
}
