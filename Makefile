# wbreplay: two commands set up a fresh Debian machine and test it.
#   make setup   apt packages (C libraries, trace-cmd, graphviz, fio) and a build
#   make test    the test suite (live tracefs tests skip, with the reason, where not root)
SWIFT ?= swift
APT_PACKAGES = pkg-config libtracecmd-dev libtracefs-dev libtraceevent-dev trace-cmd \
               graphviz fio zlib1g-dev libzstd-dev e2fsprogs util-linux python3 time

.PHONY: setup deps build release test bench fuzz clean

setup: deps build

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

test: build
	$(SWIFT) test

bench: release
	bash Benchmarks/run.sh

clean:
	rm -rf .build
