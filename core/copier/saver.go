package copier

import (
	"maps"
	"sync"

	"mailmover/core/state"
)

// saver writes folder states in the background, so that the workers do not
// wait for the disk (each write is an fsync or two). It is handed snapshots
// taken after the target confirmed what they record, so a state on disk
// never claims more than the target holds; a crash loses at most the newest
// snapshots, and what they recorded is recognised on the target by identity
// in the next run. For each folder only the newest snapshot waiting is kept,
// and the snapshots of one folder are written in the order they were taken.
type saver struct {
	st *state.Dir

	mu   sync.Mutex
	idle *sync.Cond
	// pending holds the newest unwritten snapshot of each folder, by source
	// name; order lists those names, oldest first.
	pending map[string]*state.Folder
	order   []string
	// writing is the folder whose snapshot is being written.
	writing string
	busy    bool
	err     error
}

func newSaver(st *state.Dir) *saver {
	s := &saver{st: st, pending: map[string]*state.Folder{}}
	s.idle = sync.NewCond(&s.mu)
	return s
}

// snapshotState copies a folder state, so that the worker may go on changing it.
func snapshotState(fs *state.Folder) *state.Folder {
	c := *fs
	c.Copied = maps.Clone(fs.Copied)
	return &c
}

// put queues a snapshot of fs for writing. It returns the error of an
// earlier write, if one failed.
func (s *saver) put(fs *state.Folder) error {
	snap := snapshotState(fs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if _, ok := s.pending[snap.Source]; !ok {
		s.order = append(s.order, snap.Source)
	}
	s.pending[snap.Source] = snap
	if !s.busy {
		s.busy = true
		go s.loop()
	}
	return nil
}

func (s *saver) loop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 {
		name := s.order[0]
		s.order = s.order[1:]
		f := s.pending[name]
		delete(s.pending, name)
		s.writing = name
		s.mu.Unlock()
		err := s.st.Save(f)
		s.mu.Lock()
		s.writing = ""
		if err != nil && s.err == nil {
			s.err = err
		}
		s.idle.Broadcast()
	}
	s.busy = false
	s.idle.Broadcast()
}

// flushFolder waits until the snapshots of one folder are written, and
// returns the first error met.
func (s *saver) flushFolder(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pending[name] != nil || s.writing == name {
		s.idle.Wait()
	}
	return s.err
}

// flush waits until everything queued is written and returns the first
// error met.
func (s *saver) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.busy {
		s.idle.Wait()
	}
	return s.err
}
