package main

import (
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// sigcfgKeyText marks key material in the signing configuration tests: no
// error may contain it.
const sigcfgKeyText = "keytext"

// sigcfgFile writes content to a file in dir and returns its path.
func sigcfgFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSigningConfigRejects(t *testing.T) {
	dir := t.TempDir()
	keyFile := sigcfgFile(t, dir, "secret_key", "file-"+sigcfgKeyText+"-0\n")
	badKeysFile := sigcfgFile(t, dir, "client_keys", "good:"+sigcfgKeyText+"-1\nno-key-here-"+sigcfgKeyText+"\n")
	cred := []string{"CDNPROXY_SECRET_ID=AKIDupstream", "CDNPROXY_SECRET_KEY=" + sigcfgKeyText + "-2"}
	resign := append([]string{"CDNPROXY_SIGNING=resign"}, cred...)
	with := func(base []string, more ...string) []string { return append(append([]string{}, base...), more...) }
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string // the error names these
	}{
		{"resign without credential", []string{"CDNPROXY_SIGNING=resign"}, []string{"CDNPROXY_SIGNING", "CDNPROXY_SECRET_ID", "CDNPROXY_SECRET_KEY"}},
		{"resign without key", []string{"CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_ID=AKIDupstream"}, []string{"CDNPROXY_SIGNING"}},
		{"resign without id", []string{"CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_KEY=" + sigcfgKeyText}, []string{"CDNPROXY_SIGNING"}},
		{"resign with blank key", []string{"CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_ID=AKIDupstream", "CDNPROXY_SECRET_KEY= \t"}, []string{"CDNPROXY_SIGNING"}},
		{"sign without credential", []string{"CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=127.0.0.1:8080"}, []string{"CDNPROXY_SIGNING"}},
		{"secret key and its file", with(resign, "CDNPROXY_SECRET_KEY_FILE="+keyFile), []string{"CDNPROXY_SECRET_KEY"}},
		{"secret key file missing", with([]string{"CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_ID=AKIDupstream"}, "CDNPROXY_SECRET_KEY_FILE="+filepath.Join(dir, "nope")), []string{"CDNPROXY_SECRET_KEY_FILE"}},
		{"client keys: id only", with(resign, "CDNPROXY_CLIENT_KEYS=lonely-"+sigcfgKeyText), []string{"CDNPROXY_CLIENT_KEYS"}},
		{"client keys: empty key", with(resign, "CDNPROXY_CLIENT_KEYS=a:"), []string{"CDNPROXY_CLIENT_KEYS"}},
		{"client keys: empty id", with(resign, "CDNPROXY_CLIENT_KEYS=:"+sigcfgKeyText+"-b"), []string{"CDNPROXY_CLIENT_KEYS"}},
		{"client keys: repeated id", with(resign, "CDNPROXY_CLIENT_KEYS=a:"+sigcfgKeyText+"-1,a:"+sigcfgKeyText+"-2"), []string{"CDNPROXY_CLIENT_KEYS"}},
		{"client keys: second entry bad", with(resign, "CDNPROXY_CLIENT_KEYS=a:"+sigcfgKeyText+"-1,b"+sigcfgKeyText), []string{"CDNPROXY_CLIENT_KEYS"}},
		{"client keys file malformed", with(resign, "CDNPROXY_CLIENT_KEYS_FILE="+badKeysFile), []string{"CDNPROXY_CLIENT_KEYS_FILE"}},
		{"client keys and their file", with(resign, "CDNPROXY_CLIENT_KEYS=a:"+sigcfgKeyText, "CDNPROXY_CLIENT_KEYS_FILE="+keyFile), []string{"CDNPROXY_CLIENT_KEYS"}},
		{"sign on 0.0.0.0 without token", with(cred, "CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=0.0.0.0:8080"), []string{"CDNPROXY_CLIENT_TOKEN"}},
		{"sign on :8080 without token", with(cred, "CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=:8080"), []string{"CDNPROXY_CLIENT_TOKEN"}},
		{"sign by default address without token", with(cred, "CDNPROXY_SIGNING=sign"), []string{"CDNPROXY_CLIENT_TOKEN"}},
		{"sign on [::] without token", with(cred, "CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=[::]:8080"), []string{"CDNPROXY_CLIENT_TOKEN"}},
		{"sign on a LAN address without token", with(cred, "CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=192.168.1.10:8080"), []string{"CDNPROXY_CLIENT_TOKEN"}},
		{"sign on a host name without token", with(cred, "CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=cdnproxy.internal:8080"), []string{"CDNPROXY_CLIENT_TOKEN"}},
		{"TLS cert without key", []string{"CDNPROXY_TLS_CERT_FILE=/etc/cdnproxy/cert.pem"}, []string{"CDNPROXY_TLS_CERT_FILE", "CDNPROXY_TLS_KEY_FILE"}},
		{"TLS key without cert", []string{"CDNPROXY_TLS_KEY_FILE=/etc/cdnproxy/key.pem"}, []string{"CDNPROXY_TLS_CERT_FILE", "CDNPROXY_TLS_KEY_FILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(tc.environ)
			if err == nil {
				t.Fatal("loadConfig accepted the configuration")
			}
			for _, name := range tc.want {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error does not name %s: %v", name, err)
				}
			}
			if strings.Contains(err.Error(), sigcfgKeyText) {
				t.Errorf("error shows key material: %v", err)
			}
		})
	}
}

func TestSigningConfigAccepts(t *testing.T) {
	dir := t.TempDir()
	idFile := sigcfgFile(t, dir, "secret_id", "AKIDfromfile\n")
	keyFile := sigcfgFile(t, dir, "secret_key", "key-from-file\r\n")
	keysFile := sigcfgFile(t, dir, "client_keys", "app1:key1\napp2: key2 \n\n")
	for _, tc := range []struct {
		name    string
		environ []string
		want    proxy.Signing
	}{
		{"passthrough by default", nil, proxy.Signing{Mode: proxy.Passthrough}},
		{"resign from variables", []string{"CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=kx",
			"CDNPROXY_CLIENT_KEYS=app1:key1, app2:key2"},
			proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDx", SecretKey: "kx", ClientKeys: map[string]string{"app1": "key1", "app2": "key2"}}},
		{"resign from files", []string{"CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_ID_FILE=" + idFile, "CDNPROXY_SECRET_KEY_FILE=" + keyFile,
			"CDNPROXY_CLIENT_KEYS_FILE=" + keysFile},
			proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDfromfile", SecretKey: "key-from-file", ClientKeys: map[string]string{"app1": "key1", "app2": "key2"}}},
		{"resign, key from file, id from variable", []string{"CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY_FILE=" + keyFile},
			proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDx", SecretKey: "key-from-file"}},
		{"resign on a public address without token", []string{"CDNPROXY_SIGNING=resign", "CDNPROXY_LISTEN_ADDR=0.0.0.0:8080", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=kx"},
			proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDx", SecretKey: "kx"}},
		{"sign on 127.0.0.1 without token", []string{"CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=127.0.0.1:8080", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=kx"},
			proxy.Signing{Mode: proxy.Sign, SecretID: "AKIDx", SecretKey: "kx"}},
		{"sign on [::1] without token", []string{"CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=[::1]:8080", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=kx"},
			proxy.Signing{Mode: proxy.Sign, SecretID: "AKIDx", SecretKey: "kx"}},
		{"sign on localhost without token", []string{"CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=localhost:8080", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=kx"},
			proxy.Signing{Mode: proxy.Sign, SecretID: "AKIDx", SecretKey: "kx"}},
		{"sign on 0.0.0.0 with token", []string{"CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=0.0.0.0:8080", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=kx", "CDNPROXY_CLIENT_TOKEN=tok"},
			proxy.Signing{Mode: proxy.Sign, SecretID: "AKIDx", SecretKey: "kx", ClientToken: "tok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(tc.environ)
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			got := cfg.signing()
			if got.Mode != tc.want.Mode || got.SecretID != tc.want.SecretID || got.SecretKey != tc.want.SecretKey || got.ClientToken != tc.want.ClientToken {
				t.Errorf("signing = %+v, want %+v", got, tc.want)
			}
			if len(got.ClientKeys) != len(tc.want.ClientKeys) || !maps.Equal(got.ClientKeys, tc.want.ClientKeys) {
				t.Errorf("client keys = %v, want %v", got.ClientKeys, tc.want.ClientKeys)
			}
		})
	}
}

// TestSigningConfigBuildsProxy checks that every accepted signing
// configuration is one proxy.New takes.
func TestSigningConfigBuildsProxy(t *testing.T) {
	cfg, err := loadConfig([]string{"CDNPROXY_SIGNING=sign", "CDNPROXY_LISTEN_ADDR=127.0.0.1:0", "CDNPROXY_ADMIN_ADDR=127.0.0.1:1",
		"CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=kx", "CDNPROXY_CLIENT_KEYS=a:b"})
	if err != nil {
		t.Fatal(err)
	}
	upstream, _ := url.Parse(cfg.UpstreamURL)
	if _, err := proxy.New(proxy.Config{Upstream: upstream, Signing: cfg.signing()}); err != nil {
		t.Errorf("proxy.New: %v", err)
	}
}
