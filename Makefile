# Two commands do all the set-up: `make run` (the whole stack) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha1sum | cut -c1-12)
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test lint format bench stress install services migrate demo clean

$(STAMP): requirements/*.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/test.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## run: the whole stack on localhost (web + websockets, worker, beat, Flower) with demo data
run: install
	$(BIN)/python bin/run-stack

## test: the whole suite against real PostgreSQL, Redis, RabbitMQ, workers and websockets
test: install
	bin/ensure-services
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

## bench: latency of the chip endpoints on 1,000,000 generated rows (PostgreSQL)
bench: install
	bin/ensure-services postgres redis
	$(BIN)/python test/bench_chip_endpoints.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm var staticfiles .pytest_cache .ruff_cache
