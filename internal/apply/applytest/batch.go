package applytest

import (
	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// ChunkSize is how many changes a batch sends to the kernel at once, as
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

// Batch makes the changes cs as the production kernel handle's Batch does
// (kernel.IPVS.Batch), so that a test sees what an apply on a real kernel
// leaves behind:
//
//   - a change the handle refuses before sending anything
//     ([kernel.Change.Check]: a name longer than the kernel takes, a real
//     server without an address, a weight outside 0 to 65535, a timeout
//     that is not whole seconds) fails, and then none is made at all;
//   - the changes are sent in chunks of [ChunkSize]; every change of a
//     chunk is made, even after one of them failed, and is reported with
//     its own result;
//   - after a chunk with a failure no further chunk is sent: the changes
//     left are reported with [apply.ErrNotRun];
//   - a SetTimeouts that sets nothing succeeds without a kernel call.
//
// It returns nil when every change was made, else one error per change
// (nil for those made). Each change sent is one mutating call, as with the
// methods: it counts in [Kernel.Ops], meets the staged fault and the
// delay.
func (b *BatchKernel) Batch(cs []kernel.Change) []error { return b.batch(cs) }

func (k *Kernel) batch(cs []kernel.Change) []error {
	errs := make([]error, len(cs))
	refused := false
	for i, c := range cs {
		if err := c.Check(); err != nil {
			errs[i], refused = &kernel.Error{Change: c, Err: err}, true
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
	sent := 0 // changes sent in the current chunk
	for i, c := range cs {
		if c.Kind == kernel.SetTimeouts && c.Timeouts == (lvs.Timeouts{}) {
			continue // no kernel call
		}
		if sent == ChunkSize {
			if failed {
				for j := i; j < len(cs); j++ {
					errs[j] = apply.ErrNotRun
				}
				return errs
			}
			sent = 0
		}
		sent++
		if errs[i] = apply.Do(k, c); errs[i] != nil {
			failed = true
		}
	}
	if failed {
		return errs
	}
	return nil
}
