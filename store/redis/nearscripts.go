package redis

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// The scripts of the near caches' protocol (see the package doc). Every
// key they touch is in the slot of the epoch, "{*}", declared or built
// from ARGV: one Cluster node runs them, and publishes on a sharded
// channel of that slot.
//
// The lease registry is a hash: "srv" is the run_id of the server that
// wrote it, "life" a random name of this registry, "born" when it was
// made (ms, by the server's clock), "seq" the number of invalidations
// published; and for each lease taken, "h:<id>" when it lapses and
// "m:<id>" the seq when it was last taken or renewed. A lease is renewed
// only if its holder has applied the invalidations up to its "m:" (those
// published before its previous renewal): without applying an
// invalidation, a lease is renewed once at most after it was published.
// A registry that another server wrote (Redis restarted, failed over), or
// none at all (lost, evicted, never made), cannot say who holds a lease:
// it is made anew, and for a lease period every invalidation waits as if
// an unknown instance did (quarantine).

// nearLua is the common part of the scripts that read the registry.
const nearLua = freshLua + `
local function now_ms()
  local sec, usec = server_clock()
  return sec * 1000 + math.floor(usec / 1000)
end

-- life returns the life of the registry reg and the time left of its
-- quarantine (ms), making the registry anew, with a life made from the
-- candidate (see freshLua), when this server did not write it. It renews
-- the registry's TTL.
local function life(reg, now, candidate, lease, ttl)
  local srv = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  local cur = redis.call('HMGET', reg, 'srv', 'life', 'born')
  if cur[1] ~= srv then
    local lf = fresh(candidate)
    redis.call('DEL', reg)
    redis.call('HSET', reg, 'srv', srv, 'life', lf, 'born', now, 'seq', 0)
    cur = {srv, lf, now}
  end
  redis.call('PEXPIRE', reg, ttl)
  return cur[2], math.max(0, tonumber(cur[3]) + lease - now)
end

-- ack removes the lease id from those the invalidation token waits for,
-- and pushes to its done list when it was the last.
local function ack(pending, open, token, id, ttl)
  local w = pending .. 'w:' .. token
  if redis.call('SREM', w, id) == 1 and redis.call('SCARD', w) == 0 then
    local d = pending .. 'd:' .. token
    redis.call('RPUSH', d, '1')
    redis.call('PEXPIRE', d, ttl)
    redis.call('ZREM', open, token)
  end
end
`

// registerScript takes the lease ARGV[1] (an instance's id, a dot and a
// number) for ARGV[2] ms in the registry KEYS[1] and returns {life, seq}:
// its holder must receive the invalidations numbered above seq. ARGV[3] is
// a candidate life, ARGV[4] the registry's TTL. It then publishes, on the
// channel ARGV[5] (SPUBLISH when ARGV[6] is "1"), a hello naming the lease:
// a notice that invalidates nothing, numbered seq like the last
// invalidation before it. Its holder trusts the lease only once its
// subscription has delivered the hello, which proves that it delivers what
// is published after the lease was taken.
var registerScript = goredis.NewScript(nearLua + `
local now = now_ms()
local lf = life(KEYS[1], now, ARGV[3], tonumber(ARGV[2]), ARGV[4])
local seq = redis.call('HGET', KEYS[1], 'seq')
redis.call('HSET', KEYS[1], 'h:' .. ARGV[1], now + tonumber(ARGV[2]), 'm:' .. ARGV[1], seq)
local hello = lf .. ' ' .. seq .. ' ' .. ARGV[1] .. ' \nh'
if ARGV[6] == '1' then
  redis.call('SPUBLISH', ARGV[5], hello)
else
  redis.call('PUBLISH', ARGV[5], hello)
end
return {lf, seq}
`)

// renewScript renews the lease ARGV[1], whose holder has applied the
// invalidations up to ARGV[2] of the life ARGV[3], for ARGV[4] ms, and
// returns {2, seq}; or {1, m} without renewing it if its holder has not
// applied those up to m, published before the lease's previous renewal;
// or {0, 0} if the lease lapsed or the registry is another (its holder
// must take a new one). ARGV[5] and ARGV[6] are as ARGV[3] and ARGV[4] of
// registerScript.
var renewScript = goredis.NewScript(nearLua + `
local now = now_ms()
local lease = tonumber(ARGV[4])
local lf = life(KEYS[1], now, ARGV[5], lease, ARGV[6])
local until_ = tonumber(redis.call('HGET', KEYS[1], 'h:' .. ARGV[1]))
if lf ~= ARGV[3] or not until_ or until_ <= now then
  return {0, 0}
end
local mark = tonumber(redis.call('HGET', KEYS[1], 'm:' .. ARGV[1])) or 0
if tonumber(ARGV[2]) < mark then
  return {1, mark}
end
local seq = redis.call('HGET', KEYS[1], 'seq')
redis.call('HSET', KEYS[1], 'h:' .. ARGV[1], now + lease, 'm:' .. ARGV[1], seq)
return {2, tonumber(seq)}
`)

// unregisterScript ends the lease ARGV[1] in the registry KEYS[1], and
// acknowledges for it every invalidation in KEYS[2] (the open ones) that
// waits for it: its holder no longer trusts its copies. ARGV[2] is the
// start of the keys of acknowledgements, ARGV[3] the TTL of a done list.
var unregisterScript = goredis.NewScript(nearLua + `
redis.call('HDEL', KEYS[1], 'h:' .. ARGV[1], 'm:' .. ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms())
for _, token in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  ack(ARGV[2], KEYS[2], token, ARGV[1], ARGV[3])
end
return 0
`)

// ackScript acknowledges for the lease ARGV[1] the invalidations
// ARGV[4:]. KEYS[1], ARGV[2] and ARGV[3] are as in unregisterScript.
var ackScript = goredis.NewScript(nearLua + `
for i = 4, #ARGV do
  ack(ARGV[2], KEYS[1], ARGV[i], ARGV[1], ARGV[3])
end
return 0
`)

// publishScript numbers an invalidation and publishes it, as a notice, on
// the channel ARGV[3] to every near cache. ARGV[1] is the publishing
// instance, whose leases are named "<ARGV[1]>.<n>", ARGV[2] the invalidation's token, ARGV[4] what it invalidates,
// ARGV[5] the lease (ms), ARGV[6] a candidate life, ARGV[7] the registry's
// TTL, ARGV[8] "1" on a Cluster (SPUBLISH), ARGV[9] the start of the keys
// of acknowledgements. KEYS are the registry and the open set.
//
// The notice names the leases it waits for: every other instance's that
// has not lapsed, and "~", which never acknowledges, during a
// quarantine. It returns {how many, ms until the last of their leases, or
// the quarantine, ends, 1 in a quarantine}; when there are any, the
// waiting set of the token holds them, and the last acknowledgement will
// push to its done list.
var publishScript = goredis.NewScript(nearLua + `
local reg, open = KEYS[1], KEYS[2]
local now = now_ms()
local lease = tonumber(ARGV[5])
local lf, left = life(reg, now, ARGV[6], lease, ARGV[7])
local waits, quarantine = {}, 0
if left > 0 then
  waits[1], quarantine = '~', 1
end
local seq = redis.call('HINCRBY', reg, 'seq', 1)
local mine = 'h:' .. ARGV[1] .. '.'
local all = redis.call('HGETALL', reg)
for i = 1, #all, 2 do
  local f = all[i]
  if string.sub(f, 1, 2) == 'h:' then
    local rest = tonumber(all[i + 1]) - now
    if rest <= 0 then
      redis.call('HDEL', reg, f, 'm:' .. string.sub(f, 3))
    elseif string.sub(f, 1, #mine) ~= mine then
      waits[#waits + 1] = string.sub(f, 3)
      if rest > left then
        left = rest
      end
    end
  end
end
if #waits > 0 then
  local w = ARGV[9] .. 'w:' .. ARGV[2]
  redis.call('SADD', w, unpack(waits))
  redis.call('PEXPIRE', w, left + lease)
  redis.call('ZADD', open, now + left, ARGV[2])
  redis.call('PEXPIRE', open, left + lease)
end
local notice = lf .. ' ' .. seq .. ' ' .. ARGV[2] .. ' ' .. table.concat(waits, ',') .. '\n' .. ARGV[4]
if ARGV[8] == '1' then
  redis.call('SPUBLISH', ARGV[3], notice)
else
  redis.call('PUBLISH', ARGV[3], notice)
end
return {#waits, left, quarantine}
`)

// errNearReply is the error of a script of the protocol whose reply has
// not the shape it should.
var errNearReply = errors.New("unexpected reply of a near cache script")

// lapsedScript is run by a writer when the wait for the acknowledgements
// of the invalidation ARGV[1] timed out: it removes from those it waits
// for the leases that lapsed (and the quarantine, "~", whose time the wait
// covered), and returns how long until the last of the others lapses (ms),
// 0 when none is left. A lease renewed since the invalidation was
// published may not be renewed again before its holder applied it (see
// renewScript): the writer waits once more at most. KEYS are the registry
// and the open set, ARGV[2] the start of the keys of acknowledgements.
var lapsedScript = goredis.NewScript(nearLua + `
local w = ARGV[2] .. 'w:' .. ARGV[1]
local now = now_ms()
local left = 0
for _, id in ipairs(redis.call('SMEMBERS', w)) do
  local until_ = id ~= '~' and tonumber(redis.call('HGET', KEYS[1], 'h:' .. id))
  if until_ and until_ > now then
    left = math.max(left, until_ - now)
  else
    redis.call('SREM', w, id)
  end
end
if left == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return left
`)

// What a notice invalidates: the first byte of its body.
const (
	noticeDrop  = 'd' // the stamp keys whose hashes (8 bytes each) follow
	noticeReset = 'r' // every stamp: the epoch was renewed
	noticeHello = 'h' // nothing: the lease named by its token was taken
)

// dropBody returns the body of a notice that invalidates the stamp keys
// of hashes.
func dropBody(hashes []uint64) []byte {
	b := make([]byte, 1, 1+8*len(hashes))
	b[0] = noticeDrop
	for _, h := range hashes {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	return b
}

// notice is an invalidation as a near cache receives it.
type notice struct {
	life   string
	seq    uint64
	token  string
	waits  string // the instances it waits for, comma-separated
	reset  bool
	hello  bool // a hello of registerScript: its token is the lease taken
	hashes []uint64
}

// parseNotice parses what publishScript published.
func parseNotice(s string) (notice, bool) {
	head, body, ok := strings.Cut(s, "\n")
	if !ok || body == "" {
		return notice{}, false
	}
	f := strings.SplitN(head, " ", 4)
	if len(f) != 4 {
		return notice{}, false
	}
	seq, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return notice{}, false
	}
	n := notice{life: f[0], seq: seq, token: f[2], waits: f[3]}
	switch body[0] {
	case noticeReset:
		n.reset = true
	case noticeHello:
		n.hello = true
	case noticeDrop:
		if (len(body)-1)%8 != 0 {
			return notice{}, false
		}
		for b := body[1:]; len(b) > 0; b = b[8:] {
			n.hashes = append(n.hashes, binary.BigEndian.Uint64([]byte(b[:8])))
		}
	default:
		return notice{}, false
	}
	return n, true
}

// waitsFor reports whether the notice waits for the acknowledgement of id.
func (n notice) waitsFor(id string) bool {
	for w := range strings.SplitSeq(n.waits, ",") {
		if w == id {
			return true
		}
	}
	return false
}
