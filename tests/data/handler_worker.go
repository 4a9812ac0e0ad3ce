package worker

import (
	"context"
	"fmt"
	"os/exec"
	"sync"

	"github.com/example/queue"
)

// Pool runs jobs on a fixed number of goroutines.
// It is safe for concurrent use.
type Pool struct {
	mu      sync.Mutex
	size    int
	running map[string]bool
}

// NewPool returns a pool with n workers.
func NewPool(n int) *Pool {
	return &Pool{size: n, running: map[string]bool{}}
}

func (p *Pool) Run(ctx context.Context, jobs []queue.Job) error {
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Add(1)
		go func(j queue.Job) {
			defer wg.Done()
			p.mark(j.ID, true)
			if err := exec.CommandContext(ctx, j.Cmd, j.Args...).Run(); err != nil {
				fmt.Println("job failed:", j.ID, err)
			}
			p.mark(j.ID, false)
		}(job)
	}
	wg.Wait()
	return nil
}

func (p *Pool) mark(id string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[id] = on
}
