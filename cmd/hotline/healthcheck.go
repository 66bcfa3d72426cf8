package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck asks a running server's /healthz and exits 0 only on 200:
// the container image has no curl, so Docker's HEALTHCHECK and compose's
// node checks run this.
func runHealthcheck(ctx context.Context, args []string, env *Env) error {
	var addr, target string
	var timeout time.Duration
	fs := newFlagSet("healthcheck", env, "Asks the server listening on --addr for GET /healthz and exits 0 when it answers 200, 1 otherwise\n(for Docker HEALTHCHECK and compose; the image has no curl). /healthz fails when the database\ncannot be read or written.")
	fs.str(&addr, "addr", "127.0.0.1:8080", "the server's listen address; 0.0.0.0 or [::] is asked on loopback")
	fs.StringVar(&target, "url", "", "the health URL to ask instead, e.g. http://127.0.0.1:8080/healthz")
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if target == "" {
		u, err := healthURL(addr)
		if err != nil {
			return err
		}
		target = u
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %d %s", target, resp.StatusCode, msg)
	}
	fmt.Fprintln(env.Stdout, msg)
	return nil
}

// healthURL is the /healthz URL of a listen address; a wildcard host is
// asked on loopback, where the server also listens.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
