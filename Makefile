# make test  ARGS='-run Foo ./store/...'   gofmt, vet and go test -race with PostgreSQL
# make bench BENCH=Hit ARGS=./store/...     benchmarks with the same services
ARGS ?=
BENCH ?= .

.PHONY: test bench fmt vet

test:
	bash scripts/test.sh test $(ARGS)

bench:
	BENCH='$(BENCH)' bash scripts/test.sh bench $(ARGS)

fmt:
	go fmt ./...

vet:
	go vet ./...
