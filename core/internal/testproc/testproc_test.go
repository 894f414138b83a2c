package testproc

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
)

func TestFreePort(t *testing.T) {
	port, err := FreePort(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("FreePort() = %d, which cannot be listened on: %v", port, err)
	}
	l.Close()
}

// TestStart tries again only while the log says a port was in use.
func TestStart(t *testing.T) {
	failed := errors.New("failed")
	tests := []struct {
		name      string
		fails     int
		log       string
		wantCalls int
		wantErr   bool
	}{
		{"first time", 0, "", 1, false},
		{"port taken twice", 2, "Address already in use", 3, false},
		{"port always taken", 100, "Address already in use", Attempts, true},
		{"other failure", 100, "bad configuration", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			log, err := Start(func() error {
				calls++
				if calls <= tt.fails {
					return failed
				}
				return nil
			}, func() string { return tt.log })
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("Start(%s) called start %d times, err %v; want %d, error %v", tt.name, calls, err, tt.wantCalls, tt.wantErr)
			}
			if tt.wantErr && log != tt.log {
				t.Errorf("Start(%s) log = %q; want %q", tt.name, log, tt.log)
			}
		})
	}
}
