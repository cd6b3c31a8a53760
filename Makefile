# make test  ARGS='-run Foo ./store/...'   gofmt, vet, staticcheck, go test -race with PostgreSQL
# make bench BENCH=Hit ARGS=./store/...     benchmarks with the same services
# make gormsuite ENGINE=mysql STORE=near    GORM's own tests, without and with the plugin
ARGS ?=
BENCH ?= .
ENGINE ?= sqlite
STORE ?= memory

.PHONY: test bench gormsuite fmt vet

test:
	bash scripts/test.sh test $(ARGS)

bench:
	BENCH='$(BENCH)' bash scripts/test.sh bench $(ARGS)

gormsuite:
	bash scripts/test.sh gormsuite $(ENGINE) $(STORE)

# Every module of go.work and the packages under testdata/, as make test checks.
PKGS = $(shell bash scripts/test.sh packages)

fmt: # gofmt: go fmt refuses the patterns of the nested modules
	gofmt -l -w $$(go list -f '{{.Dir}}' $(PKGS))

vet:
	go vet $(PKGS)
