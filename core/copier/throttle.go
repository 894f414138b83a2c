package copier

import (
	"sync"
	"time"
)

// Throttle wraps an event handler so that progress events reach it at most
// once per interval (about ten a second suits a window); every other kind of
// event, and the latest progress before it, is always delivered. Safe for
// concurrent use by the run's workers.
func Throttle(interval time.Duration, f func(Event)) func(Event) {
	var mu sync.Mutex
	var last time.Time
	var pending *Event
	return func(e Event) {
		mu.Lock()
		if e.Kind == EventProgress {
			if now := time.Now(); now.Sub(last) >= interval {
				last = now
				pending = nil
				mu.Unlock()
				f(e)
				return
			}
			pending = &e
			mu.Unlock()
			return
		}
		p := pending
		pending = nil
		mu.Unlock()
		if p != nil {
			f(*p)
		}
		f(e)
	}
}
