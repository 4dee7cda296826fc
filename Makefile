# Set-up and the two jobs the README starts with: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# tool:Debian package, installed with apt-get when the tool is missing (and python3-venv when
# $(PYTHON) cannot make a venv: Debian's python3 ships without ensurepip)
SYSTEM_TOOLS := losetup:util-linux mkfs.ext4:e2fsprogs mkfs.xfs:xfsprogs drbdadm:drbd-utils prove:perl genisoimage:genisoimage openssl:openssl

.PHONY: demo test sysdeps venv bench clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

sysdeps:
	@missing=""; \
	for pair in $(SYSTEM_TOOLS); do \
	  tool=$${pair%%:*}; pkg=$${pair##*:}; \
	  PATH="$$PATH:/sbin:/usr/sbin" command -v $$tool >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "missing system packages:$$missing (as root: apt-get install$$missing); outside CI the tests that need them are skipped"; \
	  fi; \
	fi

demo: sysdeps $(STAMP)
	$(BIN)/linstor-core demo

test: sysdeps $(STAMP)
	$(BIN)/pytest -q
	@if [ -d packaging/proxmox/t ]; then PATH="$(CURDIR)/$(BIN):$$PATH" prove -r packaging/proxmox/t; fi

bench: sysdeps $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
