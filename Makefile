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
# wire tests run, valgrind for the C tests, the real corpora of the demo and
# tests, then the toolchains of the C++, Go and Rust bindings.
DEB_PACKAGES = pkg-config libopenblas-dev zlib1g-dev protobuf-c-compiler libprotobuf-c-dev protobuf-compiler \
  libzmq3-dev valgrind fortunes dict-jargon dict-devil g++ golang-go rustc cargo

# libpcmoe.so: its version comes from include/pcmoe.h; the SONAME carries
# the major version. It is built in a folder of its own, with the Swift
# runtime linked in, and copied with its links to $(CLIB).
VERSION := $(shell sed -n 's/^\#define PCMOE_VERSION_STRING "\(.*\)"/\1/p' include/pcmoe.h)
SOVERSION := $(shell sed -n 's/^\#define PCMOE_VERSION_MAJOR //p' include/pcmoe.h)
CBUILD = .build/c
CLIB = $(CBUILD)/lib
LIBFILE = $(CLIB)/libpcmoe.so.$(VERSION)
LIB_SOURCES := Package.swift include/pcmoe.h packaging/pcmoe.map $(shell find Sources -type f)

# The fuzz run: seconds, and the folder of its build, corpus and findings.
FUZZ_SECONDS ?= 60
FUZZ = .build/fuzz

FORTUNES = /usr/share/games/fortunes
JARGON = /usr/share/dictd/jargon.dict.dz
DEVIL = /usr/share/dictd/devil.dict.dz

.PHONY: all deps build test test-c test-bindings lib fuzz demo bench install install-lib proto clean

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
	bash Tests/Network/check.sh $(BIN)/pcmoe
	$(BIN)/pcmoe-fuzz fuzz/seeds fuzz/regressions
	$(MAKE) --no-print-directory test-c
	$(MAKE) --no-print-directory test-bindings

# The C side: header, exports, C tests, example, valgrind, pkg-config.
test-c: lib
	rm -rf $(CBUILD)/prefix
	$(MAKE) --no-print-directory install-lib PREFIX=$(CURDIR)/$(CBUILD)/prefix
	bash Tests/C/run.sh $(CBUILD)

# The C++, Rust and Go bindings against an installed prefix, then three
# parties hosted by one program of each training together.
test-bindings: build lib
	rm -rf $(CBUILD)/prefix
	$(MAKE) --no-print-directory install-lib PREFIX=$(CURDIR)/$(CBUILD)/prefix
	bash bindings/cpp/test.sh $(CBUILD)/prefix
	bash bindings/rust/test.sh $(CBUILD)/prefix
	bash bindings/go/test.sh $(CBUILD)/prefix
	bash Tests/Heterogeneous/check.sh $(CBUILD)/prefix $(BIN)/pcmoe

lib: $(LIBFILE)

$(LIBFILE): $(LIB_SOURCES) | deps
	rm -f .build/clib/release/libpcmoe-abi.so
	$(SWIFT) build -c release --scratch-path .build/clib --product pcmoe-abi -Xswiftc -static-stdlib \
	  -Xlinker -soname=libpcmoe.so.$(SOVERSION) -Xlinker --version-script=$(CURDIR)/packaging/pcmoe.map
	mkdir -p $(CLIB)
	cp .build/clib/release/libpcmoe-abi.so $@
	ln -sf libpcmoe.so.$(VERSION) $(CLIB)/libpcmoe.so.$(SOVERSION)
	ln -sf libpcmoe.so.$(SOVERSION) $(CLIB)/libpcmoe.so

# libFuzzer over pcmoe_party_handle_message for FUZZ_SECONDS, from the seed
# corpus and every saved regression. The Swift code and the generated
# protobuf-c code are instrumented; Debian's libprotobuf-c is not. A crash stops it and leaves the input
# in $(FUZZ)/artifacts; copy it to fuzz/regressions when fixing it.
fuzz: deps
	$(SWIFT) build -c release --scratch-path $(FUZZ) --product pcmoe-fuzz -Xswiftc -sanitize=fuzzer \
	  -Xswiftc -DPCMOE_FUZZ -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld -Xcc -fsanitize=fuzzer-no-link
	rm -rf $(FUZZ)/corpus && mkdir -p $(FUZZ)/corpus $(FUZZ)/artifacts
	find fuzz/seeds fuzz/regressions -type f ! -name '.*' -exec cp {} $(FUZZ)/corpus/ \;
	$(FUZZ)/release/pcmoe-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
	  -artifact_prefix=$(CURDIR)/$(FUZZ)/artifacts/ $(FUZZ)/corpus

# PC-MoE on the three real corpora, one party each, next to the baselines:
# prints the comparison table and writes out/demo/results.json and
# out/demo/loss-curves.svg. DEMO_FLAGS=--quick gives a short run.
DEMO_FLAGS ?=
demo: build
	$(BIN)/pcmoe demo --data $(FORTUNES) --data $(JARGON) --data $(DEVIL) --out out/demo --overwrite $(DEMO_FLAGS)

bench: build
	$(BIN)/pcmoe-bench --steps 20
	bash bench/processes.sh $(BIN)/pcmoe

# The installed binary and library link the Swift runtime statically, so
# they run where the toolchain is absent; each gets a build folder of its own.
install: install-lib
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build/static --product pcmoe
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 .build/static/release/pcmoe $(DESTDIR)$(PREFIX)/bin/pcmoe

# The C library alone: lib/ with its SONAME links, include/pcmoe.h and
# lib/pkgconfig/pcmoe.pc. Run ldconfig after installing to a system prefix.
install-lib: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(LIBFILE) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libpcmoe.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libpcmoe.so.$(SOVERSION)
	ln -sf libpcmoe.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libpcmoe.so
	install -m 644 include/pcmoe.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' packaging/pcmoe.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/pcmoe.pc

# Regenerates the checked-in protobuf-c code from proto/pcmoe.proto. The
# header goes to include/, where SwiftPM looks for a C target's public headers.
proto: deps
	protoc-c --proto_path=proto --c_out=Sources/CPCMoEWire proto/pcmoe.proto
	mv Sources/CPCMoEWire/pcmoe.pb-c.h Sources/CPCMoEWire/include/

clean:
	rm -rf .build out
