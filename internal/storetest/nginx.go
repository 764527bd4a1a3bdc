package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NginxEnv names the nginx binary the replica test runs (Debian's /usr/sbin/nginx).
const NginxEnv = "GRADPATH_TEST_NGINX"

// Nginx runs the nginx configuration at conf (an http-block include, such as
// deploy/nginx/gradpath.conf) on loopback until the test ends: its listen line becomes a free
// loopback port and its upstream servers become upstreams. It returns nginx's base URL.
// Without the binary the test is skipped, or failed when CI=true.
func Nginx(t testing.TB, conf string, upstreams []string) string {
	t.Helper()
	bin := os.Getenv(NginxEnv)
	if bin == "" {
		if p, err := exec.LookPath("nginx"); err == nil {
			bin = p
		} else if fileExists("/usr/sbin/nginx") {
			bin = "/usr/sbin/nginx"
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no nginx: install Debian's nginx-light or set %s; CI must run the replica test", NginxEnv)
		}
		t.Skipf("nginx tests skipped: install nginx or set %s", NginxEnv)
	}
	src, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "    server %s max_fails=1 fail_timeout=10s;\n", u)
	}
	text := regexp.MustCompile(`(?m)^\s*server \S+:\d+ [^\n]*\n`).ReplaceAllString(string(src), "")
	text = strings.Replace(text, "upstream gradpath {\n", "upstream gradpath {\n"+servers.String(), 1)
	text = regexp.MustCompile(`(?m)^(\s*)listen 80;`).ReplaceAllString(text, "${1}listen "+addr+";")
	if !strings.Contains(text, addr) || strings.Count(text, "max_fails") != len(upstreams) {
		t.Fatalf("%s: no listen 80 or upstream lines to point at the test's servers", conf)
	}
	dir := t.TempDir()
	site := filepath.Join(dir, "gradpath.conf")
	main := fmt.Sprintf(`worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    include %[2]s;
}
`, dir, site)
	if err := os.WriteFile(site, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	// A file, not a pipe, for its output, and a process group of its own: its workers
	// outlive a killed master otherwise.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("nginx: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			output, _ := os.ReadFile(filepath.Join(dir, "output"))
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen on %s:\n%s%s", addr, output, log)
		}
	}
	return "http://" + addr
}
