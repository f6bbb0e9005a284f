package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
)

// devtools drives a headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, answers and events on fd 4),
// so a test sees every request a page makes, and only the page's: the
// browser's own background traffic belongs to no page session.
type devtools struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     *os.File
	nextID int
	mu     sync.Mutex
	waits  map[int]chan json.RawMessage
	events chan cdpMessage
}

type cdpMessage struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	SessionID string          `json:"sessionId"`
	Params    json.RawMessage `json:"params"`
	Result    json.RawMessage `json:"result"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func startChromium(t *testing.T, chromium string) *devtools {
	t.Helper()
	toChrome, ourEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromChrome, chromeEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "--window-size=1280,2000", "--hide-scrollbars", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, chromeEnd}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	toChrome.Close()
	chromeEnd.Close()
	d := &devtools{t: t, cmd: cmd, in: ourEnd, waits: map[int]chan json.RawMessage{}, events: make(chan cdpMessage, 1024)}
	go func() {
		r := bufio.NewReader(fromChrome)
		for {
			b, err := r.ReadBytes(0)
			if err != nil {
				close(d.events)
				return
			}
			var m cdpMessage
			if json.Unmarshal(b[:len(b)-1], &m) != nil {
				continue
			}
			if m.ID != 0 {
				d.mu.Lock()
				ch := d.waits[m.ID]
				d.mu.Unlock()
				if ch != nil {
					if m.Error != nil {
						m.Result, _ = json.Marshal(map[string]string{"error": m.Error.Message})
					}
					ch <- m.Result
				}
				continue
			}
			select {
			case d.events <- m:
			default: // a test that stops listening must not block the reader
			}
		}
	}()
	t.Cleanup(func() {
		ourEnd.Close()
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", stderr.String())
		}
	})
	return d
}

// call sends a command (in session, if not "") and returns its result.
func (d *devtools) call(session, method string, params any) json.RawMessage {
	d.t.Helper()
	d.mu.Lock()
	d.nextID++
	id := d.nextID
	ch := make(chan json.RawMessage, 1)
	d.waits[id] = ch
	d.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	if _, err := d.in.Write(append(b, 0)); err != nil {
		d.t.Fatalf("devtools %s: %v", method, err)
	}
	select {
	case res := <-ch:
		if bytes.Contains(res, []byte(`"error"`)) && !bytes.Contains(res, []byte(`"data"`)) && len(res) < 300 {
			d.t.Fatalf("devtools %s: %s", method, res)
		}
		return res
	case <-time.After(60 * time.Second):
		d.t.Fatalf("devtools %s: no answer in 60s", method)
	}
	return nil
}

// load opens url in a new page and returns the URLs of every request the
// page made, once it has loaded (and a moment after, for late fetches),
// and its session for further commands.
func (d *devtools) load(url string) (requests []string, session string) {
	d.t.Helper()
	var target struct{ TargetID string }
	json.Unmarshal(d.call("", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var attached struct{ SessionID string }
	json.Unmarshal(d.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &attached)
	session = attached.SessionID
	d.call(session, "Network.enable", map[string]any{})
	d.call(session, "Page.enable", map[string]any{})
	d.call(session, "Page.navigate", map[string]any{"url": url})
	loaded := time.Time{}
	deadline := time.After(60 * time.Second)
	for {
		var grace <-chan time.Time
		if !loaded.IsZero() {
			grace = time.After(time.Until(loaded.Add(time.Second)))
		}
		select {
		case m, ok := <-d.events:
			if !ok {
				d.t.Fatal("chromium exited")
			}
			if m.SessionID != session {
				continue
			}
			switch m.Method {
			case "Network.requestWillBeSent":
				var p struct{ Request struct{ URL string } }
				json.Unmarshal(m.Params, &p)
				if p.Request.URL != url {
					requests = append(requests, p.Request.URL)
				}
			case "Page.loadEventFired":
				loaded = time.Now()
			}
		case <-grace:
			return requests, session
		case <-deadline:
			d.t.Fatalf("%s did not load in 60s", url)
		}
	}
}

// The report page, rendered by a real browser, shows report.json's figures
// and fetches nothing (the fuller suite). A screenshot is left as an
// artefact in $SLUICE_ARTEFACTS (default: $TMPDIR/sluice-artefacts).
func TestReportPageInHeadlessChromium(t *testing.T) {
	chromium := testenv.Chromium(t)
	r, out := runReport(t, "../../examples/broken", exitDeadLetter)
	rOK, outOK := runReport(t, "../../examples/input", exitOK)
	d := startChromium(t, chromium)

	// The check can fail: a page with a remote image is seen fetching it.
	control := filepath.Join(t.TempDir(), "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://sluice-probe.invalid/pixel.png"></body></html>`), 0o644)
	if got, _ := d.load("file://" + control); len(got) == 0 {
		t.Fatal("the control page's remote image went unseen: the network check cannot fail")
	}

	artefacts := os.Getenv("SLUICE_ARTEFACTS")
	if artefacts == "" {
		artefacts = filepath.Join(os.TempDir(), "sluice-artefacts")
	}
	if err := os.MkdirAll(artefacts, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name string
		out  string
		r    any
	}{{"broken", out, r}, {"input", outOK, rOK}} {
		page, _ := filepath.Abs(filepath.Join(run.out, "report.html"))
		requests, session := d.load("file://" + page)
		if len(requests) > 0 {
			t.Errorf("%s: report.html made requests: %v", run.name, requests)
		}
		var dom struct{ Result struct{ Value string } }
		json.Unmarshal(d.call(session, "Runtime.evaluate", map[string]any{"expression": "document.documentElement.outerHTML", "returnByValue": true}), &dom)
		var shot struct{ Data string }
		json.Unmarshal(d.call(session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}), &shot)
		png, err := base64.StdEncoding.DecodeString(shot.Data)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 10_000 {
			t.Fatalf("%s: no screenshot (%d bytes, %v)", run.name, len(png), err)
		}
		path := filepath.Join(artefacts, "report-"+run.name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
		checkRenderedFigures(t, run.name, dom.Result.Value, run.r)
	}
}

// checkRenderedFigures compares the rendered field tables and totals with
// report.json, field by field.
func checkRenderedFigures(t *testing.T, name, dom string, rep any) {
	t.Helper()
	b, _ := json.Marshal(rep)
	var r struct {
		Totals  map[string]int64
		Schemas []struct {
			Schema string
			Fields []map[string]any
		}
	}
	json.Unmarshal(b, &r)
	if !strings.Contains(dom, `content="default-src 'none'; style-src 'unsafe-inline'"`) {
		t.Errorf("%s: the rendered page lost its Content-Security-Policy", name)
	}
	rows := 0
	for _, s := range r.Schemas {
		table := regexp.MustCompile(`(?s)<table class="fields" data-schema="` + regexp.QuoteMeta(s.Schema) + `">.*?</table>`).FindString(dom)
		if table == "" {
			t.Errorf("%s: no field table for %s", name, s.Schema)
			continue
		}
		for _, f := range s.Fields {
			want := `<tr data-field="` + regexp.QuoteMeta(f["field"].(string)) + `">.*?`
			for _, k := range []string{"delivered", "coerced", "null", "defaulted", "preserved", "failed"} {
				want += fmt.Sprintf(`<td class="n %s[^"]*">%v</td>`, k, f[k])
			}
			if !regexp.MustCompile(want).MatchString(table) {
				t.Errorf("%s: %s.%s: the page does not show %v", name, s.Schema, f["field"], f)
			}
			rows++
		}
	}
	if rows < 10 {
		t.Errorf("%s: only %d field rows checked", name, rows)
	}
	for _, k := range []string{"records_in", "ok", "dropped", "failed", "dead_letters"} {
		if !strings.Contains(dom, fmt.Sprintf(`<td class="n %s">%d</td>`, k, r.Totals[k])) {
			t.Errorf("%s: the page does not show %s = %d", name, k, r.Totals[k])
		}
	}
}
