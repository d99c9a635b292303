# gab — build, run, test.
GO      ?= go
BIN     ?= bin/gab
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

# Packages the test suite needs: real servers (Prosody, and ejabberd where
# servers differ: login, channel binding, language tags), a slixmpp peer,
# tmux for the end-to-end tests, a C compiler for the race detector, and
# python3-omemo with its OMEMO 0.3 and OMEMO 2 backends (and xmlschema, for
# their XML code) as the peer gab's OMEMO interoperates with.
TEST_PACKAGES := prosody prosody-modules lua-unbound lua-dbi-sqlite3 ejabberd python3-slixmpp tmux gcc libc6-dev ca-certificates python3-omemo python3-oldmemo python3-twomemo python3-xmlschema python3-cryptography

# Release builds: static binaries for these platforms, with SHA-256 sums.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64
DIST      ?= dist

.PHONY: all build run demo test test-deps vet bench bench-deps release clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gab

run: build
	./$(BIN)

# A throw-away Prosody on loopback with a demo account and an echo contact.
demo: build test-deps
	$(GO) run ./internal/demo -gab ./$(BIN)

test: test-deps
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m ./...

# Installs what the tests need with apt-get, only when something is missing.
test-deps:
	@missing=""; \
	command -v prosody >/dev/null 2>&1 && command -v prosodyctl >/dev/null 2>&1 || missing="yes"; \
	[ -e /usr/lib/prosody/modules/mod_muc_moderation/mod_muc_moderation.lua ] || missing="yes"; \
	[ -n "$$(find /usr/lib -path '*lua/5.*/dbd/sqlite3.so' -print -quit 2>/dev/null)" ] || missing="yes"; \
	command -v ejabberdctl >/dev/null 2>&1 || [ -x /usr/sbin/ejabberdctl ] || missing="yes"; \
	/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || missing="yes"; \
	/usr/bin/python3 -c 'import omemo, oldmemo, oldmemo.etree, twomemo, twomemo.etree' >/dev/null 2>&1 || missing="yes"; \
	/usr/bin/python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' >/dev/null 2>&1 || missing="yes"; \
	command -v tmux >/dev/null 2>&1 || missing="yes"; \
	command -v gcc >/dev/null 2>&1 || missing="yes"; \
	if [ -n "$$missing" ]; then \
		echo "installing test dependencies: $(TEST_PACKAGES)"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(TEST_PACKAGES); \
	fi

vet:
	$(GO) vet ./...

# Micro-benchmarks, then the whole program against a local Prosody (writes
# docs/benchmarks.md), Profanity side by side. BENCH_IDLE shortens the
# idle-CPU measurement; BENCH_CASES runs only the cases named (comma-
# separated; all but soak by default, see -cases in internal/bench).
BENCH_IDLE ?= 60s
bench: build test-deps bench-deps
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./internal/bench -gab ./$(BIN) -idle $(BENCH_IDLE) $(if $(BENCH_CASES),-cases $(BENCH_CASES))

# What only the benchmarks need: Profanity, measured side by side, and
# curl, whose uploads gab's are compared with.
bench-deps:
	@if ! command -v profanity >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then \
		echo "installing profanity and curl (measured side by side in make bench)"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends profanity curl; \
	fi

# dist/gab-VERSION-OS-ARCH for each platform, and dist/SHA256SUMS.
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/gab-$(VERSION)-$$os-$$arch; \
		echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./cmd/gab || exit 1; \
	done
	cd $(DIST) && sha256sum gab-* > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

clean:
	rm -rf bin $(DIST)
