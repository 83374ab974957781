package main

import (
	"bytes"
	"syscall"
	"testing"
)

// serverFrame builds an unmasked server frame (FIN set when fin).
func testFrame(fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch {
	case len(p) < 126:
		out = append(out, byte(len(p)))
	case len(p) < 1<<16:
		out = append(out, 126, byte(len(p)>>8), byte(len(p)))
	default:
		out = append(out, 127, 0, 0, 0, 0, byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p)))
	}
	return append(out, p...)
}

func testConn(t *testing.T, socketio bool) (*conn, int) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	return &conn{i: 0, fd: fds[0], socketio: socketio, ready: make(chan struct{})}, fds[1]
}

func startRound(id int64, needle string) *round {
	r := &round{id: id, needle: []byte(needle), arrivals: make([]int64, 1), n: 1, done: make(chan struct{})}
	current.Store(r)
	return r
}

func isDone(r *round) bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func TestFrameSplitAcrossReads(t *testing.T) {
	c, _ := testConn(t, false)
	r := startRound(1, "FANOUT1x3x")
	payload := bytes.Repeat([]byte("x"), 300) // 16-bit length
	payload = append(payload, []byte(" FANOUT1x3x ")...)
	f := append(testFrame(true, 1, []byte("hello")), testFrame(true, 1, payload)...)
	for k := range f { // one byte per read
		if !c.consume(f[k : k+1]) {
			t.Fatal("consume gave up")
		}
		if k < len(f)-1 && isDone(r) {
			t.Fatalf("counted before the frame was complete (byte %d)", k)
		}
	}
	if !isDone(r) {
		t.Fatal("marker not counted")
	}
	// Markers end in "x": round 3's is not found in round 31's.
	r2 := startRound(2, "FANOUT1x3x")
	c.consume(testFrame(true, 1, []byte("FANOUT1x31x")))
	if isDone(r2) {
		t.Fatal("round 31's marker counted for round 3")
	}
	c.consume(testFrame(true, 1, []byte("FANOUT1x3x")))
	if !isDone(r2) {
		t.Fatal("round 2 not counted")
	}
}

func TestFragmentedMessage(t *testing.T) {
	c, _ := testConn(t, false)
	r := startRound(3, "FANOUT9x1x")
	f := append(testFrame(false, 1, []byte("abc FANOUT9")), testFrame(false, 0, []byte("x1"))...)
	f = append(f, testFrame(true, 0x9, []byte("p"))...) // a control frame between fragments
	f = append(f, testFrame(true, 0, []byte("x end"))...)
	c.consume(f[:7])
	c.consume(f[7:])
	if !isDone(r) {
		t.Fatal("fragmented marker not counted")
	}
}

func readFrame(t *testing.T, fd int) (byte, []byte) {
	buf := make([]byte, 256)
	n, err := syscall.Read(fd, buf)
	if err != nil || n < 6 {
		t.Fatalf("read %d: %v", n, err)
	}
	if buf[1]&0x80 == 0 {
		t.Fatal("client frame not masked")
	}
	l := int(buf[1] & 0x7f)
	mask := buf[2:6]
	p := make([]byte, l)
	for k := range p {
		p[k] = buf[6+k] ^ mask[k%4]
	}
	return buf[0] & 0x0f, p
}

func TestPingAndSocketIO(t *testing.T) {
	c, peer := testConn(t, true)
	c.consume(testFrame(true, 0x9, []byte("hi")))
	if op, p := readFrame(t, peer); op != 0xa || string(p) != "hi" {
		t.Fatalf("pong: %x %q", op, p)
	}
	c.consume(testFrame(true, 1, []byte(`0{"sid":"a","pingInterval":25000}`)))
	if op, p := readFrame(t, peer); op != 1 || string(p) != "40" {
		t.Fatalf("namespace connect: %x %q", op, p)
	}
	c.consume(testFrame(true, 1, []byte(`40{"sid":"b"}`)))
	select {
	case <-c.ready:
	default:
		t.Fatal("not ready after 40")
	}
	c.consume(testFrame(true, 1, []byte("2")))
	if op, p := readFrame(t, peer); op != 1 || string(p) != "3" {
		t.Fatalf("engine.io pong: %x %q", op, p)
	}
	r := startRound(4, "FANOUT2x0x")
	c.consume(testFrame(true, 1, []byte(`42["new_message",{"message":"x FANOUT2x0x"}]`)))
	if !isDone(r) {
		t.Fatal("event not counted")
	}
	if c.consume(testFrame(true, 0x8, []byte{0x03, 0xe8})) {
		t.Fatal("close frame did not stop the socket")
	}
}
