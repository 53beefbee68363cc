# The README's two commands. `make run` and `make test` install what is missing (Debian
# packages, as root), build, and then generate text / run every test.
DEB_PACKAGES := cmake g++ make pkg-config nlohmann-json3-dev libpcre2-dev libcli11-dev \
                libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev wamerican
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
PROMPT ?= It is a truth universally acknowledged, that

.PHONY: all deps build build-asan run test test-asan js-deps clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if ! command -v node >/dev/null 2>&1; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBAMBA_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

run: build
	./$(BUILD)/bamba generate -p "$(PROMPT)"

# JavaScript clients used by the tests (npm registry), pinned by package-lock.json.
js-deps:
	@if [ -f tests/js/package-lock.json ]; then npm ci --prefix tests/js --no-audit --no-fund --loglevel=error; fi

test: build js-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan

test-asan: build-asan js-deps
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -LE no_sanitize

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
