package lvs

// SampleTable is sampleTable for the external tests.
var SampleTable = sampleTable
