package pgtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// Run starts a server as [Start] does, for a program that is not a test
// (a benchmark command, say). It returns the server and a function that
// stops it and removes its directory; call it exactly once, when done.
// Where Start would skip or fail its test, Run returns an error, after
// undoing what it had started.
//
// The server's Stop method may be called before the returned function;
// [Server.Dir], [Server.PID], [Server.URL] and [Server.Pool] work as with
// Start.
func Run(opts ...Option) (s *Server, stop func() error, err error) {
	tb := &programTB{}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(abort); !ok {
				panic(r)
			}
			s, stop, err = nil, nil, errors.Join(append([]error{tb.failure()}, tb.cleanup()...)...)
		}
	}()
	s = Start(tb, opts...)
	return s, func() error { return errors.Join(tb.cleanup()...) }, nil
}

// abort is the panic with which programTB ends Start, as t.FailNow ends
// a test's goroutine.
type abort struct{}

// programTB is the part of testing.TB that Start and Server use, for a
// program: Fatal and Skip record why and abort, Errorf records, and
// Cleanup functions run, last first, when the program calls cleanup.
// Any other method of testing.TB panics: Start does not call them.
type programTB struct {
	testing.TB // nil: only the methods below are implemented

	mu       sync.Mutex
	why      error
	errs     []error
	cleanups []func()
}

func (*programTB) Helper() {}

func (p *programTB) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

func (p *programTB) Errorf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *programTB) Fatalf(format string, args ...any) { p.stop(fmt.Errorf(format, args...)) }

func (p *programTB) Fatal(args ...any) { p.stop(errors.New(fmt.Sprint(args...))) }

func (p *programTB) Skip(args ...any) { p.stop(errors.New(fmt.Sprint(args...))) }

func (p *programTB) stop(err error) {
	p.mu.Lock()
	p.why = err
	p.mu.Unlock()
	panic(abort{})
}

func (p *programTB) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.why
}

// cleanup runs the cleanup functions, last registered first, once, and
// returns the errors they reported.
func (p *programTB) cleanup() []error {
	p.mu.Lock()
	fs := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := p.errs
	p.errs = nil
	return errs
}
