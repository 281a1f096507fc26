/*
 * ndpi_glue: the only file that speaks nDPI. Takes IP packets of one flow,
 * gives the application nDPI recognised and the name it extracted. Written
 * against Debian 12's nDPI 4.2; nDPI 4.10 changed ndpi_init_detection_module()
 * and ndpi_detection_process_packet(), and a port to it changes this file
 * and ndpi_glue.c only.
 *
 * One engine per capture thread: an engine and its flows must not be shared
 * between threads.
 */
#ifndef TRACKWATCH_NDPI_GLUE_H
#define TRACKWATCH_NDPI_GLUE_H

#include <stddef.h>
#include <stdint.h>

struct dpi_engine;
struct dpi_flow;

/* Which of nDPI's dissectors the extracted name came from. */
enum dpi_name_source {
	DPI_NAME_NONE = 0,
	DPI_NAME_DNS,
	DPI_NAME_MDNS,
	DPI_NAME_LLMNR,
	DPI_NAME_TLS,
	DPI_NAME_DTLS,
	DPI_NAME_QUIC,
	DPI_NAME_HTTP,
	DPI_NAME_DHCP,
	DPI_NAME_NETBIOS,
	DPI_NAME_STUN,
	DPI_NAME_OTHER,
};

/* The application, as nDPI's protocol ids: kept after the nDPI state is freed. */
struct dpi_label {
	uint16_t master;   /* e.g. TLS */
	uint16_t app;      /* e.g. Google */
	uint16_t category;
};

/* What nDPI extracted from a flow so far. Strings point into the flow state. */
struct dpi_facts {
	enum dpi_name_source source;
	const char *host;        /* "" when none */
	int dns_is_query;
	uint16_t dns_qtype;
	const char *http_method; /* NULL when no request was seen */
	const char *http_url;    /* as nDPI keeps it: host then path; NULL if none */
};

struct dpi_engine *dpi_engine_new(void);
/*
 * Begins an engine's start-up now, for the next dpi_engine_new() to take:
 * for a program that knows early that it will need one (its start-up runs
 * beside the program's own). Once; later calls do nothing.
 */
void dpi_engine_prestart(void);
/* An engine dpi_engine_prestart() began and no dpi_engine_new() took (a run that ended early): freed. */
void dpi_engine_prestart_drop(void);
void dpi_engine_free(struct dpi_engine *engine);
/*
 * Waits for the engine's start-up thread, if it still runs, and frees
 * nothing: for a program about to end without dpi_engine_free(), so that
 * nothing of nDPI runs beside its exit.
 */
void dpi_engine_settle(struct dpi_engine *engine);

struct dpi_flow *dpi_flow_new(void);
void dpi_flow_free(struct dpi_flow *flow);

/*
 * Feeds one IP packet (l3 points at the IP header). Returns 1 when nDPI has
 * classified the flow and wants nothing more, 0 when it wants more packets.
 */
int dpi_flow_process(struct dpi_engine *engine, struct dpi_flow *flow, const uint8_t *l3,
		     size_t l3_len, uint64_t time_ms);

/* Whether nDPI has named the flow's protocol (it may still want packets). */
int dpi_flow_classified(const struct dpi_flow *flow);

/* Ends detection: nDPI guesses from ports and addresses if it has no answer. */
void dpi_flow_giveup(struct dpi_engine *engine, struct dpi_flow *flow);

void dpi_flow_label(const struct dpi_flow *flow, struct dpi_label *label);
void dpi_flow_facts(const struct dpi_flow *flow, struct dpi_facts *facts);

/* The protocols our own readers take over from nDPI. */
enum dpi_master { DPI_MASTER_TLS, DPI_MASTER_HTTP, DPI_MASTER_DNS, DPI_MASTER_MDNS,
		  DPI_MASTER_LLMNR, DPI_MASTER_QUIC };

/*
 * The label nDPI gives a flow of `master` that names `host` (NULL or "" when
 * it names none), from nDPI's lists of host names and, failing those, of
 * IPv4 networks (`server_addr`, 4 bytes, or NULL): for flows our own readers
 * dissect, so that nDPI's dissectors need not run on them at all.
 */
void dpi_label_for_name(struct dpi_engine *engine, enum dpi_master master, const char *host,
			const uint8_t *server_addr, struct dpi_label *label);

/* "TLS.Google", "DNS", "Unknown": written into buf, which is returned. */
const char *dpi_label_name(struct dpi_engine *engine, const struct dpi_label *label,
			   char *buf, size_t len);
const char *dpi_category_name(struct dpi_engine *engine, const struct dpi_label *label);

/* nDPI's version string, for --version. */
const char *dpi_version(void);

#endif
