/*
 * Fake NVML: event sets. Scenario events (event.<n>) are queued by runtime.c when a reload first sees
 * them; each set keeps a bounded FIFO (oldest dropped when full) and waiters block on a
 * CLOCK_MONOTONIC condition variable, so a wall-clock step cannot stretch or cut a timeout.
 *
 * Sets live in a registry so a bogus or freed handle is rejected instead of dereferenced. A set freed
 * (or invalidated by the last nvmlShutdown) while threads wait in it is unlinked at once and released
 * by the last waiter to leave.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_internal.h"

struct nvmlEventSet_st {
    struct nvmlEventSet_st *next;
    unsigned long long mask[FAKE_MAX_GPUS]; /* registered event types per GPU slot */
    nvmlEventData_t queue[FAKE_EVENT_QUEUE];
    unsigned int head, count;
    pthread_cond_t cond;
    int waiters, dead;
    int broken; /* a registration answered UNKNOWN: the set delivers nothing until it is freed and rebuilt */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nvmlEventSet_st *g_sets;

/* event.<n> numbers already fired; touched only by runtime.c's publish(), under the state write lock. */
static unsigned long long *g_fired;
static size_t g_n_fired, g_cap_fired;

static size_t fired_pos(unsigned long long n) {
    size_t lo = 0, hi = g_n_fired;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g_fired[mid] < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int fake_event_fired(unsigned long long n) {
    size_t i = fired_pos(n);
    return i < g_n_fired && g_fired[i] == n;
}

void fake_event_mark_fired(unsigned long long n) {
    if (g_n_fired == g_cap_fired) {
        size_t cap = g_cap_fired ? g_cap_fired * 2 : 64;
        unsigned long long *v = realloc(g_fired, cap * sizeof(*v));
        if (!v)
            return; /* out of memory: the event may fire again on a later reload */
        g_fired = v;
        g_cap_fired = cap;
    }
    size_t i = fired_pos(n);
    memmove(g_fired + i + 1, g_fired + i, (g_n_fired - i) * sizeof(*g_fired));
    g_fired[i] = n;
    g_n_fired++;
}

/* Caller holds g_mu. Strict: a set that is not live (freed, or never ours) is a use after free. */
static struct nvmlEventSet_st *find_set(fake_fn fn, nvmlEventSet_t set) {
    for (struct nvmlEventSet_st *s = g_sets; s; s = s->next)
        if (s == set)
            return s;
    if (fake_strict())
        fake_strict_abort(fn, "an event set that was freed (nvmlEventSetFree or the last nvmlShutdown)");
    return NULL;
}

int fake_events_waiting(void) {
    pthread_mutex_lock(&g_mu);
    int n = 0;
    for (struct nvmlEventSet_st *s = g_sets; s; s = s->next)
        n += s->waiters;
    pthread_mutex_unlock(&g_mu);
    return n;
}

static void destroy(struct nvmlEventSet_st *s) {
    pthread_cond_destroy(&s->cond);
    free(s);
}

/* Unlinks a set and wakes its waiters; whoever leaves it last frees it. Caller holds g_mu. */
static void kill_set(struct nvmlEventSet_st *s) {
    for (struct nvmlEventSet_st **p = &g_sets; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    s->dead = 1;
    pthread_cond_broadcast(&s->cond);
    if (s->waiters == 0)
        destroy(s);
}

void fake_events_enqueue(unsigned int slot, unsigned long long type, unsigned long long data,
                         unsigned int gpu_instance, unsigned int compute_instance) {
    pthread_mutex_lock(&g_mu);
    for (struct nvmlEventSet_st *s = g_sets; s; s = s->next) {
        if (!(s->mask[slot] & type) || s->broken)
            continue;
        if (s->count == FAKE_EVENT_QUEUE) { /* full: drop the oldest */
            s->head = (s->head + 1) % FAKE_EVENT_QUEUE;
            s->count--;
        }
        nvmlEventData_t *e = &s->queue[(s->head + s->count) % FAKE_EVENT_QUEUE];
        e->device = fake_handle(slot);
        e->eventType = type;
        e->eventData = data;
        e->gpuInstanceId = gpu_instance; /* FAKE_NO_INSTANCE unless the event names one */
        e->computeInstanceId = compute_instance;
        s->count++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&g_mu);
}

void fake_events_shutdown(void) {
    pthread_mutex_lock(&g_mu);
    while (g_sets)
        kill_set(g_sets);
    pthread_mutex_unlock(&g_mu);
}

API nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
    nvmlReturn_t rc = fake_global_checks(FN_nvmlEventSetCreate);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!set)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct nvmlEventSet_st *s = calloc(1, sizeof(*s));
    if (!s)
        return NVML_ERROR_MEMORY;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int err = pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (err) {
        free(s);
        return NVML_ERROR_MEMORY;
    }
    pthread_mutex_lock(&g_mu);
    s->next = g_sets;
    g_sets = s;
    pthread_mutex_unlock(&g_mu);
    *set = s;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t device, unsigned long long *eventTypes) {
    DEVICE_BEGIN(nvmlDeviceGetSupportedEventTypes, device, 0);
    if (!eventTypes)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *eventTypes = G->supported_events;
    DONE(NVML_SUCCESS);
}

/* As the header specifies: asking for any type the GPU does not support registers nothing and answers
 * NOT_SUPPORTED, so a caller must register `supported & wanted`. Registrations accumulate. */
API nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long eventTypes, nvmlEventSet_t set) {
    call_ctx c_;
    nvmlReturn_t r_ = fake_enter_device(&c_, FN_nvmlDeviceRegisterEvents, device, 0);
    if (r_ == NVML_ERROR_UNKNOWN) {
        /* As seen on real drivers: after UNKNOWN the set is in an undefined state and must be rebuilt. */
        pthread_mutex_lock(&g_mu);
        struct nvmlEventSet_st *s = find_set(FN_nvmlDeviceRegisterEvents, set);
        if (s)
            s->broken = 1;
        pthread_mutex_unlock(&g_mu);
    }
    if (r_ != NVML_SUCCESS)
        return r_;
    const gpu_cfg *G = c_.g;
    pthread_mutex_lock(&g_mu);
    struct nvmlEventSet_st *s = find_set(FN_nvmlDeviceRegisterEvents, set);
    nvmlReturn_t rc = NVML_SUCCESS;
    if (!s)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (eventTypes & ~G->supported_events)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        s->mask[c_.slot] |= eventTypes;
    pthread_mutex_unlock(&g_mu);
    DONE(rc);
}

API nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
    /* The state lock is released before blocking: a waiter must not hold up reloads or other calls. */
    nvmlReturn_t rc = fake_global_checks(FN_nvmlEventSetWait_v2);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!data)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeoutms / 1000;
    deadline.tv_nsec += (long) (timeoutms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_mu);
    struct nvmlEventSet_st *s = find_set(FN_nvmlEventSetWait_v2, set);
    if (!s) {
        pthread_mutex_unlock(&g_mu);
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    s->waiters++;
    while (s->count == 0 && !s->dead) {
        if (pthread_cond_timedwait(&s->cond, &g_mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (s->dead) {
        rc = NVML_ERROR_INVALID_ARGUMENT; /* freed (or the last nvmlShutdown) while waiting */
    } else if (s->count > 0) {
        *data = s->queue[s->head];
        s->head = (s->head + 1) % FAKE_EVENT_QUEUE;
        s->count--;
        rc = NVML_SUCCESS;
    } else {
        rc = NVML_ERROR_TIMEOUT;
    }
    s->waiters--;
    if (s->dead && s->waiters == 0)
        destroy(s);
    pthread_mutex_unlock(&g_mu);
    return rc;
}

API nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
    nvmlReturn_t rc = fake_global_checks(FN_nvmlEventSetFree);
    if (rc != NVML_SUCCESS)
        return rc;
    pthread_mutex_lock(&g_mu);
    struct nvmlEventSet_st *s = find_set(FN_nvmlEventSetFree, set);
    if (s)
        kill_set(s);
    pthread_mutex_unlock(&g_mu);
    return s ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}
