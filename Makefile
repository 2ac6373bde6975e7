# postino - one GNU Makefile: build, test (ASan+UBSan), run, install.
#
#   make            build ./postino (optimised, with debug info)
#   make test       unit tests (cmocka) and integration tests (pytest), both
#                   against a build with -fsanitize=address,undefined
#   make run        build, then start the trial server in the foreground
#   make install    install the binary and the example configuration

CC      ?= cc
PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc/postino
PKGS    := libevent libevent_openssl libevent_pthreads openssl libcrypt libunbound libpsl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -std=c17 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -Isrc $(PKG_CFLAGS)
CFLAGS  ?= -O2 -g
LDLIBS  += $(PKG_LIBS) -lpthread

SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRCS    := $(sort $(wildcard src/*/*.c))
LIBSRCS := $(filter-out src/cli/main.c,$(SRCS))
OBJS    := $(SRCS:src/%.c=build/rel/%.o)
SOBJS   := $(SRCS:src/%.c=build/san/%.o)
SLIBOBJS := $(LIBSRCS:src/%.c=build/san/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/unit/%)

.PHONY: all test unit integration run install install-sendmail clean deps fuzz fuzz-ci

all: postino

postino: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

build/rel/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

build/san/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/postino-san: $(SOBJS)
	$(CC) -g $(SAN) -o $@ $^ $(LDFLAGS) $(LDLIBS)

build/unit/%: tests/unit/%.c $(SLIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -MMD -MP -o $@ $< $(SLIBOBJS) $(LDFLAGS) $(LDLIBS) -lcmocka

-include $(OBJS:.o=.d) $(SOBJS:.o=.d) $(UNIT_BINS:=.d)

deps:
	@scripts/install-deps

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: build/postino-san
	@scripts/run-integration $(PYTEST_ARGS)

# -j2: the unit build uses both cores (the tests themselves run one at a time)
test:
	@scripts/install-deps --test
	@$(MAKE) --no-print-directory -j2 unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory fuzz-ci

run: deps
	@$(MAKE) --no-print-directory postino
	./postino serve

install: postino
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 postino $(DESTDIR)$(PREFIX)/sbin/postino
	install -m 0644 postino.conf.example $(DESTDIR)$(SYSCONFDIR)/postino.conf.example
	@# the user the server runs as (run_as); not for staged installs
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd postino >/dev/null; then \
	    echo "adding the system user postino"; \
	    getent group postino >/dev/null || groupadd -r postino; \
	    useradd -r -g postino -d /nonexistent -s /usr/sbin/nologin postino; \
	fi
	@echo "To make postino the system's sendmail (cron, PHP mail()...): make install-sendmail"

# the sendmail command of cron and scripts: a link that runs postino sendmail
install-sendmail: install
	@if [ -e $(DESTDIR)/usr/sbin/sendmail ] && [ ! -L $(DESTDIR)/usr/sbin/sendmail ]; then \
	    echo "$(DESTDIR)/usr/sbin/sendmail exists and is not a link; not replacing it"; exit 1; fi
	install -d $(DESTDIR)/usr/sbin
	ln -sf $(PREFIX)/sbin/postino $(DESTDIR)/usr/sbin/sendmail

clean:
	rm -rf build postino

# ---- fuzz: libFuzzer harnesses of the parsers (tests/fuzz/, see its README) ----
#
#   make fuzz [FUZZ_TIME=600]   each harness FUZZ_TIME seconds (default 60), one
#                               at a time (make -j2 fuzz: two at once), over
#                               build/fuzz/corpus/NAME (seeded from
#                               tests/fuzz/corpus/NAME); stops at the first
#                               finding, saved in build/fuzz/findings/NAME/
#   make fuzz-ci                the same, 15 s each, two at once (make test)
#
# Every LIBSRCS object is built again with clang and coverage instrumentation
# into build/fuzz/obj/, archived, and linked into each build/fuzz/fuzz_NAME.
FUZZ_CC     ?= clang-14
FUZZ_TIME   ?= 60
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer
FUZZ_OBJSAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_BINSAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRCS   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES  := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_BINS   := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
FUZZ_OBJS   := $(LIBSRCS:src/%.c=build/fuzz/obj/%.o)
FUZZ_LIB    := build/fuzz/libpostino.a
# -max_len: whole messages and files for these, 4096 (lines, records) for the rest
FUZZ_BIG    := data_reader config envelope header dkim imap_message
FUZZ_FLAGS  := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_OBJSAN) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(WARN) $(CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_BINSAN) -MMD -MP -o $@ $< \
	    $(FUZZ_LIB) $(LDFLAGS) $(LDLIBS)

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)

# One phony target per harness, so that make -j2 fuzz runs two at once.
FUZZ_RUNS   := $(FUZZ_NAMES:%=fuzz-run-%)
.PHONY: $(FUZZ_RUNS)

fuzz: $(FUZZ_RUNS)

$(FUZZ_RUNS): fuzz-run-%: build/fuzz/fuzz_%
	@mkdir -p build/fuzz/logs build/fuzz/corpus/$* build/fuzz/findings/$*
	@cp -R tests/fuzz/corpus/$*/. build/fuzz/corpus/$*/
	@case " $(FUZZ_BIG) " in *" $* "*) max=65536;; *) max=4096;; esac; \
	log=build/fuzz/logs/$*.log; \
	if build/fuzz/fuzz_$* -max_total_time=$(FUZZ_TIME) -max_len=$$max $(FUZZ_FLAGS) \
	    -artifact_prefix=build/fuzz/findings/$*/ build/fuzz/corpus/$* >$$log 2>&1; then \
	    printf 'fuzz_%-12s %4ss: %s\n' $* $(FUZZ_TIME) \
	        "$$(sed -n 's/^Done \([0-9]*\) runs.*/\1 runs, no finding/p' $$log)"; \
	else \
	    printf 'fuzz_%-12s %4ss: FAILED\n' $* $(FUZZ_TIME); tail -n 50 $$log; \
	    echo "fuzz: fuzz_$* found a problem; input in build/fuzz/findings/$*/, log $$log" >&2; \
	    exit 1; \
	fi

# all built first, so that no harness shares its core with the compiler
fuzz-ci:
	@$(MAKE) --no-print-directory -j2 $(FUZZ_BINS)
	@$(MAKE) --no-print-directory -j2 fuzz FUZZ_TIME=15
