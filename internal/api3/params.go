package api3

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// commonParams are the v1 and GET parameters that belong to the call, not
// to the action.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Timestamp": true, "Nonce": true, "SecretId": true,
	"Signature": true, "SignatureMethod": true, "Region": true, "Token": true, "Language": true,
	"RequestClient": true,
}

// nest turns flattened parameters (Urls.0, Filters.0.Value.1) into the
// JSON-like value they stand for: maps, and []any where every key of a
// level is an index 0…n-1. Common parameters and extra are left out.
func nest(p signature.Params, extra string) (map[string]any, error) {
	root := map[string]any{}
	for _, kv := range p {
		if commonParams[kv.Name] || kv.Name == extra {
			continue
		}
		parts := strings.Split(kv.Name, ".")
		m := root
		for i, part := range parts {
			if part == "" {
				return nil, fmt.Errorf("parameter %q has an empty segment", kv.Name)
			}
			if i == len(parts)-1 {
				if _, dup := m[part]; dup {
					return nil, fmt.Errorf("parameter %q is both a value and a list", kv.Name)
				}
				m[part] = kv.Value
				break
			}
			next, ok := m[part].(map[string]any)
			if !ok {
				if _, taken := m[part]; taken {
					return nil, fmt.Errorf("parameter %q is both a value and a list", kv.Name)
				}
				next = map[string]any{}
				m[part] = next
			}
			m = next
		}
	}
	v, err := listify(root)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// listify replaces, depth first, every map whose keys are all indexes by a
// list, and refuses gaps in the indexes.
func listify(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil
	}
	indexed := len(m) > 0
	for k, sub := range m {
		var err error
		if m[k], err = listify(sub); err != nil {
			return nil, err
		}
		if n, err := strconv.Atoi(k); err != nil || n < 0 || strconv.Itoa(n) != k {
			indexed = false
		}
	}
	if !indexed {
		return m, nil
	}
	list := make([]any, len(m))
	for k, sub := range m {
		n, _ := strconv.Atoi(k)
		if n >= len(list) {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return nil, fmt.Errorf("list indexes %v are not 0…%d", keys, len(m)-1)
		}
		list[n] = sub
	}
	return list, nil
}

// kind is the type a member must have.
type kind uint8

const (
	kString  kind = iota // a string
	kInt                 // an integer
	kFloat               // a number
	kBool                // a boolean
	kStrings             // a list of strings
	kObject              // an object with members
	kObjects             // a list of objects with members
	kAny                 // anything: configuration the fake stores but does not read
)

var kindNames = [...]string{"String", "Integer", "Float", "Boolean", "Array of String", "Object", "Array of Object", "Any"}

// member is one member of an action's parameters.
type member struct {
	name     string
	kind     kind
	required bool
	members  []member // of a kObject or kObjects
}

func missing(name string) *Error {
	return &Error{"MissingParameter", fmt.Sprintf("缺少参数错误：%s 是必填参数。", name)}
}

func badType(name string, k kind) *Error {
	return &Error{"InvalidParameter", fmt.Sprintf("参数错误：%s 的类型应为 %s。", name, kindNames[k])}
}

func badValue(code, name, why string) *Error {
	return &Error{code, fmt.Sprintf("参数取值错误：%s %s。", name, why)}
}

// check checks obj against members and normalises it in place: numbers
// become int64 or float64 and, for parameters that came as strings (form,
// query), strings become the numbers and booleans they spell. An unknown
// member is UnknownParameter, a missing required one MissingParameter, a
// wrong type InvalidParameter.
func check(obj map[string]any, members []member, prefix string, fromForm bool) *Error {
	known := make(map[string]bool, len(members))
	for _, m := range members {
		known[m.name] = true
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !known[name] {
			return &Error{"UnknownParameter", fmt.Sprintf("未知参数错误：%s%s。", prefix, name)}
		}
	}
	for _, m := range members {
		v, ok := obj[m.name]
		if !ok || v == nil {
			delete(obj, m.name)
			if m.required {
				return missing(prefix + m.name)
			}
			continue
		}
		nv, err := checkValue(v, m, prefix+m.name, fromForm)
		if err != nil {
			return err
		}
		obj[m.name] = nv
	}
	return nil
}

func checkValue(v any, m member, name string, fromForm bool) (any, *Error) {
	switch m.kind {
	case kAny:
		return v, nil
	case kString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kInt:
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
		case string:
			if n, err := strconv.ParseInt(x, 10, 64); err == nil && fromForm {
				return n, nil
			}
		}
	case kFloat:
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, nil
			}
		case string:
			if f, err := strconv.ParseFloat(x, 64); err == nil && fromForm {
				return f, nil
			}
		}
	case kBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil && fromForm && (x == "true" || x == "false") {
				return b, nil
			}
		}
	case kStrings:
		if list, ok := v.([]any); ok {
			for i, e := range list {
				if _, ok := e.(string); !ok {
					return nil, badType(fmt.Sprintf("%s.%d", name, i), kString)
				}
			}
			return list, nil
		}
	case kObject:
		if obj, ok := v.(map[string]any); ok {
			if err := check(obj, m.members, name+".", fromForm); err != nil {
				return nil, err
			}
			return obj, nil
		}
	case kObjects:
		if list, ok := v.([]any); ok {
			for i, e := range list {
				obj, ok := e.(map[string]any)
				if !ok {
					return nil, badType(fmt.Sprintf("%s.%d", name, i), kObject)
				}
				if err := check(obj, m.members, fmt.Sprintf("%s.%d.", name, i), fromForm); err != nil {
					return nil, err
				}
			}
			return list, nil
		}
	}
	return nil, badType(name, m.kind)
}

// decode checks params against members and fills dst, a pointer to the
// action's request struct whose fields carry the members' names.
func decode(params map[string]any, members []member, fromForm bool, dst any) *Error {
	if err := check(params, members, "", fromForm); err != nil {
		return err
	}
	raw, err := json.Marshal(params)
	if err == nil {
		err = json.Unmarshal(raw, dst)
	}
	if err != nil {
		return &Error{"InvalidParameter", "参数错误：" + err.Error()}
	}
	return nil
}
