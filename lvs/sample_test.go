package lvs_test

import (
	"testing"

	"github.com/lvsctl/lvsctl/internal/lvstest"
	"github.com/lvsctl/lvsctl/lvs"
)

// The sample table sets every field of ServiceOpts and DestOpts in one
// service or real server at least, so that a field added to them is
// carried through the JSON form (TestJSONRoundTrip) once it is set there.
func TestSampleTableSetsEveryField(t *testing.T) {
	lvstest.EveryOptionSet(t, "sampleTable", lvs.SampleTable(), false)
}
