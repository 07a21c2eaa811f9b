package bridge

import (
	"strconv"
	"time"
)

// maxList is the most values an array parameter may carry (2.0's largest
// documented batch: 1000 URLs per RefreshCdnUrl).
const maxList = 1000

// get returns the value of a scalar parameter, "" when absent.
func (c *call) get(name string) string {
	v, _ := c.params.Get(name)
	return v
}

// list returns the values of an array parameter (signature's List), at
// most maxList of them.
func (c *call) list(name string) (values []string, ok bool) {
	values, ok = c.params.List(name)
	if len(values) > maxList {
		return nil, false
	}
	return values, ok
}

// requiredList returns a non-empty array parameter, or answers 4000.
func (c *call) requiredList(name string) ([]string, error) {
	v, ok := c.list(name)
	switch {
	case !ok:
		return nil, c.invalid(name + ".n: indexes must be 0, 1, 2, … and at most " + strconv.Itoa(maxList) + " values")
	case len(v) == 0:
		return nil, c.invalid(name + ".n is required")
	}
	for _, s := range v {
		if s == "" {
			return nil, c.invalid(name + ".n: a value is empty")
		}
	}
	return v, nil
}

// intParam returns a non-negative integer parameter, def when absent, or
// answers 4000.
func (c *call) intParam(name string, def int) (int, error) {
	raw, present := c.params.Get(name)
	if !present || raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, c.invalid(name + " must be a non-negative integer")
	}
	return n, nil
}

// window returns a list call's offset (absent: 0) and limit (absent: -1,
// all), or answers 4000.
func (c *call) window() (offset, limit int, err error) {
	if offset, err = c.intParam("offset", 0); err != nil {
		return 0, 0, err
	}
	if limit, err = c.intParam("limit", -1); err != nil {
		return 0, 0, err
	}
	return offset, limit, nil
}

// timeLayout is the time format of both API generations.
const timeLayout = "2006-01-02 15:04:05"

// beijing is the time zone of every 2.0 and 3.0 time string (UTC+8, no
// daylight saving time).
var beijing = time.FixedZone("CST", 8*3600)

// timeParam returns a time parameter in the 3.0 format ("" when absent).
// It accepts "2006-01-02 15:04:05" and a bare date "2006-01-02", which
// means the start of the day, or its last second when end is true.
func (c *call) timeParam(name string, end bool) (string, error) {
	raw := c.get(name)
	if raw == "" {
		return "", nil
	}
	if t, err := time.ParseInLocation(timeLayout, raw, beijing); err == nil {
		return t.Format(timeLayout), nil
	}
	t, err := time.ParseInLocation("2006-01-02", raw, beijing)
	if err != nil {
		return "", c.invalid(name + " must be a time 2006-01-02 15:04:05 or a date 2006-01-02")
	}
	if end {
		t = t.Add(24*time.Hour - time.Second)
	}
	return t.Format(timeLayout), nil
}

// timeRange returns the startDate/endDate pair, both required and in
// order, or answers 4000.
func (c *call) timeRange() (start, end string, err error) {
	if start, err = c.timeParam("startDate", false); err != nil {
		return "", "", err
	}
	if end, err = c.timeParam("endDate", true); err != nil {
		return "", "", err
	}
	if start == "" || end == "" {
		return "", "", c.invalid("startDate and endDate are required")
	}
	if end < start { // same layout, so text order is time order
		return "", "", c.invalid("endDate is before startDate")
	}
	return start, end, nil
}
