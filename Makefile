# The README's commands. "make test" is what CI runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: demo test lint bench build

demo:
	$(GO) run ./cmd/hotline demo

test:
	$(GO) test -race -count=1 -timeout 20m ./...

lint:
	$(GO) vet ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

build:
	CGO_ENABLED=1 $(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/hotline ./cmd/hotline
