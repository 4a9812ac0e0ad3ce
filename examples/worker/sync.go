package worker

import (
	"context"
	"log"
	"os/exec"
	"sync"
	"time"
)

// Syncer mirrors product images to the CDN with a bounded number of uploads.
type Syncer struct {
	mu       sync.Mutex
	uploaded map[string]time.Time
	limit    int
}

// NewSyncer returns a Syncer that runs at most limit uploads at once.
func NewSyncer(limit int) *Syncer {
	return &Syncer{uploaded: map[string]time.Time{}, limit: limit}
}

// SyncAll uploads every path that has not been uploaded yet.
func (s *Syncer) SyncAll(ctx context.Context, paths []string) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, s.limit)
	for _, path := range paths {
		if s.seen(path) {
			continue
		}
		wg.Add(1)
		slots <- struct{}{}
		go func(p string) {
			defer wg.Done()
			defer func() { <-slots }()
			if err := exec.CommandContext(ctx, "cdn-upload", p).Run(); err != nil {
				log.Printf("upload %s: %v", p, err)
				return
			}
			s.mark(p)
		}(path)
	}
	wg.Wait()
}

func (s *Syncer) seen(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.uploaded[path]
	return ok
}

func (s *Syncer) mark(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploaded[path] = time.Now()
}
