package rediskit

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// intakeRunners is how many pipelines of intake scripts a queue has in
// flight at most; intakeBatch bounds one pipeline.
const (
	intakeRunners = 2
	intakeBatch   = 128
)

// intake sends the receiver's reserve-and-enqueue scripts (enqueueOnceScript)
// of concurrent deliveries together: each runner takes the scripts waiting
// when it is free, up to intakeBatch, and sends them in one pipeline, one
// write and one read for all, and each caller gets its own reply. A lone
// delivery goes at once, alone; under load, deliveries that arrive while
// the runners are busy share the next round trip. Redis then reads, wakes
// and writes (its sockets and its append-only file) once per batch instead
// of once per delivery: most of what a delivery cost it beyond the
// script's own work. Each script stays atomic and whole, and a delivery is
// still answered only after its own script's reply.
type intake struct {
	rdb  redis.UniversalClient
	reqs chan *intakeReq
	wg   sync.WaitGroup
}

// intakeReq is one delivery's script and where its reply goes.
type intakeReq struct {
	ctx  context.Context
	keys []string
	args []any
	res  chan intakeRes // buffered: a runner never waits for the caller
}

type intakeRes struct {
	code int
	id   string
	err  error
}

// newIntake starts the runners; stop ends them once every request sent
// has been answered, and wait waits for that.
func newIntake(rdb redis.UniversalClient) *intake {
	in := &intake{rdb: rdb, reqs: make(chan *intakeReq)}
	in.wg.Add(intakeRunners)
	for range intakeRunners {
		go in.run()
	}
	return in
}

// stop tells the runners to end after the requests in flight; no request
// may be sent after it is called.
func (in *intake) stop() { close(in.reqs) }

// wait returns once the runners ended (after stop).
func (in *intake) wait() { in.wg.Wait() }

// do runs enqueueOnceScript with keys and args and returns its code and
// entry ID (see onceReply). It returns ctx's error if ctx ends first; the
// script may then still run, as a command whose reply was lost may.
func (in *intake) do(ctx context.Context, keys []string, args []any) (int, string, error) {
	r := &intakeReq{ctx: ctx, keys: keys, args: args, res: make(chan intakeRes, 1)}
	select {
	case in.reqs <- r:
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
	select {
	case res := <-r.res:
		return res.code, res.id, res.err
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
}

func (in *intake) run() {
	defer in.wg.Done()
	batch := make([]*intakeReq, 0, intakeBatch)
	for r := range in.reqs {
		batch = append(batch[:0], r)
	more:
		for len(batch) < intakeBatch {
			select {
			case r, ok := <-in.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		in.send(batch)
	}
}

// send runs the batch's scripts in one pipeline (EVALSHA; those the server
// did not know, again with their source) and answers each request. A
// request whose context ended before is answered with its error and not
// sent. The pipeline's context carries the first request's values (traces,
// for one) and the latest deadline of the batch, so that one caller's
// deadline does not cut the others' scripts short.
func (in *intake) send(batch []*intakeReq) {
	live := batch[:0]
	var deadline time.Time
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.res <- intakeRes{err: err}
			continue
		}
		d, ok := r.ctx.Deadline()
		if !ok {
			d = time.Now().Add(time.Minute)
		}
		if d.After(deadline) {
			deadline = d
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(live[0].ctx), deadline)
	defer cancel()
	if len(live) == 1 { // nothing to share: the plain call, with its own NOSCRIPT handling
		r := live[0]
		code, id, err := onceReply(enqueueOnceScript.Run(ctx, in.rdb, r.keys, r.args...))
		r.res <- intakeRes{code: code, id: id, err: err}
		return
	}
	cmds := in.pipeline(ctx, live, false)
	var again []*intakeReq
	for i, r := range live {
		if err := cmds[i].Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			again = append(again, r)
			continue
		}
		code, id, err := onceReply(cmds[i])
		r.res <- intakeRes{code: code, id: id, err: err}
	}
	if len(again) > 0 { // first use on a server: send the source
		cmds = in.pipeline(ctx, again, true)
		for i, r := range again {
			code, id, err := onceReply(cmds[i])
			r.res <- intakeRes{code: code, id: id, err: err}
		}
	}
}

// pipeline sends the requests' scripts in one pipeline, as EVAL when eval
// is set, else EVALSHA, and returns their commands. Each command's own
// error is read by the caller.
func (in *intake) pipeline(ctx context.Context, reqs []*intakeReq, eval bool) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(reqs))
	_, _ = in.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range reqs {
			if eval {
				cmds[i] = enqueueOnceScript.Eval(ctx, p, r.keys, r.args...)
			} else {
				cmds[i] = enqueueOnceScript.EvalSha(ctx, p, r.keys, r.args...)
			}
		}
		return nil
	})
	return cmds
}
