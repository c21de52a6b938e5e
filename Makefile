# Course tasks. Run from the repository root. `make help` lists them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= smoke
NPROC ?= 1
TORCH_SPEC ?= torch==2.13.0
BUILD := build
NB_SRC := solutions/task3_bert/task3_bert.ipynb
CHROMIUM ?= /usr/bin/chromium

.PHONY: help setup bwrap data solution train release collect autograde regrade similarity lms-export demo test test-fast test-browser browser-deps bench baseline images test-slurm slurm-deps

help:
	@echo "make demo      - set-up, данные, прогон решения (smoke), релиз, автопроверка демо-класса"
	@echo "make test      - тесты курса (pytest), все, кроме браузерных"
	@echo "make test-fast - быстрый круг: pytest -m \"not slow\" (без прогона ноутбука, обучения, партии в песочнице, автопроверки демо-класса)"
	@echo "make test-browser - тесты в настоящем браузере: JupyterLab студента, formgrader преподавателя"
	@echo "make test-slurm - cluster/slurm/ на настоящем Slurm (одноузловой кластер во временной папке; нужен root)"
	@echo "make setup     - виртуальное окружение $(VENV) со всеми пакетами"
	@echo "make data      - данные (одни для обоих профилей) и ответы для проверки в data/answer_key/"
	@echo "make solution  - выполнить ноутбук-решение: PROFILE=smoke|full -> $(BUILD)/"
	@echo "make train     - предобучение и дообучение без ноутбука: PROFILE=smoke|full NPROC=<число GPU>"
	@echo "make release   - студенческая версия в assignments/ (nbgrader generate_assignment)"
	@echo "make collect ZIP=… LMS=moodle|canvas ROSTER=… - работы из архива LMS в submitted/ (отчёт collect_report.csv)"
	@echo "make autograde - проверить все работы из submitted/ (ядра в песочнице bubblewrap), выгрузить оценки и отзывы"
	@echo "make similarity - отчёт о похожих работах: similarity.html, similarity.csv, столбец similar_to в grades.csv"
	@echo "make lms-export LMS=moodle|canvas ROSTER=… - оценки и отзывы в формате LMS (lms_export/)"
	@echo "make regrade   - проверить заново после исправления проверяющего: было/стало по каждому студенту (regrade.csv)"
	@echo "make bench     - замеры: проверки, модель, автопроверка, каталог ошибок; make baseline - TF-IDF"
	@echo "make images    - нарисовать схемы и встроить их в ноутбук"

# autograding runs every student kernel in bubblewrap (coursekit/sandbox.py)
BWRAP_HINT := нужен bubblewrap (пакет bubblewrap): sudo apt-get install bubblewrap

setup: $(VENV)/.installed bwrap
bwrap:
	@command -v bwrap >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get install -y -q bubblewrap >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null; }; \
	elif sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then sudo -n apt-get install -y -q bubblewrap >/dev/null || { sudo -n apt-get update -q >/dev/null && sudo -n apt-get install -y -q bubblewrap >/dev/null; }; \
	fi; \
	command -v bwrap >/dev/null || { echo "$(BWRAP_HINT)" >&2; exit 1; }

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first: the pin chooses the build (CPU wheel here), requirements then leave it alone
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -r requirements.txt
	# the course's own packages (coursekit, data), editable: scripts and tests import them from here
	$(PY) -m pip install -q -e .
	touch $@

# one student file for both notebook profiles (smoke subsamples it); PROFILE does not matter here
data: setup
	$(PY) data/build_dataset.py --profile full

solution: setup
	$(PY) -m coursekit.solution --profile $(PROFILE)

# NPROC > 1: torchrun, one process per GPU (DDP); batch sizes in PROFILES are global
train: setup
ifeq ($(NPROC),1)
	$(PY) -m coursekit.train --profile $(PROFILE)
else
	$(VENV)/bin/torchrun --standalone --nproc_per_node=$(NPROC) -m coursekit.train --profile $(PROFILE)
endif

release: setup
	$(PY) -m coursekit.release

# an LMS's "download all submissions" zip -> submitted/<login>/task3_bert/ (coursekit/collect.py)
COURSE ?= .
collect: setup
	@test -n "$(ZIP)" -a -n "$(LMS)" -a -n "$(ROSTER)" || { echo "нужно: make collect ZIP=архив.zip LMS=moodle|canvas ROSTER=roster.csv [COURSE=папка]" >&2; exit 2; }
	$(PY) -m coursekit.collect --zip "$(ZIP)" --lms "$(LMS)" --roster "$(ROSTER)" --course "$(COURSE)" $(ARGS)

autograde: setup
	@command -v bwrap >/dev/null || { echo "$(BWRAP_HINT)" >&2; exit 1; }
	$(PY) -m coursekit.grading $(ARGS)

# the students' own code compared across the class (coursekit/similarity.py); points never change
similarity: setup
	$(PY) -m coursekit.similarity --course "$(COURSE)" $(ARGS)

# grades and feedback in the form each LMS imports (coursekit/lms_export.py) -> lms_export/
lms-export: setup
	@test -n "$(LMS)" -a -n "$(ROSTER)" || { echo "нужно: make lms-export LMS=moodle|canvas ROSTER=roster.csv [COURSE=папка] [ARGS=--canvas-assignment-id N]" >&2; exit 2; }
	$(PY) -m coursekit.lms_export --lms "$(LMS)" --roster "$(ROSTER)" --course "$(COURSE)" $(ARGS)

# after a fix of the grader: grade again, print old and new points per student (regrade.csv)
regrade: setup
	@command -v bwrap >/dev/null || { echo "$(BWRAP_HINT)" >&2; exit 1; }
	$(PY) -m coursekit.grading regrade $(ARGS)

demo: setup
	$(MAKE) data
	$(MAKE) solution PROFILE=smoke
	$(MAKE) release
	$(PY) -m coursekit.demo

test: setup
	$(PY) -m pytest -q tests --ignore=tests/browser

# the tests marked slow (pyproject.toml) are the notebook run, training, the sandbox and the graded class
test-fast: setup
	$(PY) -m pytest -q tests --ignore=tests/browser -m "not slow"

# Real-browser tests (tests/browser/): Debian's Chromium driven by Playwright, no browser download.
test-browser: setup
	@test -x $(CHROMIUM) || $(MAKE) browser-deps
	@test -f data/answer_key/task3_answer_key_smoke.csv || $(PY) data/build_dataset.py --profile smoke
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/browser

# cluster/slurm/ on a real one-node Slurm (tests/test_slurm.py starts and stops it; root only)
test-slurm: setup slurm-deps
	TASK3_SLURM=1 $(PY) -m pytest -q -s tests/test_slurm.py

slurm-deps:
	@command -v slurmctld >/dev/null && command -v munged >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q slurm-wlm munge >/dev/null || \
	  { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }; \
	fi; \
	command -v slurmctld >/dev/null && command -v munged >/dev/null || \
	  { echo "нужны Slurm и munge (пакеты slurm-wlm munge) и права root: sudo apt-get install slurm-wlm munge" >&2; exit 1; }

browser-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "нужен Chromium ($(CHROMIUM)): sudo apt-get install chromium (или CHROMIUM=путь)" >&2; exit 1; fi

bench: setup
	$(PY) -m bench.check_speed
	$(PY) bench/throughput.py
	$(PY) bench/grading_speed.py
	$(PY) -m bench.grading_breakdown
	$(PY) -m bench.bug_catalogue_report

baseline: setup
	$(PY) bench/baseline.py --data data/task3_data.csv

images: setup
	$(PY) images/draw_images.py
	$(PY) -m coursekit.notebook_images embed $(NB_SRC)
