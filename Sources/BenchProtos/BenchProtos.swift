// BenchProtos: the bench.v1 benchmark service (issue 9) as Swift types, a service protocol and
// a client. Everything lives in Generated/ (scripts/gen, from Proto/bench); this file only
// keeps the target non-empty while scripts/gen rebuilds the generator.
