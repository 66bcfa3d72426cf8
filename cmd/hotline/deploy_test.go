package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerignore reads the repository's .dockerignore as Docker reads it:
// patterns from the context's root, "**" for any number of directories,
// "#" comments; a path is left out when it or a directory above it matches
// (none of our patterns uses "!").
func dockerignore(t *testing.T) func(path string) bool {
	t.Helper()
	data, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var res []*regexp.Regexp
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore: exceptions (%q) are not read by this test", line)
		}
		p := filepath.Clean(strings.TrimPrefix(line, "/"))
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		res = append(res, regexp.MustCompile(re.String()))
	}
	return func(path string) bool {
		for p := path; p != "." && p != "/"; p = filepath.Dir(p) {
			for _, re := range res {
				if re.MatchString(p) {
					return true
				}
			}
		}
		return false
	}
}

// The build context leaves out data directories (a demo's database and
// server key), .git and keys, and keeps every file the build needs.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	ignored := dockerignore(t)
	for _, p := range []string{
		".git", ".git/HEAD", "data", "data/hotline.db", "data/server.key", "data/hotline.db-wal",
		"cmd/hotline/data/server.key", "restore/hotline.db", "deploy/server.key", "deploy/hotline.env", "deploy/.env",
		"hotline", "bin/hotline",
	} {
		if !ignored(p) {
			t.Errorf("%s is in the build context", p)
		}
	}
	out, err := exec.Command("git", "-C", "../..", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	n := 0
	for _, f := range strings.Fields(string(out)) {
		build := f == "go.mod" || f == "go.sum" || strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go")
		for _, dir := range []string{"webchat/static/", "webchat/templates/", "internal/poster/fonts/", "internal/store/migrations/",
			"internal/inboxweb/templates/", "internal/inboxweb/static/", "internal/districtweb/templates/", "internal/districtweb/static/",
			"internal/surveyweb/templates/", "internal/surveyweb/static/", "internal/web/templates/", "internal/chart/"} {
			build = build || strings.HasPrefix(f, dir)
		}
		if build {
			n++
			if ignored(f) {
				t.Errorf("%s, which the build needs, is left out of the context", f)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d build files found", n)
	}
}

// The Dockerfile runs as a numeric user and checks health with the
// binary itself; compose builds the image once, shares one key as a Docker
// secret, checks each node with hotline healthcheck and gives it time to
// stop.
func TestDeployFiles(t *testing.T) {
	t.Parallel()
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`(?m)^USER [0-9]+:[0-9]+$`, `(?m)^HEALTHCHECK .*\n\s*CMD \["/usr/local/bin/hotline", "healthcheck"`} {
		if !regexp.MustCompile(re).Match(docker) {
			t.Errorf("Dockerfile lacks %s", re)
		}
	}
	compose, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := string(compose)
	if n := strings.Count(c, "\n    build:"); n != 1 {
		t.Errorf("compose builds the image %d times, want once", n)
	}
	for _, want := range []string{
		"HOTLINE_SERVER_KEY_FILE: /run/secrets/server_key", "secrets: [server_key]", "file: ./server.key",
		`test: ["CMD", "/usr/local/bin/hotline", "healthcheck"`, "stop_grace_period: 30s", "pull_policy: never",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("compose.yaml lacks %q", want)
		}
	}
	env, err := os.ReadFile("../../deploy/hotline.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^HOTLINE_[A-Z_]+=\s*$`).Find(env); m != nil {
		t.Errorf("hotline.env.example has a blank line that would be refused: %q", m)
	}
}

// hotline healthcheck exits 0 on a running server's 200, 1 on a failing
// /healthz or none; a wildcard listen address is asked on loopback.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	if code, out, errs := runCLI(t, "healthcheck", "--addr", m.Addr()); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("healthcheck of a running server: %d %q %q", code, out, errs)
	}
	_, port, _ := strings.Cut(m.Addr(), ":")
	if code, _, errs := runCLI(t, "healthcheck", "--addr", "0.0.0.0:"+port); code != 0 {
		t.Errorf("healthcheck on 0.0.0.0: %d %q", code, errs)
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	if code, _, errs := runCLI(t, "healthcheck", "--url", failing.URL+"/healthz"); code != 1 || !strings.Contains(errs, "503 database unavailable") {
		t.Errorf("healthcheck of a failing server: %d %q", code, errs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if code, _, errs := runCLI(t, "healthcheck", "--addr", ln.Addr().String()); code != 1 || !strings.Contains(errs, "unhealthy") {
		t.Errorf("healthcheck with nothing listening: %d %q", code, errs)
	}
}
