# trackwatch: see README.md.
#   make            build build/trackwatchd and build/trackwatch
#   make deps       install the Debian 12 packages the build and tests use
#   make demo       set up, then run the sensor on a bundled browser capture
#   make check      set up, then run every test under ASan and UBSan
#   make fuzz       build the libFuzzer harnesses (clang)
#   make install    PREFIX=/usr/local, DESTDIR= for staging
#
# pkg-config is only asked when a recipe needs the flags, so `make deps`
# works before the libraries are installed.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/trackwatch
UNITDIR ?= $(PREFIX)/lib/systemd/system
DATADIR ?= $(PREFIX)/share/trackwatch

CC ?= cc
CLANG ?= clang
# Link-time optimisation lets GCC inline the capture's and the writer's steps
# across files; CFLAGS=... on the command line replaces all of this.
CFLAGS ?= -O2 -g -flto=auto
TW_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -Werror -MMD -MP -DTW_DATADIR='"$(DATADIR)"'
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1

PKGS = libpcap libndpi sqlite3 yaml-0.1 jansson libcrypto libpsl libcurl libnghttp2
# Library headers are system headers: their warnings are not ours to fix.
pkg_cflags = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS)))
pkg_libs = $(shell pkg-config --libs $(PKGS))
cmocka_cflags = $(shell pkg-config --cflags cmocka)
cmocka_libs = $(shell pkg-config --libs cmocka)
# libcap-ng: the daemon's privilege drop (daemon/privileges.c).
capng_libs = $(shell pkg-config --libs libcap-ng)

# Every Debian package the build, the tests, the fuzzers and the benchmark use.
DEB_PACKAGES = pkg-config libpcap-dev libndpi-dev libsqlite3-dev libyaml-dev \
	libjansson-dev libssl-dev libpsl-dev libcap-ng-dev libcmocka-dev clang libclang-rt-14-dev time man-db \
	tshark libndpi-bin python3 libcurl4-openssl-dev openssl libnghttp2-dev \
	webext-ublock-origin-firefox

B = build
CORE_SRC = daemon/capture.c daemon/sharedfile.c daemon/decode.c daemon/flow.c daemon/observation.c \
	daemon/pipeline.c daemon/reassembly.c daemon/dnscache.c dissectors/ndpi_glue.c daemon/arena.c dissectors/dns.c dissectors/tls.c dissectors/quic.c dissectors/hkdf.c dissectors/http1.c \
	daemon/identifiers.c dissectors/cookie.c dissectors/tcf.c daemon/consent.c blocklists/yamlfile.c \
	dissectors/keylog.c dissectors/tlsdec.c dissectors/http2.c daemon/decrypt.c
STORE_SRC = daemon/store.c daemon/schema.c
DAEMON_SRC = $(CORE_SRC) $(STORE_SRC) $(LISTS_SRC) daemon/queue.c daemon/timeline.c daemon/config.c daemon/progress.c daemon/privileges.c daemon/log.c daemon/live.c daemon/control.c daemon/main.c
# The tracker lists and their matcher, shared by the sensor and the command line.
LISTS_SRC = blocklists/matcher.c blocklists/parse_text.c blocklists/parse_data.c blocklists/lists.c blocklists/yamlfile.c
CLI_SRC = cli/trackwatch.c cli/control.c daemon/config.c cli/lists.c cli/timeline.c cli/report.c cli/db.c cli/phases.c cli/syncing.c cli/consent.c $(LISTS_SRC) $(STORE_SRC) blocklists/fetch.c daemon/observation.c cli/tcf.c dissectors/tcf.c
UNIT_TESTS = test_decode test_capture test_flow test_observation test_queue test_dns test_reassembly test_tls test_quic test_http1 test_http2 test_identifiers test_dnscache test_parse_data test_parse_text test_matcher test_lists test_lists_live test_psl test_store test_cli_db test_config test_timeline test_cookie test_tcf test_consent test_phases test_progress test_privileges test_control test_keylog test_tlsdec
FUZZERS = fuzz_decode fuzz_capture fuzz_flow fuzz_pipeline fuzz_dns fuzz_reassembly fuzz_tls fuzz_quic fuzz_http1 fuzz_http2 fuzz_identifiers fuzz_observation fuzz_disconnect fuzz_tds fuzz_cookiedb fuzz_abp fuzz_hosts fuzz_snapshot fuzz_lists_config fuzz_daemon_config fuzz_timeline fuzz_cookie fuzz_tcf fuzz_consent fuzz_control fuzz_keylog fuzz_tlsdec

obj = $(patsubst %.c,$(B)/$(1)/%.o,$(2))

.PHONY: all deps demo check check-live check-run unit golden cli-tests crosscheck hostile live install-test fuzz fuzz-smoke \
	man-check install uninstall clean bench oracle fetch-test lists-tests store-tests report-tests consent-tests tls-tests

all: $(B)/trackwatchd $(B)/trackwatch

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TW_CFLAGS) $(pkg_cflags) -c $< -o $@

$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(SAN_FLAGS) $(TW_CFLAGS) $(pkg_cflags) $(cmocka_cflags) -c $< -o $@

$(B)/trackwatchd: $(call obj,obj,$(DAEMON_SRC))
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDFLAGS) $(pkg_libs) $(capng_libs)

$(B)/trackwatch: $(call obj,obj,$(CLI_SRC))
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDFLAGS) $(pkg_libs)

# The sanitizer builds that `make check` runs.
$(B)/asan/trackwatchd: $(call obj,asan,$(DAEMON_SRC))
	$(CC) $(SAN_FLAGS) -pthread -o $@ $^ $(pkg_libs) $(capng_libs)

$(B)/asan/trackwatch: $(call obj,asan,$(CLI_SRC))
	$(CC) $(SAN_FLAGS) -pthread -o $@ $^ $(pkg_libs)

# What each unit test and fuzz harness is built from, besides its own file.
test_decode_SRC = daemon/decode.c
test_capture_SRC = daemon/capture.c daemon/sharedfile.c daemon/decode.c
test_capture_CFLAGS = $(pkg_cflags)
test_capture_LIBS = $(pkg_libs)
test_flow_SRC = daemon/flow.c daemon/decode.c
test_reassembly_SRC = daemon/reassembly.c
test_queue_SRC = daemon/queue.c
test_observation_SRC = daemon/observation.c
test_observation_LIBS = $(pkg_libs)
test_dns_SRC = dissectors/dns.c
test_http1_SRC = dissectors/http1.c
test_http2_SRC = dissectors/http2.c
test_http2_LIBS = $(shell pkg-config --libs libnghttp2)
test_tls_SRC = dissectors/tls.c
test_quic_SRC = dissectors/quic.c dissectors/tls.c dissectors/hkdf.c
test_quic_LIBS = $(pkg_libs)
test_identifiers_SRC = daemon/identifiers.c
test_identifiers_LIBS = $(pkg_libs)
test_dnscache_SRC = daemon/dnscache.c
test_parse_data_SRC = $(LISTS_SRC)
test_parse_data_LIBS = $(pkg_libs)
test_parse_text_SRC = $(LISTS_SRC)
test_parse_text_LIBS = $(pkg_libs)
test_matcher_SRC = $(LISTS_SRC)
test_matcher_LIBS = $(pkg_libs)
test_lists_SRC = $(LISTS_SRC)
test_lists_LIBS = $(pkg_libs)
test_cli_db_SRC = cli/db.c $(LISTS_SRC) $(STORE_SRC) daemon/observation.c
test_cli_db_LIBS = $(pkg_libs)
test_config_SRC = daemon/config.c $(STORE_SRC) blocklists/yamlfile.c
test_config_LIBS = $(pkg_libs)
test_timeline_SRC = daemon/timeline.c daemon/config.c daemon/observation.c $(STORE_SRC) $(LISTS_SRC)
test_timeline_LIBS = $(pkg_libs)
test_store_SRC = $(STORE_SRC)
test_store_LIBS = $(pkg_libs)
test_lists_live_SRC = $(LISTS_SRC)
test_lists_live_LIBS = $(pkg_libs)
test_psl_SRC = $(LISTS_SRC)
test_cookie_SRC = dissectors/cookie.c
test_progress_SRC = daemon/progress.c
test_control_SRC = daemon/control.c
test_control_LIBS = $(pkg_libs)
test_privileges_SRC = daemon/privileges.c
test_privileges_LIBS = $(capng_libs)
test_phases_SRC = cli/phases.c cli/db.c $(LISTS_SRC) $(STORE_SRC) daemon/observation.c
test_phases_LIBS = $(pkg_libs)
test_tcf_SRC = dissectors/tcf.c
test_tcf_LIBS = $(pkg_libs)
test_consent_SRC = daemon/consent.c dissectors/tcf.c dissectors/cookie.c blocklists/yamlfile.c
test_consent_LIBS = $(pkg_libs)
test_psl_LIBS = $(pkg_libs)
test_tlsdec_SRC = dissectors/tlsdec.c dissectors/hkdf.c
test_tlsdec_LIBS = $(shell pkg-config --libs libcrypto)
test_keylog_SRC = dissectors/keylog.c
test_keylog_LIBS = $(shell pkg-config --libs libcrypto)
fuzz_decode_SRC = daemon/decode.c
fuzz_capture_SRC = daemon/capture.c daemon/sharedfile.c daemon/decode.c
fuzz_capture_CFLAGS = $(pkg_cflags) -DCAPTURE_DIRECT_PIECE=512
fuzz_capture_LIBS = $(pkg_libs)
fuzz_flow_SRC = daemon/flow.c daemon/decode.c
fuzz_reassembly_SRC = daemon/reassembly.c
fuzz_dns_SRC = dissectors/dns.c
fuzz_http1_SRC = dissectors/http1.c
fuzz_http2_SRC = dissectors/http2.c
fuzz_http2_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libnghttp2))
fuzz_http2_LIBS = $(shell pkg-config --libs libnghttp2)
fuzz_tls_SRC = dissectors/tls.c
fuzz_quic_SRC = dissectors/quic.c dissectors/tls.c dissectors/hkdf.c
fuzz_quic_LIBS = $(shell pkg-config --libs libcrypto)
fuzz_identifiers_SRC = daemon/identifiers.c
fuzz_identifiers_LIBS = $(shell pkg-config --libs libcrypto)
fuzz_observation_SRC = daemon/observation.c
fuzz_observation_LIBS = $(shell pkg-config --libs jansson)
fuzz_pipeline_SRC = $(CORE_SRC)
fuzz_pipeline_CFLAGS = $(pkg_cflags)
fuzz_pipeline_LIBS = $(pkg_libs)
fuzz_disconnect_SRC = $(LISTS_SRC)
fuzz_disconnect_CFLAGS = $(pkg_cflags)
fuzz_disconnect_LIBS = $(pkg_libs)
fuzz_tds_SRC = $(LISTS_SRC)
fuzz_tds_CFLAGS = $(pkg_cflags)
fuzz_tds_LIBS = $(pkg_libs)
fuzz_cookiedb_SRC = $(LISTS_SRC)
fuzz_cookiedb_CFLAGS = $(pkg_cflags)
fuzz_cookiedb_LIBS = $(pkg_libs)
fuzz_abp_SRC = $(LISTS_SRC)
fuzz_abp_CFLAGS = $(pkg_cflags)
fuzz_abp_LIBS = $(pkg_libs)
fuzz_hosts_SRC = $(LISTS_SRC)
fuzz_hosts_CFLAGS = $(pkg_cflags)
fuzz_hosts_LIBS = $(pkg_libs)
fuzz_snapshot_SRC = $(LISTS_SRC)
fuzz_snapshot_CFLAGS = $(pkg_cflags)
fuzz_snapshot_LIBS = $(pkg_libs)
fuzz_lists_config_SRC = $(LISTS_SRC)
fuzz_lists_config_CFLAGS = $(pkg_cflags)
fuzz_lists_config_LIBS = $(pkg_libs)
fuzz_daemon_config_SRC = daemon/config.c daemon/store.c daemon/schema.c blocklists/yamlfile.c
fuzz_daemon_config_CFLAGS = $(pkg_cflags)
fuzz_daemon_config_LIBS = $(pkg_libs)
fuzz_timeline_SRC = daemon/timeline.c daemon/store.c daemon/schema.c daemon/config.c daemon/observation.c $(LISTS_SRC)
fuzz_timeline_CFLAGS = $(pkg_cflags)
fuzz_timeline_LIBS = $(pkg_libs)
fuzz_cookie_SRC = dissectors/cookie.c
fuzz_tcf_SRC = dissectors/tcf.c
fuzz_tcf_CFLAGS = $(pkg_cflags)
fuzz_tcf_LIBS = $(pkg_libs)
fuzz_consent_SRC = daemon/consent.c dissectors/tcf.c dissectors/cookie.c blocklists/yamlfile.c
fuzz_consent_CFLAGS = $(pkg_cflags)
fuzz_consent_LIBS = $(pkg_libs)
fuzz_control_SRC = daemon/control.c
fuzz_control_CFLAGS = $(pkg_cflags)
fuzz_control_LIBS = $(pkg_libs)
fuzz_tlsdec_SRC = dissectors/tlsdec.c dissectors/hkdf.c
fuzz_tlsdec_LIBS = $(shell pkg-config --libs libcrypto)
fuzz_keylog_SRC = dissectors/keylog.c
fuzz_keylog_CFLAGS = $(shell pkg-config --cflags libcrypto)
fuzz_keylog_LIBS = $(shell pkg-config --libs libcrypto)

# Keep the objects the pattern rules make (make would delete them as intermediate).
.SECONDARY:
.SECONDEXPANSION:
$(B)/asan/test_%: $$(call obj,asan,tests/unit/test_$$*.c $$(test_$$*_SRC))
	$(CC) $(SAN_FLAGS) -pthread -o $@ $^ $(cmocka_libs) $(test_$*_LIBS)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_$$*_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP \
		$(fuzz_$*_CFLAGS) -o $@ $(filter %.c,$^) $(fuzz_$*_LIBS)

deps:
	@SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	missing=; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Status}\n' $$p 2>/dev/null | grep -qx installed \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; \
	fi

DEMO_PCAP = tests/data/browser-accept-http.pcap

demo: deps
	@$(MAKE) --no-print-directory -s all
	@echo "== trackwatchd -r $(DEMO_PCAP)"
	@$(B)/trackwatchd -r $(DEMO_PCAP)
	@rm -f $(B)/demo.db $(B)/demo.db-wal $(B)/demo.db-shm
	@echo "== trackwatchd -q -r $(DEMO_PCAP) --db $(B)/demo.db; trackwatch report --db $(B)/demo.db"
	@$(B)/trackwatchd -q -r $(DEMO_PCAP) --db $(B)/demo.db
	@$(B)/trackwatch report --db $(B)/demo.db

check: deps
	@$(MAKE) --no-print-directory check-run

CHECK_SUITES = unit golden cli-tests store-tests report-tests consent-tests tls-tests lists-tests fetch-test crosscheck hostile live install-test man-check fuzz-smoke
check-run: $(CHECK_SUITES)
	@echo "suites: $(words $(CHECK_SUITES)) passed, 0 failed"

unit: $(addprefix $(B)/asan/,$(UNIT_TESTS))
	@for t in $^; do echo "== $$t"; $$t || exit 1; done

golden: $(B)/asan/trackwatchd
	tests/integration/golden.sh $(B)/asan/trackwatchd

cli-tests: $(B)/asan/trackwatchd $(B)/asan/trackwatch
	tests/integration/cli.sh $(B)/asan/trackwatchd $(B)/asan/trackwatch

store-tests: $(B)/asan/trackwatchd $(B)/asan/trackwatch
	tests/integration/store.sh $(B)/asan/trackwatchd $(B)/asan/trackwatch

report-tests: $(B)/asan/trackwatch
	tests/integration/report.sh $(B)/asan/trackwatch

# Consent phases against the browser scenarios' truth, and the TCF decoder's command.
consent-tests: $(B)/asan/trackwatchd $(B)/asan/trackwatch
	tests/integration/consent.py $(B)/asan/trackwatchd $(B)/asan/trackwatch tests/data
	tests/integration/tcf.sh $(B)/asan/trackwatch

# TLS decryption against tshark: every bundled capture with its key log (the whole
# corpus: tests/integration/tls-oracle.py build/trackwatchd ../shared/corpus/tls).
tls-tests: $(B)/asan/trackwatchd
	tests/integration/tls-oracle.py $(B)/asan/trackwatchd tests/data/tls

lists-tests: $(B)/asan/trackwatch $(B)/linear/trackwatch
	tests/integration/lists.sh $(B)/asan/trackwatch $(B)/linear/trackwatch

# The command line with a matcher that scans every generic URL rule instead of
# using its token index: the reference the index is checked against.
$(B)/linear/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -O2 $(TW_CFLAGS) -DMATCHER_LINEAR_GENERIC $(pkg_cflags) -c $< -o $@

$(B)/linear/trackwatch: $(call obj,linear,$(CLI_SRC))
	$(CC) -pthread -o $@ $^ $(pkg_libs)

crosscheck: $(B)/asan/trackwatchd
	tests/integration/crosscheck.py $(B)/asan/trackwatchd tests/data

live: $(B)/asan/trackwatchd $(B)/asan/trackwatch
	tests/integration/live.sh $(B)/asan/trackwatchd $(B)/asan/trackwatch

# Memory bounds under floods, with both builds: the release build's bounds are tighter.
hostile: $(B)/asan/trackwatchd $(B)/trackwatchd
	tests/integration/hostile.sh $(B)/trackwatchd
	tests/integration/hostile.sh $(B)/asan/trackwatchd

install-test: all
	tests/integration/install.sh

man-check:
	tests/integration/man.sh
	@w=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l man/trackwatch.yaml.5 2>&1 >/dev/null); \
	if [ -n "$$w" ]; then echo "FAIL: trackwatch.yaml.5: $$w"; exit 1; fi
	@# Every key of the settings table in trackwatch.yaml(5) and in --dump-config.
	@$(MAKE) --no-print-directory $(B)/asan/test_config
	$(B)/asan/test_config

# `trackwatch lists update` downloads against a local HTTPS server. libcurl needs no
# cflags here: pkg-config names only the multiarch include dir, a default one.
$(B)/asan/fetch_test: $(call obj,asan,tests/integration/fetch_test.c blocklists/fetch.c)
	$(CC) $(SAN_FLAGS) -pthread -o $@ $^ $(shell pkg-config --libs libcurl)

fetch-test: $(B)/asan/fetch_test
	tests/integration/fetch.sh $(B)/asan/fetch_test

fuzz: $(addprefix $(B)/fuzz/,$(FUZZERS))

# A few seconds each: enough to catch a regression on the seeds and nearby.
FUZZ_SECONDS ?= 5
fuzz-smoke: fuzz
	@for f in $(FUZZERS); do \
		echo "== $$f ($(FUZZ_SECONDS) s)"; \
		mkdir -p $(B)/fuzz/corpus-$$f; \
		seeds=tests/fuzz/seeds/$${f#fuzz_}; [ -d $$seeds ] || seeds=; \
		$(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=0 \
			-error_exitcode=77 $(B)/fuzz/corpus-$$f $$seeds \
			2> $(B)/fuzz/$$f.log || { tail -40 $(B)/fuzz/$$f.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $(B)/fuzz/$$f.log | tail -1; \
	done

bench: all
	bench/throughput.sh
	bench/lists.sh

$(B)/lists_bench: $(call obj,obj,bench/lists_bench.c $(LISTS_SRC))
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDFLAGS) $(pkg_libs)

$(B)/store_bench: $(call obj,obj,bench/store_bench.c $(CORE_SRC) $(STORE_SRC) $(LISTS_SRC) daemon/timeline.c daemon/config.c)
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDFLAGS) $(pkg_libs)

# The tshark oracle over a corpus outside the project (not part of check):
#   make oracle CORPUS=../shared/corpus
CORPUS ?= ../shared/corpus
oracle: all
	tests/oracle/compare.py $(B)/trackwatchd $(CORPUS)/ndpi $(CORPUS)/browser

# The end-to-end live test (not part of check): trackwatchd live in a network
# namespace on a real headless Chromium's traffic, `trackwatch status` while it
# runs, the report against the scenario's truth. Root; SHARED/e2e/gen.sh installs
# what it needs (chromium, nginx, dnsmasq, playwright-core) but not sysctl (procps).
#   make check-live SHARED=../shared
SHARED ?= ../shared
LIVE_DEB_PACKAGES = procps
check-live: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(LIVE_DEB_PACKAGES)"
	tests/live/e2e.sh $(SHARED)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(B)/trackwatchd $(DESTDIR)$(SBINDIR)/trackwatchd
	install -m 0755 $(B)/trackwatch $(DESTDIR)$(BINDIR)/trackwatch
	install -m 0644 man/trackwatchd.8 $(DESTDIR)$(MANDIR)/man8/trackwatchd.8
	install -m 0644 man/trackwatch.1 $(DESTDIR)$(MANDIR)/man1/trackwatch.1
	install -m 0644 man/trackwatch.yaml.5 $(DESTDIR)$(MANDIR)/man5/trackwatch.yaml.5
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(DATADIR)/lists/disconnect $(DESTDIR)$(DATADIR)/lists/open-cookie-database \
		$(DESTDIR)$(DATADIR)/lists/duckduckgo
	install -m 0644 blocklists/data/README.md $(DESTDIR)$(DATADIR)/lists/
	install -m 0644 blocklists/data/disconnect/* $(DESTDIR)$(DATADIR)/lists/disconnect/
	install -m 0644 blocklists/data/open-cookie-database/* $(DESTDIR)$(DATADIR)/lists/open-cookie-database/
	install -m 0644 blocklists/data/duckduckgo/* $(DESTDIR)$(DATADIR)/lists/duckduckgo/
	install -m 0644 etc/consent-signals.yaml $(DESTDIR)$(DATADIR)/consent-signals.yaml
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 etc/trackwatch.yaml $(DESTDIR)$(DOCDIR)/examples/trackwatch.yaml
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' etc/trackwatchd.service > $(DESTDIR)$(UNITDIR)/trackwatchd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/trackwatchd.service
	@# The service's user, on the machine itself only (not into a staging DESTDIR).
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd trackwatch > /dev/null; then \
		echo "make install: adding the system user trackwatch"; \
		useradd --system --user-group --home-dir /var/lib/trackwatch --no-create-home \
			--shell /usr/sbin/nologin --comment "trackwatch sensor" trackwatch; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/trackwatchd $(DESTDIR)$(BINDIR)/trackwatch \
		$(DESTDIR)$(MANDIR)/man8/trackwatchd.8 $(DESTDIR)$(MANDIR)/man1/trackwatch.1 \
		$(DESTDIR)$(MANDIR)/man5/trackwatch.yaml.5 \
		$(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/examples/trackwatch.yaml
	rm -rf $(DESTDIR)$(DATADIR)/lists
	rm -f $(DESTDIR)$(DATADIR)/consent-signals.yaml $(DESTDIR)$(UNITDIR)/trackwatchd.service
	-rmdir $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
