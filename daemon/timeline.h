/*
 * timeline: what turns observations into the store's rows (DESIGN.md,
 * "match"): it runs on the writer thread, after the pipeline. For each
 * observation it finds the device (client MAC, else client address), the
 * site the device was on (a visit: trackwatchd(8), SITES), looks the host
 * up in the tracker lists, through the CNAME chain the device's DNS answers
 * gave it when the name itself is not listed (CNAME cloaking), and appends
 * a row, with a hit when a list names it a tracker.
 *
 * Kept: the contacts (DNS queries, TLS/DTLS/QUIC server names, HTTP
 * requests, connections named by the DNS, flows resumed after a pause,
 * STUN realms and other names nDPI found), Cookie and Set-Cookie headers,
 * and DNS answers that carry a CNAME chain. Local-link names (mDNS, LLMNR,
 * NetBIOS) and handshake details are not timeline rows; a DHCP host name
 * names its device.
 */
#ifndef TRACKWATCH_TIMELINE_H
#define TRACKWATCH_TIMELINE_H

#include <stdint.h>

#include "../blocklists/matcher.h"
#include "config.h"
#include "observation.h"
#include "store.h"

struct timeline_options {
	uint64_t visit_pause_us;    /* a contact after this long without any may begin a visit (2 s) */
	uint64_t visit_timeout_us;  /* a visit ends after this long without contacts (30 min) */
};
void timeline_options_defaults(struct timeline_options *options);

struct timeline;

/* `config` (device names) must outlive the timeline. NULL when out of memory. */
struct timeline *timeline_new(struct store *store, const struct daemon_config *config,
			      const struct timeline_options *options);
/* The matcher to look up in (NULL: none, no hits); it must outlive its use. */
void timeline_set_matcher(struct timeline *t, const struct matcher *m);
/* Device names from `config` from now on (a reload); it must outlive its use. */
void timeline_set_config(struct timeline *t, const struct daemon_config *config);
/* Whether the timeline has any use for an observation (the sink may skip the others). */
int timeline_wants(const struct observation *obs);
/* One observation; 0, or -1 on a store error (store_error() says which). */
int timeline_observe(struct timeline *t, const struct observation *obs);
void timeline_free(struct timeline *t);

#endif
