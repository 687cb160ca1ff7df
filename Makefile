# The two commands of the quick start: `make run` and `make test`.
APP ?= examples/hello/gantry.yaml
SOURCES = $(shell git ls-files '*.cc' '*.h' 2>/dev/null)

.PHONY: setup run release debug test fuzz lint format clean

setup:
	@scripts/setup

release: setup
	cmake --preset release >/dev/null
	cmake --build --preset release --target gantry example_hello

debug: setup
	cmake --preset debug >/dev/null
	cmake --build --preset debug

run: release
	@mkdir -p examples/hello/bin
	@for b in hello inventory; do ln -sfn $(CURDIR)/build/release/examples/hello/$$b examples/hello/bin/$$b; done
	./build/release/gantry up -f $(APP)

test: debug
	ctest --preset debug

# Every fuzz target under libFuzzer for SECONDS each, JOBS at once (tests/fuzz/; scripts/fuzz --help).
SECONDS ?= 60
JOBS ?= 1
fuzz:
	@scripts/fuzz --seconds $(SECONDS) --jobs $(JOBS)

lint: setup
	clang-format --dry-run -Werror $(SOURCES)
	cmake --preset debug >/dev/null
	clang-tidy -p build/debug --quiet --extra-arg=-Wno-unknown-warning-option $(filter %.cc,$(SOURCES))

format:
	clang-format -i $(SOURCES)

clean:
	rm -rf build
