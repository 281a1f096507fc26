/*
 * live: several interfaces, reopened with back-off; see live.h.
 */
#include "live.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int live_init(struct live *live, char *const *names, size_t count, const char *filter)
{
	memset(live, 0, sizeof *live);
	if (count > LIVE_SOURCES_MAX)
		count = LIVE_SOURCES_MAX;
	if (filter && !(live->filter = strdup(filter)))
		return -1;
	for (size_t i = 0; i < count; i++) {
		live->sources[i].name = strdup(names[i]);
		if (!live->sources[i].name) {
			live_free(live);
			return -1;
		}
		live->count++;
	}
	return 0;
}

static void source_fail(struct live_source *s, const char *error, uint64_t now_us)
{
	s->backoff_s = s->backoff_s ? s->backoff_s * 2 : 1;
	if (s->backoff_s > LIVE_RETRY_MAX_S)
		s->backoff_s = LIVE_RETRY_MAX_S;
	s->retry_at_us = now_us + (uint64_t)s->backoff_s * 1000000;
	s->failures++;
	/* The first failure and every change of reason are worth a line; the same again is not. */
	if (s->failures == 1 || strcmp(s->error, error) != 0)
		log_error("%s; trying again in %u s, then less and less often (at most every %d s)",
			  error, s->backoff_s, LIVE_RETRY_MAX_S);
	else
		log_debug("%s; trying again in %u s", error, s->backoff_s);
	snprintf(s->error, sizeof s->error, "%s", error);
}

/* The open handle's counters since the last sample, added (32-bit differences: a wrap is fine). */
static void source_sample(struct live_source *s)
{
	uint64_t received, dropped, if_dropped;
	if (!s->capture || capture_drops(s->capture, &received, &dropped, &if_dropped) != 0)
		return;
	s->received += (uint32_t)((uint32_t)received - s->last_received);
	s->dropped += (uint32_t)((uint32_t)dropped - s->last_dropped);
	s->if_dropped += (uint32_t)((uint32_t)if_dropped - s->last_if_dropped);
	s->last_received = (uint32_t)received;
	s->last_dropped = (uint32_t)dropped;
	s->last_if_dropped = (uint32_t)if_dropped;
}

void live_sample(struct live *live)
{
	for (size_t i = 0; i < live->count; i++)
		source_sample(&live->sources[i]);
}

static void source_close(struct live_source *s)
{
	source_sample(s);
	capture_close(s->capture);
	s->capture = NULL;
	s->last_received = s->last_dropped = s->last_if_dropped = 0;
}

size_t live_open_due(struct live *live, uint64_t now_us)
{
	size_t open = 0;
	for (size_t i = 0; i < live->count; i++) {
		struct live_source *s = &live->sources[i];
		if (!s->capture && now_us >= s->retry_at_us) {
			char error[CAPTURE_ERROR_MAX], warning[CAPTURE_ERROR_MAX];
			s->capture = capture_open_live(s->name, live->filter, error, sizeof error,
						       warning, sizeof warning);
			if (s->capture && (s->fd = capture_fd(s->capture, error, sizeof error)) < 0) {
				capture_close(s->capture);
				s->capture = NULL;
			}
			if (!s->capture) {
				source_fail(s, error, now_us);
			} else {
				if (warning[0])
					log_warning("%s", warning);
				if (s->failures)
					log_notice("%s: capturing again, after %u failed attempts", s->name,
						   s->failures);
				else
					log_info("%s: capturing", s->name);
				s->failures = 0;
				s->backoff_s = 0;
				s->error[0] = '\0';
			}
		}
		open += s->capture != NULL;
	}
	return open;
}

size_t live_pollfds(struct live *live, struct pollfd *fds)
{
	size_t n = 0;
	for (size_t i = 0; i < live->count; i++) {
		if (!live->sources[i].capture)
			continue;
		live->slot_of[n] = (int)i;
		fds[n++] = (struct pollfd){ .fd = live->sources[i].fd, .events = POLLIN };
	}
	return n;
}

size_t live_dispatch(struct live *live, const struct pollfd *fds, size_t count,
		     capture_frame_fn on_frame, void *context, uint64_t now_us)
{
	size_t frames = 0;
	for (size_t k = 0; k < count; k++) {
		if (!fds[k].revents)
			continue;
		struct live_source *s = &live->sources[live->slot_of[k]];
		if (!s->capture)
			continue;
		char error[CAPTURE_ERROR_MAX];
		int n = (fds[k].revents & (POLLERR | POLLNVAL)) && !(fds[k].revents & POLLIN) ? -1 :
			capture_dispatch(s->capture, LIVE_BATCH, on_frame, context, error, sizeof error);
		if (n < 0) {
			if ((fds[k].revents & (POLLERR | POLLNVAL)) && !(fds[k].revents & POLLIN))
				snprintf(error, sizeof error, "%s: the capture failed (the interface went away?)",
					 s->name);
			source_close(s);
			source_fail(s, error, now_us);
			continue;
		}
		s->frames += (uint64_t)n;
		frames += (size_t)n;
	}
	return frames;
}

size_t live_drain(struct live *live, capture_frame_fn on_frame, void *context)
{
	size_t frames = 0;
	for (size_t i = 0; i < live->count; i++) {
		struct live_source *s = &live->sources[i];
		char error[CAPTURE_ERROR_MAX];
		/* Bounded: a link that keeps delivering must not keep the daemon from stopping. */
		for (int round = 0; s->capture && round < LIVE_DRAIN_ROUNDS; round++) {
			int n = capture_dispatch(s->capture, LIVE_BATCH, on_frame, context, error,
						 sizeof error);
			if (n <= 0)
				break;
			s->frames += (uint64_t)n;
			frames += (size_t)n;
		}
	}
	return frames;
}

void live_counters(struct live *live, size_t i, uint64_t *received, uint64_t *dropped,
		   uint64_t *if_dropped)
{
	struct live_source *s = &live->sources[i];
	source_sample(s);
	*received = s->received;
	*dropped = s->dropped;
	*if_dropped = s->if_dropped;
}

uint64_t live_next_retry(const struct live *live)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < live->count; i++)
		if (!live->sources[i].capture && live->sources[i].retry_at_us < next)
			next = live->sources[i].retry_at_us;
	return next;
}

void live_free(struct live *live)
{
	for (size_t i = 0; i < live->count; i++) {
		capture_close(live->sources[i].capture);
		free(live->sources[i].name);
	}
	free(live->filter);
	memset(live, 0, sizeof *live);
}
