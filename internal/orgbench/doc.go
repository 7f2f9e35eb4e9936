// Package orgbench holds benchmark P4 (p4_bench_test.go): an
// organization-wide `amiwatermark simulate` against `ec2emu` with EC2's
// throttling and a latency model, both programs run as processes, as users
// run them. It drives only binaries (cmd/ec2emu and cmd/amiwatermark, built
// by the benchmark); its one non-test file, model.go, is the model's
// arithmetic (the minimum number of calls and the floor of the wall time).
//
// Run it alone with
//
//	go test -run '^$' -bench P4 -benchtime 1x ./internal/orgbench/
//
// or with every benchmark by `make bench`. P4_LARGE_ACCOUNTS=N changes the
// size of the second organization, whose only figure is the CLI's peak
// memory (default 120; 0 leaves that run out).
package orgbench
