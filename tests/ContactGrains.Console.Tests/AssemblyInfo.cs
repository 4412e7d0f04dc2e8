// Each test drives a browser against the silo on a 2-core machine: one at a time, so no test's
// waits are starved by another's load.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
