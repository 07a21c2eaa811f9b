package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
)

// usage is the text of `cdnproxy -h`, before the variables.
const usage = `cdnproxy: a reverse proxy in front of Tencent Cloud's CDN API that annotates
error answers and bridges API 2.0 clients to API 3.0.

Usage:
  cdnproxy              run the proxy, configured by the CDNPROXY_* variables below
  cdnproxy dev          try it offline: the proxy in front of a local emulator, with calls to paste
  cdnproxy mock         run the offline emulator of the API (2.0 and 3.0; CDNPROXY_MOCK_* variables)
  cdnproxy healthcheck  probe the admin listener's /healthz (for container health checks)
  cdnproxy codes [--json|--markdown] [CODE...]
                        list the error code catalogue, or explain codes
  cdnproxy explain [--verbose] [--lines] [BODY|@FILE|-]
                        print a response body with cdnproxy's annotation added
  cdnproxy help         this text; -h after a command describes it
`

// variable is one environment variable of a config struct, as the code
// declares it.
type variable struct {
	name       string // with the prefix: CDNPROXY_LISTEN_ADDR
	def        string // the envDefault tag; "" when there is none
	hasDefault bool
	desc       string // the desc tag: a one-line meaning
	field      string // the Go field path, for messages: Signing.Secret
}

// collectVariables walks a struct type the way the env library does (a
// test checks they agree, and config.example.env against it): a
// field with an env tag is a variable, an untagged struct field (or
// pointer to one) is descended into with its envPrefix added.
func collectVariables(typ reflect.Type, prefix, path string, vars *[]variable) {
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("env")
		name, _, _ := strings.Cut(tag, ",") // options such as ",file" do not change the name
		if name == "-" {
			continue
		}
		if name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectVariables(ft, prefix+f.Tag.Get("envPrefix"), path+f.Name+".", vars)
			}
			continue
		}
		def, hasDefault := f.Tag.Lookup("envDefault")
		*vars = append(*vars, variable{
			name:       prefix + name,
			def:        def,
			hasDefault: hasDefault,
			desc:       f.Tag.Get("desc"),
			field:      path + f.Name,
		})
	}
}

// variablesOf returns the variables of a config struct type, in
// declaration order.
func variablesOf(typ reflect.Type, prefix string) []variable {
	var vars []variable
	collectVariables(typ, prefix, "", &vars)
	return vars
}

// printVariables writes one line per variable: its name, default and
// meaning.
func printVariables(w io.Writer, vars []variable) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range vars {
		def := v.def
		if !v.hasDefault || def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.name, def, v.desc)
	}
	tw.Flush()
}

// printHelp is `cdnproxy -h`: usage, commands and every variable of the
// proxy with its default.
func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nEnvironment (variable, default, meaning; see config.example.env):")
	printVariables(w, variablesOf(reflect.TypeFor[config](), envPrefix))
	fmt.Fprintln(w, traceHelp)
}

// isHelp reports whether args ask for help: -h, -help, --help or help.
func isHelp(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch strings.TrimLeft(args[0], "-") {
	case "h", "help":
		return strings.HasPrefix(args[0], "-") || args[0] == "help"
	}
	return false
}
