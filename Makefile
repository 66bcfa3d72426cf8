# The README's commands; "make test" is its test command, which .ci/run runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: demo test lint bench bench-smoke build

demo:
	$(GO) run ./cmd/hotline demo

# The README's test command: the suite once per engine, as a CI matrix
# would: SQLite (the default), then PostgreSQL (HOTLINE_TEST_ENGINE).
test:
	$(GO) test -race -count=1 -timeout 20m ./... && HOTLINE_TEST_ENGINE=postgres $(GO) test -race -count=1 -timeout 20m ./...

lint:
	$(GO) vet ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) ./...

# Every benchmark once, on a small seed (HOTLINE_BENCH_SMALL=1): CI runs
# it, so a broken benchmark fails there. Figures from it mean nothing.
bench-smoke:
	HOTLINE_BENCH_SMALL=1 $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

build:
	CGO_ENABLED=1 $(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/hotline ./cmd/hotline
