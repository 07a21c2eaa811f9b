package proxy

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStore keeps the limits' state in Redis, shared by every replica
// that uses the same Redis. A check is one round trip: checkScript run
// with EVALSHA, reading and writing atomically on Redis's own clock.
type redisStore struct {
	c redis.UniversalClient
}

// checkScript is a call's whole check, as memoryStore.check does it in
// memory. KEYS[1] holds the rate's theoretical arrival time (GCRA, in
// microseconds of Redis's clock); ARGV[1..3] are the interval, the
// tolerance and the longest wait. Without a slot within the wait it
// returns {0, wait, 0} and changes nothing. With one it takes the slot
// and, when the call spends a quota, KEYS[2..] are the quota's counters:
// ARGV[4] items are added to each if every one stays within its total
// (ARGV[6..]), all or none, and the counters expire at the Unix time
// ARGV[5]. It returns {1, wait, over, count…}: over is 1 when the items
// did not fit (the slot stays taken), the counts are after (or as they
// were, when over).
var checkScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance, maxwait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > maxwait then return {0, wait, 0} end
local newtat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', newtat), 'PX', math.ceil((newtat - now) / 1000) + 1000)
local res = {1, wait, 0}
local n = tonumber(ARGV[4])
for i = 2, #KEYS do
  res[i + 2] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if res[i + 2] + n > tonumber(ARGV[4 + i]) then res[3] = 1 end
end
if res[3] == 0 then
  for i = 2, #KEYS do
    res[i + 2] = redis.call('INCRBY', KEYS[i], n)
    redis.call('EXPIREAT', KEYS[i], ARGV[5])
  end
end
return res
`)

func (s *redisStore) check(ctx context.Context, r rateReq, q *quotaReq) (checked, error) {
	keys := []string{r.key}
	args := []any{r.interval.Microseconds(), r.tolerance.Microseconds(), r.maxWait.Microseconds()}
	if q != nil {
		keys = append(keys, q.keys...)
		args = append(args, q.n, q.expire.Unix())
		for _, t := range q.totals {
			args = append(args, t)
		}
	}
	v, err := checkScript.Run(ctx, s.c, keys, args...).Int64Slice()
	if err != nil {
		return checked{}, err
	}
	if len(v) < 3 || v[0] == 1 && len(v) != 2+len(keys) {
		return checked{}, errRedisAnswer
	}
	c := checked{wait: time.Duration(v[1]) * time.Microsecond, slot: v[0] == 1, over: v[2] == 1}
	if c.slot && q != nil {
		c.used = v[3:]
	}
	return c, nil
}

func (s *redisStore) set(ctx context.Context, key string, used int64, expire time.Time) error {
	return s.c.SetArgs(ctx, key, strconv.FormatInt(used, 10), redis.SetArgs{ExpireAt: expire}).Err()
}

// firstSeen records key for ttl, and reports whether it was new.
func (s *redisStore) firstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.c.SetNX(ctx, key, 1, ttl).Result()
}

// errRedisAnswer is an answer from Redis of the wrong shape.
var errRedisAnswer = errors.New("redis: unexpected answer from the limits' script")
