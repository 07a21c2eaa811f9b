package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// maxAdminBody bounds a POST /faults body.
const maxAdminBody = 64 << 10

// Admin returns the handler for the emulator's admin listener, kept apart
// from the API port:
//
//	GET    /healthz      200 "ok"
//	GET    /faults       the rules in force: {"faults":[{"id":1,"kind":"next","count":3,"code":9112,"hits":0}, …]}
//	POST   /faults       add rules: a JSON rule, a JSON array of rules, or the compact text form
//	                     ("next:3:9112,rate:0.2:6000"); answers the rules in force
//	DELETE /faults       remove every rule; answers the (empty) rules in force
//	DELETE /faults/{id}  remove one rule; 404 if there is none with that id
//
// Errors are 400 (or 404) with {"error":"…"}.
func (e *Emulator) Admin() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /faults", e.listFaults)
	mux.HandleFunc("POST /faults", e.postFaults)
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		e.ClearFaults()
		e.listFaults(w, r)
	})
	mux.HandleFunc("DELETE /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || !e.RemoveFault(id) {
			adminError(w, http.StatusNotFound, "no fault rule with id "+strconv.Quote(r.PathValue("id")))
			return
		}
		e.listFaults(w, r)
	})
	return mux
}

// listFaults answers the rules in force.
func (e *Emulator) listFaults(w http.ResponseWriter, _ *http.Request) {
	faults := e.Faults()
	if faults == nil {
		faults = []Fault{}
	}
	adminJSON(w, http.StatusOK, struct {
		Faults []Fault `json:"faults"`
	}{faults})
}

// postFaults adds the rules of the body.
func (e *Emulator) postFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		adminError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	rules, err := decodeFaults(body)
	if err == nil && len(rules) == 0 {
		err = errors.New("no rules in the body")
	}
	if err == nil {
		_, err = e.AddFaults(rules...)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	e.listFaults(w, r)
}

// decodeFaults reads a JSON rule, a JSON array of rules, or the compact
// text form.
func decodeFaults(body []byte) ([]Fault, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || (body[0] != '{' && body[0] != '[') {
		return ParseFaults(string(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var rules []Fault
	if body[0] == '{' {
		var f Fault
		if err := dec.Decode(&f); err != nil {
			return nil, errors.New("the body is not a fault rule: " + err.Error())
		}
		rules = append(rules, f)
	} else if err := dec.Decode(&rules); err != nil {
		return nil, errors.New("the body is not an array of fault rules: " + err.Error())
	}
	return rules, nil
}

// adminJSON writes v as JSON.
func adminJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("emulator: encoding an admin answer: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// adminError writes {"error": msg}.
func adminError(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}
