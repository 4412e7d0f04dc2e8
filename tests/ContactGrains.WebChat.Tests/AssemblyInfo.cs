// Each test drives a browser against a silo and the web chat on a 2-core machine: one at a time,
// so no test's waits are starved by another's load.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
