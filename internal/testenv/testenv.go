// Package testenv gives tests the real services of the fuller suite: a Redis
// server, moto_server (S3 and Firehose emulation) and cfn-lint.
//
// Plain `go test ./...` skips those tests, so it passes on a machine with only
// Go. With SLUICE_FULL=1 (the fuller suite, run by .ci/run) they run, and a
// missing service or tool is a failure, not a skip.
package testenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvFull switches the fuller suite on.
const EnvFull = "SLUICE_FULL"

// Full reports whether the fuller suite was asked for.
func Full() bool { return os.Getenv(EnvFull) == "1" }

// need skips the test outside the fuller suite.
func need(t testing.TB, what string) {
	t.Helper()
	if !Full() {
		t.Skipf("needs %s; run the fuller suite with %s=1", what, EnvFull)
	}
}

// RedisAddr returns the address of the real Redis (REDIS_ADDR, default
// 127.0.0.1:6379), failing the test if it does not answer PING.
func RedisAddr(t testing.TB) string {
	t.Helper()
	need(t, "a real Redis")
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("testenv: Redis at %s: %v (start it with: redis-server --daemonize yes --port 6379 --save '')", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		t.Fatalf("testenv: Redis at %s: %v", addr, err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "+PONG") {
		t.Fatalf("testenv: Redis at %s answered %q, %v", addr, line, err)
	}
	return addr
}

// Tool returns the path of an executable, failing the test if it is missing.
func Tool(t testing.TB, name string) string {
	t.Helper()
	need(t, name)
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("testenv: %s is not installed: %v", name, err)
	}
	return p
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Moto starts moto_server on a free loopback port for the test's lifetime
// and returns its endpoint URL. It also points the AWS SDK at dummy
// credentials and a region, as moto accepts any.
func Moto(t testing.TB) string {
	t.Helper()
	bin := Tool(t, "moto_server")
	port := FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("testenv: start moto_server: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: moto_server did not answer on %s: %v", endpoint, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return endpoint
}

// SilentListener listens on a free loopback port, accepts connections and
// never answers, like a hung server or one whose replies a firewall drops.
// It needs nothing installed, so it works in every tier.
func SilentListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	return l.Addr().String()
}

// Chromium returns the path of a headless-capable Chromium (Debian's
// chromium package, installed by scripts/fuller-env.sh), failing the test
// if there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	need(t, "chromium")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("testenv: chromium is not installed (apt-get install chromium, or run scripts/fuller-env.sh)")
	return ""
}
