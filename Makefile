# pcmoe: build, test, demo, benchmark and install.
# Every target that builds depends on `deps`, which installs missing Debian
# packages (and needs root, or sudo, only when something is missing).

SWIFT ?= swift
# Tests use @testable imports, so the release build enables testing; every
# target uses the same flags so that the builds share their modules.
SWIFT_FLAGS ?= -c release -Xswiftc -enable-testing
BIN = .build/release
PREFIX ?= /usr/local
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Build and run dependencies, the protobuf tools that `make proto` and the
# wire tests run, then the real corpora of the demo and tests.
DEB_PACKAGES = pkg-config libopenblas-dev zlib1g-dev protobuf-c-compiler libprotobuf-c-dev protobuf-compiler \
  fortunes dict-jargon dict-devil

FORTUNES = /usr/share/games/fortunes
JARGON = /usr/share/dictd/jargon.dict.dz
DEVIL = /usr/share/dictd/devil.dict.dz

.PHONY: all deps build test demo bench install proto clean

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "Debian packages present: $(DEB_PACKAGES)"; \
	fi

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

test: build
	$(SWIFT) test $(SWIFT_FLAGS)
	bash Tests/Reference/check.sh $(BIN)/pcmoe

# PC-MoE on the three real corpora, one party each, next to the baselines:
# prints the comparison table and writes out/demo/results.json and
# out/demo/loss-curves.svg. DEMO_FLAGS=--quick gives a short run.
DEMO_FLAGS ?=
demo: build
	$(BIN)/pcmoe demo --data $(FORTUNES) --data $(JARGON) --data $(DEVIL) --out out/demo --overwrite $(DEMO_FLAGS)

bench: build
	$(BIN)/pcmoe-bench --steps 20

# The installed binary links the Swift runtime statically, so it runs where
# the toolchain is absent; it gets a build folder of its own.
install: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build/static --product pcmoe
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 .build/static/release/pcmoe $(DESTDIR)$(PREFIX)/bin/pcmoe

# Regenerates the checked-in protobuf-c code from proto/pcmoe.proto. The
# header goes to include/, where SwiftPM looks for a C target's public headers.
proto: deps
	protoc-c --proto_path=proto --c_out=Sources/CPCMoEWire proto/pcmoe.proto
	mv Sources/CPCMoEWire/pcmoe.pb-c.h Sources/CPCMoEWire/include/

clean:
	rm -rf .build out
