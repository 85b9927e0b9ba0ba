package applytest

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/plan"
)

// ChunkSize is how many operations a batch sends to the kernel at once, as
// package kernel does (its batchChunk): after a chunk with a failure, no
// further chunk is sent.
const ChunkSize = 256

// Batching returns k as an [apply.Batcher] that batches as the production
// kernel handle does (see [BatchKernel.Batch]), so that [apply.Run] takes the
// same path with it as with the real kernel. k itself does not batch:
// [apply.Run] sends it one operation at a time.
func (k *Kernel) Batching() *BatchKernel { return &BatchKernel{k} }

// A BatchKernel is a [Kernel] that batches; see [Kernel.Batching].
type BatchKernel struct {
	*Kernel
}

var _ apply.Batcher = (*BatchKernel)(nil)

// Batch runs ops as the production kernel handle's Batch does (package
// kernel), so that a test sees what an apply on a real kernel leaves
// behind:
//
//   - an op the handle refuses before sending anything (a name longer than
//     the kernel takes, a real server without an address, a weight outside
//     0 to 65535, a timeout that is not whole seconds, an unknown action)
//     fails, and then no op runs at all;
//   - the ops are sent in chunks of [ChunkSize]; every op of a chunk runs,
//     even after one of them failed, and is reported with its own result;
//   - after a chunk with a failure no further chunk is sent: the ops left
//     are reported with [apply.ErrNotRun];
//   - a SetTimeouts that sets nothing succeeds without a kernel call.
//
// It returns nil when every op succeeded, else one error per op (nil for
// those done). Each op sent is one mutating call, as with the methods: it
// counts in [Kernel.Ops], meets the staged fault and the delay.
func (b *BatchKernel) Batch(ops []plan.Op) []error { return b.batch(ops) }

func (k *Kernel) batch(ops []plan.Op) []error {
	errs := make([]error, len(ops))
	refused := false
	for i, op := range ops {
		if err := precheck(op); err != nil {
			errs[i], refused = err, true
		}
	}
	if refused {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = apply.ErrNotRun
			}
		}
		return errs
	}
	failed := false
	sent := 0 // ops sent in the current chunk
	for i, op := range ops {
		if isNoop(op) {
			continue
		}
		if sent == ChunkSize {
			if failed {
				for j := i; j < len(ops); j++ {
					errs[j] = apply.ErrNotRun
				}
				return errs
			}
			sent = 0
		}
		sent++
		if errs[i] = k.call(op); errs[i] != nil {
			failed = true
		}
	}
	if failed {
		return errs
	}
	return nil
}

// call makes the kernel call of op, as apply.Run does for a kernel that
// does not batch.
func (k *Kernel) call(op plan.Op) error {
	switch op.Action {
	case plan.SetTimeouts:
		return k.SetTimeouts(op.ToTimeouts)
	case plan.AddService:
		return k.AddService(lvs.Service{Key: op.Service, Name: op.ServiceName, Opts: op.To})
	case plan.EditService:
		return k.EditService(lvs.Service{Key: op.Service, Name: op.ServiceName, Opts: op.To})
	case plan.DeleteService:
		return k.DeleteService(op.Service)
	case plan.AddDest:
		return k.AddDest(op.Service, op.ToDest)
	case plan.EditDest, plan.DrainDest:
		return k.EditDest(op.Service, op.ToDest)
	case plan.DeleteDest:
		return k.DeleteDest(op.Service, op.FromDest.Addr)
	}
	return fmt.Errorf("unknown plan action %d: %w", op.Action, syscall.EINVAL)
}

// isNoop reports an op that the production handle completes without the
// kernel.
func isNoop(op plan.Op) bool {
	return op.Action == plan.SetTimeouts && op.ToTimeouts == (lvs.Timeouts{})
}

// schedNameMax is the longest scheduler or persistence engine name the
// kernel takes (IP_VS_SCHEDNAME_MAXLEN less the NUL).
const schedNameMax = 15

// precheck refuses what the production handle refuses before it sends a
// batch (its command.check), with the same reasons.
func precheck(op plan.Op) error {
	var o *lvs.ServiceOpts
	var d *lvs.DestOpts
	var addr netip.AddrPort
	switch op.Action {
	case plan.SetTimeouts:
		for _, t := range []time.Duration{op.ToTimeouts.TCP, op.ToTimeouts.TCPFin, op.ToTimeouts.UDP} {
			if t < 0 || t%time.Second != 0 || t/time.Second > 1<<31-1 {
				return fmt.Errorf("setting timeouts: timeout %s is not a whole number of seconds the kernel can hold", t)
			}
		}
		return nil
	case plan.AddService, plan.EditService:
		o = &op.To
	case plan.DeleteService:
		return nil
	case plan.AddDest, plan.EditDest, plan.DrainDest:
		d, addr = &op.ToDest.Opts, op.ToDest.Addr
	case plan.DeleteDest:
		addr = op.FromDest.Addr
	default:
		return fmt.Errorf("unknown plan action %d", op.Action)
	}
	switch {
	case o != nil && len(o.Scheduler) > schedNameMax:
		return fmt.Errorf("%s %s: scheduler name %q is longer than %d bytes", op.Action, op.Service, o.Scheduler, schedNameMax)
	case o != nil && len(o.PE) > schedNameMax:
		return fmt.Errorf("%s %s: persistence engine name %q is longer than %d bytes", op.Action, op.Service, o.PE, schedNameMax)
	case o == nil && !addr.Addr().IsValid():
		return fmt.Errorf("%s %s: a real server needs an address", op.Action, op.Service)
	case d != nil && (d.Weight < 0 || d.Weight > 65535):
		return fmt.Errorf("%s %s %s: weight must be between 0 and 65535, not %d", op.Action, op.Service, addr, d.Weight)
	}
	return nil
}
