package main

// The floor: what pushing one frame to N loopback sockets costs with nothing
// but the kernel in the way. N TCP connections to ourselves; a writer thread
// sends one unmasked text frame to each server side, one write(2) per socket
// (what a server does at the least), and the same epoll reader reads the
// client sides. Any server's fan-out time on this machine is this plus its
// own work.

import (
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type floorRound struct {
	id     int64
	marker string
	ack    chan ack
}

type floorWriter struct {
	fds   []int
	files []*os.File
	round chan floorRound
	cpuNs atomic.Int64 // the writer thread's CPU time while writing
}

func threadCPUNs() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func openFloor(cfg config, pl *poller, conns []*conn) *floorWriter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("floor: listen: %v", err)
	}
	defer ln.Close()
	w := &floorWriter{round: make(chan floorRound)}
	for i := range conns {
		cl, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		if err != nil {
			fatal("floor: dial: %v", err)
		}
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
		sv, err := ln.Accept()
		if err != nil {
			fatal("floor: accept: %v", err)
		}
		for _, nc := range []net.Conn{cl, sv} {
			_ = nc.(*net.TCPConn).SetNoDelay(true)
		}
		cf, err1 := cl.(*net.TCPConn).File()
		sf, err2 := sv.(*net.TCPConn).File()
		if err1 != nil || err2 != nil {
			fatal("floor: %v %v", err1, err2)
		}
		cl.Close()
		sv.Close()
		fd := int(cf.Fd())
		if err := syscall.SetNonblock(fd, true); err != nil {
			fatal("floor: %v", err)
		}
		c := &conn{i: i, fd: fd, f: cf, ready: make(chan struct{})}
		conns[i] = c
		if err := pl.add(c); err != nil {
			fatal("floor: epoll: %v", err)
		}
		w.fds = append(w.fds, int(sf.Fd())) // blocking: a write of one small frame goes through whole
		w.files = append(w.files, sf)
	}
	go w.loop(cfg.FloorPayload)
	return w
}

func (w *floorWriter) loop(payload string) {
	runtime.LockOSThread()
	for r := range w.round {
		p := []byte(strings.Replace(payload, "MARKER", r.marker, -1))
		frame := serverFrame(p)
		c0 := threadCPUNs()
		a := ack{round: r.id}
		for _, fd := range w.fds {
			if n, err := syscall.Write(fd, frame); n != len(frame) {
				a.err = "floor write: " + errString(err)
				break
			}
		}
		w.cpuNs.Add(threadCPUNs() - c0)
		a.at = now()
		r.ack <- a
	}
}

func errString(err error) string {
	if err == nil {
		return "short write"
	}
	return err.Error()
}

// serverFrame: one unmasked final text frame, as a server sends it.
func serverFrame(p []byte) []byte {
	out := []byte{0x81}
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
