package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/api3"
)

// FaultKind says which calls a fault rule fails.
type FaultKind string

// The kinds of fault rule.
const (
	// FaultNext fails the next Count calls, then the rule is removed.
	FaultNext FaultKind = "next"
	// FaultRate fails each call with probability Rate.
	FaultRate FaultKind = "rate"
	// FaultAction fails every call of Action.
	FaultAction FaultKind = "action"
)

// Fault is one fault-injection rule: calls it picks fail with Code instead
// of being carried out. A module code of the catalogue (such as 9112) is
// sent as public code 4000 with the message "(9112)<catalogue text> cdn
// injected fault[cdnproxy mock]"; a public code (4000 to 6200) is sent as
// that code with its catalogue text.
//
// Rules apply to calls that authenticated and name a known action (so a
// faulted call has used up its Nonce, as any answered call has). "next"
// rules are tried first, in the order added, then "action" rules, then
// "rate" rules, each drawing once per call; the first that picks a call
// fails it.
//
// # The compact text form, used by ParseFaults and String, is
//
// A rule whose code is an API 3.0 code of the catalogue (such as
// ResourceNotFound.CdnHostNotExists; Code3, written as a string "code" in
// JSON) fails API 3.0 calls only, answered in 3.0's shape with that code;
// a rule with a numeric code fails API 2.0 calls only. Each generation's
// calls are drawn against its own rules.
//
//	next:N:CODE        the next N calls fail with CODE
//	rate:R:CODE        each call fails with CODE with probability R (0 < R <= 1)
//	action:NAME:CODE   every call of action NAME fails with CODE
//
// with rules separated by commas: "next:3:9112,rate:0.2:6000,action:RefreshCdnUrl:22044,
// action:PurgeUrlsCache:LimitExceeded.CdnPurgeUrlExceedDayLimit".
type Fault struct {
	// ID identifies the rule, for DELETE /faults/{id}. The emulator
	// assigns it; a value given to AddFaults is ignored.
	ID int `json:"id"`
	// Kind says which calls the rule fails.
	Kind FaultKind `json:"kind"`
	// Count is, for "next", how many calls are still to fail.
	Count int `json:"count,omitempty"`
	// Rate is, for "rate", the probability that a call fails.
	Rate float64 `json:"rate,omitempty"`
	// Action is, for "action", the action whose calls fail.
	Action string `json:"action,omitempty"`
	// Code is the catalogue's 2.0 code the calls fail with (0 for a 3.0
	// rule).
	Code int `json:"-"`
	// Code3 is the catalogue's 3.0 code the calls fail with ("" for a
	// 2.0 rule).
	Code3 string `json:"-"`
	// Hits counts the calls the rule has failed. The emulator keeps it;
	// a value given to AddFaults is ignored.
	Hits int `json:"hits"`
}

// Validate reports what is wrong with a rule, or nil.
func (f Fault) Validate() error {
	switch f.Kind {
	case FaultNext:
		if f.Count < 1 {
			return fmt.Errorf("fault %q: count must be at least 1", f.Kind)
		}
	case FaultRate:
		if !(f.Rate > 0 && f.Rate <= 1) {
			return fmt.Errorf("fault %q: rate must be above 0 and at most 1", f.Kind)
		}
	case FaultAction:
		actions := Actions()
		if f.Code3 != "" {
			actions = api3.Actions()
		}
		if !slices.Contains(actions, f.Action) {
			return fmt.Errorf("fault %q: %q is not an action the emulator knows in API %s (%s)", f.Kind, f.Action, f.generation(), strings.Join(actions, ", "))
		}
	default:
		return fmt.Errorf("fault kind %q is not next, rate or action", f.Kind)
	}
	if f.Code3 != "" {
		if e, ok := codes.V3(f.Code3); !ok || e.Code != f.Code3 || f.Code != 0 {
			return fmt.Errorf("fault %q: code %q is not an API 3.0 code in the catalogue", f.Kind, f.Code3)
		}
		return nil
	}
	_, public := codes.Public(f.Code)
	_, module := codes.Module(f.Code)
	if !public && !module {
		return fmt.Errorf("fault %q: code %d is not in the catalogue", f.Kind, f.Code)
	}
	return nil
}

// generation is the API generation the rule fails: "2.0" or "3.0".
func (f Fault) generation() string {
	if f.Code3 != "" {
		return "3.0"
	}
	return "2.0"
}

// code returns the rule's code as written: a number or a 3.0 code.
func (f Fault) code() string {
	if f.Code3 != "" {
		return f.Code3
	}
	return strconv.Itoa(f.Code)
}

// String returns the rule in the compact text form.
func (f Fault) String() string {
	switch f.Kind {
	case FaultNext:
		return fmt.Sprintf("next:%d:%s", f.Count, f.code())
	case FaultRate:
		return fmt.Sprintf("rate:%s:%s", strconv.FormatFloat(f.Rate, 'g', -1, 64), f.code())
	case FaultAction:
		return fmt.Sprintf("action:%s:%s", f.Action, f.code())
	}
	return fmt.Sprintf("%s:?:%s", f.Kind, f.code())
}

// faultJSON is Fault's JSON form: "code" is a number (2.0) or a string
// (3.0).
type faultJSON struct {
	ID     int             `json:"id"`
	Kind   FaultKind       `json:"kind"`
	Count  int             `json:"count,omitempty"`
	Rate   float64         `json:"rate,omitempty"`
	Action string          `json:"action,omitempty"`
	Code   json.RawMessage `json:"code"`
	Hits   int             `json:"hits"`
}

// MarshalJSON writes the rule with "code" a number or a 3.0 code.
func (f Fault) MarshalJSON() ([]byte, error) {
	code, _ := json.Marshal(f.Code)
	if f.Code3 != "" {
		code, _ = json.Marshal(f.Code3)
	}
	return json.Marshal(faultJSON{f.ID, f.Kind, f.Count, f.Rate, f.Action, code, f.Hits})
}

// UnmarshalJSON reads a rule whose "code" is a number or a 3.0 code.
func (f *Fault) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j faultJSON
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Fault{ID: j.ID, Kind: j.Kind, Count: j.Count, Rate: j.Rate, Action: j.Action, Hits: j.Hits}
	if len(j.Code) > 0 && j.Code[0] == '"' {
		return json.Unmarshal(j.Code, &f.Code3)
	}
	if len(j.Code) == 0 {
		return nil
	}
	return json.Unmarshal(j.Code, &f.Code)
}

// ParseFaults reads rules in the compact text form (see Fault). Blanks
// around rules and empty entries are ignored; "" means no rules.
func ParseFaults(s string) ([]Fault, error) {
	var out []Fault
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		f, err := parseFault(entry)
		if err != nil {
			return nil, fmt.Errorf("rule %d (%q): %w", i+1, entry, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// parseFault reads one rule.
func parseFault(s string) (Fault, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Fault{}, errors.New("want KIND:ARG:CODE, e.g. next:3:9112, rate:0.2:6000 or action:RefreshCdnUrl:22044")
	}
	f := Fault{Kind: FaultKind(parts[0])}
	code, err := strconv.Atoi(parts[2])
	switch {
	case err == nil:
		f.Code = code
	case strings.Trim(parts[2], "0123456789-") == "":
		return Fault{}, fmt.Errorf("code %q is not a number", parts[2])
	default:
		f.Code3 = parts[2]
	}
	switch f.Kind {
	case FaultNext:
		if f.Count, err = strconv.Atoi(parts[1]); err != nil {
			return Fault{}, fmt.Errorf("count %q is not a number", parts[1])
		}
	case FaultRate:
		if f.Rate, err = strconv.ParseFloat(parts[1], 64); err != nil {
			return Fault{}, fmt.Errorf("rate %q is not a number", parts[1])
		}
	case FaultAction:
		f.Action = parts[1]
	}
	return f, f.Validate()
}

// Faults returns the rules in force, in the order they are tried within
// each kind.
func (e *Emulator) Faults() []Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.faults)
}

// MaxFaults is how many fault rules an Emulator holds at once; the admin
// endpoint cannot grow the list without bound.
const MaxFaults = 1000

// ErrTooManyFaults reports an AddFaults that would exceed MaxFaults.
var ErrTooManyFaults = errors.New("emulator: too many fault rules (remove some first)")

// AddFaults adds rules and returns them with their IDs. If any rule is
// invalid, or the rules would exceed MaxFaults, none is added.
func (e *Emulator) AddFaults(rules ...Fault) ([]Fault, error) {
	for _, f := range rules {
		if err := f.Validate(); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults)+len(rules) > MaxFaults {
		return nil, ErrTooManyFaults
	}
	added := make([]Fault, 0, len(rules))
	for _, f := range rules {
		f.ID, f.Hits = e.nextFault, 0
		e.nextFault++
		e.faults = append(e.faults, f)
		added = append(added, f)
	}
	return added, nil
}

// RemoveFault removes the rule with the given ID and reports whether there
// was one.
func (e *Emulator) RemoveFault(id int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := slices.IndexFunc(e.faults, func(f Fault) bool { return f.ID == id })
	if i < 0 {
		return false
	}
	e.faults = slices.Delete(e.faults, i, i+1)
	return true
}

// ClearFaults removes every rule.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// injected returns the rule that fails this call of action, if any, and
// counts the hit; v3 says the call is an API 3.0 call, which only 3.0
// rules fail. e.mu must be held.
func (e *Emulator) injected(action string, v3 bool) (Fault, bool) {
	for _, kind := range []FaultKind{FaultNext, FaultAction, FaultRate} {
		for i := range e.faults {
			f := &e.faults[i]
			if f.Kind != kind || (f.Code3 != "") != v3 {
				continue
			}
			hit := false
			switch kind {
			case FaultNext:
				hit = true
			case FaultAction:
				hit = f.Action == action
			case FaultRate:
				hit = e.rand.Float64() < f.Rate
			}
			if !hit {
				continue
			}
			f.Hits++
			picked := *f
			if kind == FaultNext {
				if f.Count--; f.Count == 0 {
					e.faults = slices.Delete(e.faults, i, i+1)
				}
			}
			return picked, true
		}
	}
	return Fault{}, false
}

// faultReply is the answer to a call a rule failed.
func faultReply(f Fault) reply {
	var rep reply
	if entry, public := codes.Public(f.Code); public {
		rep = errPublic(f.Code, entry.Original)
	} else {
		rep = errModule(f.Code, tailFault)
	}
	rep.fault = true
	return rep
}
