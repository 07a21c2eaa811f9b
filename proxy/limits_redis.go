package proxy

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStore keeps the limits' state in Redis, shared by every replica
// that uses the same Redis. Each operation is one round trip: a Lua
// script (EVALSHA) that reads and writes atomically on Redis's own clock.
type redisStore struct {
	c redis.UniversalClient
}

// reserveScript is GCRA on Redis's clock, in microseconds: KEYS[1] holds
// the theoretical arrival time; ARGV are the interval, the tolerance and
// the longest wait. It returns {1, wait} with the slot taken, or
// {0, wait} when the wait is too long (nothing taken).
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance, maxwait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > maxwait then return {0, wait} end
local newtat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', newtat), 'PX', math.ceil((newtat - now) / 1000) + 1000)
return {1, wait}
`)

// spendScript adds ARGV[1] items to every key's count when each stays
// within its total (ARGV[3], ARGV[4]), all or none; the counts expire at
// the Unix time ARGV[2]. It returns {ok, count…} after (or as they were).
var spendScript = redis.NewScript(`
local n = tonumber(ARGV[1])
local used = {}
local ok = 1
for i, k in ipairs(KEYS) do
  used[i] = tonumber(redis.call('GET', k) or '0')
  if used[i] + n > tonumber(ARGV[2 + i]) then ok = 0 end
end
if ok == 1 then
  for i, k in ipairs(KEYS) do
    used[i] = redis.call('INCRBY', k, n)
    redis.call('EXPIREAT', k, ARGV[2])
  end
end
table.insert(used, 1, ok)
return used
`)

func (s *redisStore) reserve(ctx context.Context, key string, interval, tolerance, maxWait time.Duration) (time.Duration, bool, error) {
	v, err := reserveScript.Run(ctx, s.c, []string{key},
		interval.Microseconds(), tolerance.Microseconds(), maxWait.Microseconds()).Int64Slice()
	if err != nil {
		return 0, false, err
	}
	if len(v) != 2 {
		return 0, false, errRedisAnswer
	}
	return time.Duration(v[1]) * time.Microsecond, v[0] == 1, nil
}

func (s *redisStore) spend(ctx context.Context, keys []string, n int64, totals []int64, expire time.Time) ([]int64, bool, error) {
	args := make([]any, 0, 2+len(totals))
	args = append(args, n, expire.Unix())
	for _, t := range totals {
		args = append(args, t)
	}
	v, err := spendScript.Run(ctx, s.c, keys, args...).Int64Slice()
	if err != nil {
		return nil, false, err
	}
	if len(v) != 1+len(keys) {
		return nil, false, errRedisAnswer
	}
	return v[1:], v[0] == 1, nil
}

func (s *redisStore) set(ctx context.Context, key string, used int64, expire time.Time) error {
	return s.c.SetArgs(ctx, key, strconv.FormatInt(used, 10), redis.SetArgs{ExpireAt: expire}).Err()
}

// firstSeen records key for ttl, and reports whether it was new.
func (s *redisStore) firstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.c.SetNX(ctx, key, 1, ttl).Result()
}

// errRedisAnswer is an answer from Redis of the wrong shape.
var errRedisAnswer = errors.New("redis: unexpected answer from a limits script")
