package main

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Linux's software receive timestamps (Documentation/networking/timestamping):
// the kernel notes when each segment arrived, and recvmsg on a TCP socket
// hands back the time of the last one it copied.
const (
	sofTimestampingRxSoftware = 1 << 3
	sofTimestampingSoftware   = 1 << 4
)

// stampReader reads a TCP connection with recvmsg, keeping the kernel's
// arrival time of the last bytes read: an answer's arrival, whenever the
// tool's goroutine gets to read it (on a machine the tool shares with the
// server it measures, that can be a time slice later).
type stampReader struct {
	raw  syscall.RawConn
	oob  [128]byte
	last time.Time
}

// newStampReader turns the timestamps on for c; nil when it cannot.
func newStampReader(c net.Conn) *stampReader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPING, sofTimestampingRxSoftware|sofTimestampingSoftware)
	}); err != nil || serr != nil {
		return nil
	}
	return &stampReader{raw: raw}
}

func (s *stampReader) Read(p []byte) (int, error) {
	var n, oobn int
	var rerr error
	err := s.raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), p, s.oob[:], 0)
		return !errors.Is(rerr, syscall.EAGAIN)
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	if t, ok := softwareStamp(s.oob[:oobn]); ok {
		s.last = t
	}
	return n, nil
}

// softwareStamp finds SCM_TIMESTAMPING's software time in control messages.
func softwareStamp(oob []byte) (time.Time, bool) {
	const hdr = 16 // cmsghdr on 64-bit Linux: len uint64, level, type int32
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob))
		if l < hdr || l > len(oob) {
			return time.Time{}, false
		}
		level, typ := int32(binary.NativeEndian.Uint32(oob[8:])), int32(binary.NativeEndian.Uint32(oob[12:]))
		if level == syscall.SOL_SOCKET && typ == syscall.SO_TIMESTAMPING && l >= hdr+16 {
			sec, nsec := int64(binary.NativeEndian.Uint64(oob[hdr:])), int64(binary.NativeEndian.Uint64(oob[hdr+8:]))
			if sec != 0 || nsec != 0 {
				return time.Unix(sec, nsec), true
			}
		}
		oob = oob[(l+7)&^7:]
	}
	return time.Time{}, false
}
