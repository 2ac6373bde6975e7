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
PKGS    := libevent libevent_openssl libevent_pthreads openssl libcrypt libunbound
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

.PHONY: all test unit integration run install clean deps

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
	$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -o $@ $< $(SLIBOBJS) $(LDFLAGS) $(LDLIBS) -lcmocka

-include $(OBJS:.o=.d) $(SOBJS:.o=.d)

deps:
	@scripts/install-deps

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: build/postino-san
	@scripts/run-integration $(PYTEST_ARGS)

test:
	@scripts/install-deps --test
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

run: deps
	@$(MAKE) --no-print-directory postino
	./postino serve

install: postino
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 postino $(DESTDIR)$(PREFIX)/sbin/postino
	install -m 0644 postino.conf.example $(DESTDIR)$(SYSCONFDIR)/postino.conf.example

clean:
	rm -rf build postino
