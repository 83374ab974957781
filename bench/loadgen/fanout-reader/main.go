// fanout-reader: the client side of the fan-out benchmark (bench/scenarios/fanout.ts).
//
// It opens N agent WebSockets (smart-chat's /ws endpoint, or socket.io's
// engine.io v4 WebSocket transport), then runs rounds: it triggers one push
// per round and times, on its own monotonic clock, how long until the first
// and the last socket have the round's marker. The handshakes use the net
// package; then one thread reads every socket through one epoll set (one
// read(2) per readable socket, no goroutine per socket) with a minimal
// RFC 6455 parser: server frames unmasked, partial frames kept across reads,
// fragmented messages reassembled, ping answered with a masked pong. Its user
// time is a few µs per frame, against 10–15 µs in one Node event loop.
// Linux only (epoll).
//
// Triggers: `parent` writes "publish <round> <marker>" on stdout and the Node
// scenario relays it to the pod over IPC (the same path for every server),
// answering "ack <round> ok" (or "ack <round> err <why>") on stdin; `webhook`
// POSTs a customer webhook carrying the marker to the pod itself.
//
// Protocol with the parent (one line each): stdout "ready <n>", then after
// "go" on stdin the rounds, then "result <json>"; "error <why>" on failure.
// Bounded: every wait has a deadline, the process exits after lifetimeMs, and
// when its stdin closes (the parent is gone). The config is one JSON argument.
//
// Standard library only. Build: go build -o <out> . (in this directory).
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	URLs           []string `json:"urls"`
	Count          int      `json:"count"`
	Protocol       string   `json:"protocol"` // "smart-chat" | "socketio"
	Rounds         int      `json:"rounds"`
	Warmup         int      `json:"warmupRounds"`
	GapMs          float64  `json:"gapMs"`
	RoundTimeoutMs float64  `json:"roundTimeoutMs"`
	MaxMs          float64  `json:"maxMs"`
	Via            string   `json:"via"` // "parent" | "webhook"
	// webhook: where to POST, and the body with IIIIIIIIIIII (message id digits) and MARKER to fill per round.
	WebhookURL  string  `json:"webhookUrl"`
	WebhookBody string  `json:"webhookBody"`
	LifetimeMs  float64 `json:"lifetimeMs"`
	// floor: the frame payload the bare writer sends, with MARKER replaced per round.
	FloorPayload string `json:"floorPayload"`
	// Poll without sleeping while a round is on (see poller.spin); false: always sleep in epoll_wait.
	Spin     bool `json:"spin"`
	Parallel int  `json:"parallel"`
}

type result struct {
	Sockets    int       `json:"sockets"`
	RoundsRun  int       `json:"roundsRun"`
	Incomplete int       `json:"incomplete"`
	LastMs     []float64 `json:"lastMs"`
	FirstMs    []float64 `json:"firstMs"`
	// Trigger → the parent's ack (or the webhook's response): the relay plus the pod's publish call.
	AckMs []float64 `json:"ackMs"`
	// This process's CPU time (user, kernel) over the timed rounds, ms per round.
	ReaderCPUMs float64 `json:"readerCpuMs"`
	ReaderSysMs float64 `json:"readerSysMs"`
	// floor only: the bare writer's CPU time (its thread's, user + kernel), ms per round.
	WriterCPUMs float64 `json:"writerCpuMs,omitempty"`
}

var base = time.Now()

// now: nanoseconds on this process's monotonic clock, the one clock every time here is read from.
func now() int64 { return int64(time.Since(base)) }

type round struct {
	id       int64
	needle   []byte
	arrivals []int64 // per socket, written once by its reader before `have` is incremented
	have     atomic.Int32
	n        int32
	done     chan struct{}
}

var current atomic.Pointer[round]

var stdoutMu sync.Mutex

func say(format string, a ...any) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_, _ = os.Stdout.Write([]byte(fmt.Sprintf(format, a...) + "\n"))
}

func fatal(format string, a ...any) {
	say("error "+format, a...)
	os.Exit(1)
}

// ---- WebSocket connections: handshake with net, then one epoll loop reads them all ----

type conn struct {
	i        int
	fd       int
	f        *os.File // owns fd (kept so the runtime never closes it behind our back)
	socketio bool
	pending  []byte // the start of a frame not complete yet
	msg      []byte // a fragmented message being reassembled
	msgOp    byte   // its opcode (0: none in progress)
	ready    chan struct{}
	once     sync.Once
	last     int64 // the last round this socket counted (epoll loop only)
	wmu      sync.Mutex
}

const maxFrame = 16 << 20

// writeFrame sends one masked client frame (RFC 6455 §5.3: every client frame is masked).
// Frames are a few bytes, so a non-blocking write goes through whole; a short one is reported.
func (c *conn) writeFrame(opcode byte, payload []byte) {
	if len(payload) > 125 {
		panic("client frames stay under 126 bytes")
	}
	out := make([]byte, 6+len(payload))
	out[0] = 0x80 | opcode
	out[1] = 0x80 | byte(len(payload))
	_, _ = rand.Read(out[2:6])
	for k, b := range payload {
		out[6+k] = b ^ out[2+k%4]
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if n, err := syscall.Write(c.fd, out); n != len(out) {
		fmt.Fprintf(os.Stderr, "fanout-reader: socket %d: short write (%d of %d): %v\n", c.i, n, len(out), err)
	}
}

func (c *conn) markReady() { c.once.Do(func() { close(c.ready) }) }

// dial connects and upgrades (HTTP/1.1 → WebSocket), then hands the socket's descriptor over, non-blocking.
func dial(i int, u *url.URL, socketio bool) (*conn, error) {
	nc, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close() // the descriptor used from here on is a duplicate
	tc := nc.(*net.TCPConn)
	_ = tc.SetNoDelay(true)
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(nc, 4096)
	status, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("socket %d: no upgrade answer: %w", i, err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101") {
		return nil, fmt.Errorf("socket %d: upgrade refused: %q", i, strings.TrimSpace(status))
	}
	for k := 0; ; k++ { // the headers, up to the blank line (bounded)
		line, err := r.ReadString('\n')
		if err != nil || k > 100 {
			return nil, fmt.Errorf("socket %d: bad upgrade headers: %v", i, err)
		}
		if line == "\r\n" {
			break
		}
	}
	f, err := tc.File()
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		f.Close()
		return nil, err
	}
	c := &conn{i: i, fd: fd, f: f, socketio: socketio, ready: make(chan struct{})}
	if n := r.Buffered(); n > 0 { // frames that came with the upgrade answer
		b, _ := r.Peek(n)
		c.pending = append([]byte(nil), b...)
	}
	return c, nil
}

// poller: one thread, one epoll set, every socket. A readable socket costs one read(2): no
// goroutine wake-ups, no second read to find the socket empty.
type poller struct {
	epfd  int
	conns []atomic.Pointer[conn] // by index (the epoll event's data)
	stop  atomic.Bool
	// While a round is on, the loop polls without sleeping (epoll_wait with no timeout, yielding the
	// core when nothing came), so a frame never waits for this thread to be woken and the writer never
	// pays for waking it; otherwise it sleeps. Bounded: a round lasts at most its timeout.
	spin atomic.Bool
	done chan struct{}
}

func newPoller(n int) *poller {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		fatal("epoll_create1: %v", err)
	}
	return &poller{epfd: epfd, conns: make([]atomic.Pointer[conn], n), done: make(chan struct{})}
}

func (p *poller) add(c *conn) error {
	p.conns[c.i].Store(c)
	if len(c.pending) > 0 { // frames that came with the upgrade answer: parsed here, before epoll knows the socket
		data := c.pending
		c.pending = nil
		c.consume(data)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.i)}
	return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev)
}

func (p *poller) loop() {
	runtime.LockOSThread()
	defer close(p.done)
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 256<<10)
	for !p.stop.Load() {
		wait := 100
		if p.spin.Load() {
			wait = 0
		}
		n, err := syscall.EpollWait(p.epfd, events, wait)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			fatal("epoll_wait: %v", err)
		}
		if n == 0 && wait == 0 {
			// Nothing yet: let anything else runnable on this core (a pod, Redis) go first.
			_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
			continue
		}
		for _, ev := range events[:n] {
			c := p.conns[ev.Fd].Load()
			if c == nil {
				continue
			}
			m, err := syscall.Read(c.fd, buf)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			if m <= 0 { // closed or failed: stop watching it
				_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
				p.conns[c.i].Store(nil)
				continue
			}
			if !c.consume(buf[:m]) {
				_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
				p.conns[c.i].Store(nil)
			}
		}
	}
}

// consume parses every complete frame in what has arrived (after any partial frame kept from
// before) and keeps the rest; false when the socket should no longer be read.
func (c *conn) consume(data []byte) bool {
	if len(c.pending) > 0 {
		c.pending = append(c.pending, data...)
		data = c.pending
	}
	for {
		if len(data) < 2 {
			break
		}
		fin := data[0]&0x80 != 0
		op := data[0] & 0x0f
		masked := data[1]&0x80 != 0
		n := uint64(data[1] & 0x7f)
		at := 2
		switch n {
		case 126:
			if len(data) < 4 {
				return c.keep(data)
			}
			n, at = uint64(binary.BigEndian.Uint16(data[2:4])), 4
		case 127:
			if len(data) < 10 {
				return c.keep(data)
			}
			n, at = binary.BigEndian.Uint64(data[2:10]), 10
		}
		if n > maxFrame {
			fmt.Fprintf(os.Stderr, "fanout-reader: socket %d: frame of %d bytes\n", c.i, n)
			return false
		}
		var mask []byte
		if masked { // servers do not mask; tolerated anyway
			if len(data) < at+4 {
				return c.keep(data)
			}
			mask, at = data[at:at+4], at+4
		}
		if uint64(len(data)-at) < n {
			return c.keep(data)
		}
		p := data[at : at+int(n)]
		data = data[at+int(n):]
		if masked {
			for k := range p {
				p[k] ^= mask[k%4]
			}
		}
		switch {
		case op == 0x9: // ping → pong with the same payload
			c.writeFrame(0xa, p)
		case op == 0xa: // pong
		case op == 0x8: // close: answer and stop
			c.writeFrame(0x8, []byte{0x03, 0xe8})
			return false
		case op == 0x0: // continuation
			if c.msgOp == 0 {
				continue
			}
			if len(c.msg)+len(p) > maxFrame {
				return false
			}
			c.msg = append(c.msg, p...)
			if fin {
				c.onMessage(c.msg)
				c.msg, c.msgOp = c.msg[:0], 0
			}
		case op == 0x1 || op == 0x2:
			if fin {
				c.onMessage(p)
			} else {
				c.msgOp = op
				c.msg = append(c.msg[:0], p...)
			}
		}
	}
	return c.keep(data)
}

// keep saves an incomplete frame for the next read (a copy: the read buffer is reused).
func (c *conn) keep(rest []byte) bool {
	if len(rest) == 0 {
		c.pending = c.pending[:0]
	} else {
		c.pending = append(make([]byte, 0, len(rest)+4096), rest...)
	}
	return true
}

var needleReady = []byte("40")

func (c *conn) onMessage(p []byte) {
	if c.socketio && len(p) > 0 {
		switch p[0] {
		case '0': // engine.io open → socket.io namespace connect
			c.writeFrame(0x1, []byte("40"))
			return
		case '2': // engine.io ping → pong
			c.writeFrame(0x1, []byte("3"))
			return
		case '4':
			if bytes.HasPrefix(p, needleReady) { // namespace connected
				c.markReady()
				return
			}
		}
	}
	r := current.Load()
	if r == nil || c.last == r.id || !bytes.Contains(p, r.needle) {
		return
	}
	c.last = r.id
	r.arrivals[c.i] = now()
	if r.have.Add(1) == r.n {
		close(r.done)
	}
}

// ---- the run ----

type ack struct {
	round int64
	err   string
	at    int64 // when it came in (this process's clock)
}

func cpuNs() (user, sys int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano(), ru.Stime.Nano()
}

// connectAll opens every socket, at most `parallel` handshakes at a time, each ready within 10 s.
func connectAll(cfg config, socketio bool, pl *poller, conns []*conn) {
	urls := make([]*url.URL, len(cfg.URLs))
	for k, s := range cfg.URLs {
		u, err := url.Parse(s)
		if err != nil {
			fatal("url %q: %v", s, err)
		}
		urls[k] = u
	}
	for start := 0; start < cfg.Count; start += cfg.Parallel {
		end := min(start+cfg.Parallel, cfg.Count)
		var wg sync.WaitGroup
		errs := make([]error, end-start)
		for i := start; i < end; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, err := dial(i, urls[i%len(urls)], socketio)
				if err != nil {
					errs[i-start] = err
					return
				}
				conns[i] = c
				if err := pl.add(c); err != nil {
					errs[i-start] = err
					return
				}
				if !socketio {
					c.markReady()
				}
				select {
				case <-c.ready:
				case <-time.After(10 * time.Second):
					errs[i-start] = fmt.Errorf("socket %d not ready within 10 s", i)
				}
			}(i)
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				fatal("%v", err)
			}
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fanout-reader '<json config>'")
		os.Exit(2)
	}
	var cfg config
	if err := json.Unmarshal([]byte(os.Args[1]), &cfg); err != nil {
		fatal("config: %v", err)
	}
	if cfg.LifetimeMs <= 0 {
		cfg.LifetimeMs = 5 * 60_000
	}
	// Hard lifetime: the process ends by itself whatever happens.
	time.AfterFunc(time.Duration(cfg.LifetimeMs*float64(time.Millisecond)), func() {
		fmt.Fprintln(os.Stderr, "fanout-reader: lifetime over, exiting")
		os.Exit(3)
	})
	floor := cfg.Protocol == "floor"
	if cfg.Count <= 0 || cfg.Count > 100_000 || (len(cfg.URLs) == 0 && !floor) {
		fatal("bad count %d or no urls", cfg.Count)
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 50
	}
	socketio := cfg.Protocol == "socketio"
	if !socketio && !floor && cfg.Protocol != "smart-chat" {
		fatal("unknown protocol %q", cfg.Protocol)
	}

	// Commands from the parent: "go", "ack …", "quit"; EOF means the parent is gone.
	goCh := make(chan struct{})
	acks := make(chan ack, 16)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		started := false
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), " ", 4)
			switch f[0] {
			case "go":
				if !started {
					started = true
					close(goCh)
				}
			case "ack":
				if len(f) >= 3 {
					id, _ := strconv.ParseInt(f[1], 10, 64)
					a := ack{round: id, at: now()}
					if f[2] != "ok" {
						a.err = strings.Join(f[2:], " ")
					}
					acks <- a
				}
			case "quit":
				os.Exit(0)
			}
		}
		os.Exit(0) // stdin closed: the parent is gone
	}()

	pl := newPoller(cfg.Count)
	go pl.loop()
	conns := make([]*conn, cfg.Count)
	var w *floorWriter
	if floor {
		w = openFloor(cfg, pl, conns)
	} else {
		connectAll(cfg, socketio, pl, conns)
	}
	say("ready %d", cfg.Count)
	select {
	case <-goCh:
	case <-time.After(60 * time.Second):
		fatal("no go within 60 s")
	}

	var client *http.Client
	if cfg.Via == "webhook" {
		client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	} else if cfg.Via != "parent" {
		fatal("unknown trigger %q", cfg.Via)
	}

	res := result{Sockets: cfg.Count, LastMs: []float64{}, FirstMs: []float64{}, AckMs: []float64{}}
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	roundTimeout := time.Duration(cfg.RoundTimeoutMs * float64(time.Millisecond))
	gap := time.Duration(cfg.GapMs * float64(time.Millisecond))
	maxRun := time.Duration(cfg.MaxMs * float64(time.Millisecond))
	var u0, s0 int64
	started := time.Now()
	for k := 0; k < cfg.Rounds && time.Since(started) < maxRun; k++ {
		if k == cfg.Warmup {
			u0, s0 = cpuNs()
			if w != nil {
				w.cpuNs.Store(0)
			}
		}
		marker := fmt.Sprintf("FANOUT%dx%dx", os.Getpid(), k)
		r := &round{id: int64(k) + 1, needle: []byte(marker), arrivals: make([]int64, cfg.Count), n: int32(cfg.Count), done: make(chan struct{})}
		current.Store(r)
		pl.spin.Store(cfg.Spin)
		ackCh := make(chan ack, 1)
		t0 := now()
		if client != nil {
			body := strings.Replace(cfg.WebhookBody, "IIIIIIIIIIII", fmt.Sprintf("%012d", k), -1)
			body = strings.Replace(body, "MARKER", marker, -1)
			go func(id int64) {
				resp, err := client.Post(cfg.WebhookURL, "application/json", strings.NewReader(body))
				if err != nil {
					ackCh <- ack{round: id, err: err.Error(), at: now()}
					return
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				if resp.StatusCode != 200 {
					ackCh <- ack{round: id, err: fmt.Sprintf("webhook answered %d", resp.StatusCode), at: now()}
					return
				}
				ackCh <- ack{round: id, at: now()}
			}(int64(k))
		} else if w != nil {
			w.round <- floorRound{id: int64(k), marker: marker, ack: ackCh}
		} else {
			say("publish %d %s", k, marker)
		}
		timer := time.NewTimer(roundTimeout)
		complete := false
		select {
		case <-r.done:
			complete = true
		case <-timer.C:
		}
		timer.Stop()
		pl.spin.Store(false)
		// The trigger's answer (bounded: the parent gives up on a pod after 10 s itself).
		var a ack
		deadline := time.After(15 * time.Second)
	wait:
		for {
			var got ack
			select {
			case got = <-acks:
			case got = <-ackCh:
			case <-deadline:
				fatal("round %d: no answer to the trigger within 15 s", k)
			}
			if got.round == int64(k) {
				a = got
				break wait
			}
		}
		if a.err != "" {
			fatal("round %d: trigger failed: %s", k, a.err)
		}
		res.RoundsRun++
		if k >= cfg.Warmup {
			if complete {
				first, last := r.arrivals[0], r.arrivals[0]
				for _, t := range r.arrivals {
					first = min(first, t)
					last = max(last, t)
				}
				res.LastMs = append(res.LastMs, ms(last-t0))
				res.FirstMs = append(res.FirstMs, ms(first-t0))
				res.AckMs = append(res.AckMs, ms(a.at-t0))
			} else {
				res.Incomplete++
			}
		}
		time.Sleep(gap)
	}
	if u1, s1 := cpuNs(); res.RoundsRun > cfg.Warmup {
		timed := float64(res.RoundsRun - cfg.Warmup)
		res.ReaderCPUMs = ms(u1+s1-u0-s0) / timed
		res.ReaderSysMs = ms(s1-s0) / timed
	}
	if w != nil && res.RoundsRun > cfg.Warmup {
		res.WriterCPUMs = ms(w.cpuNs.Load()) / float64(res.RoundsRun-cfg.Warmup)
	}
	current.Store(nil)
	out, _ := json.Marshal(res)
	say("result %s", out)

	// Close every socket: a close frame, then the TCP connection.
	pl.stop.Store(true)
	select {
	case <-pl.done:
	case <-time.After(2 * time.Second):
	}
	for _, c := range conns {
		c.writeFrame(0x8, []byte{0x03, 0xe8})
		_ = c.f.Close()
	}
}
