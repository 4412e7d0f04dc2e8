// Each test runs a whole cluster (several silo processes and a PostgreSQL server) on a small
// machine: one at a time, so no test's failure detection is starved by another test's load.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
