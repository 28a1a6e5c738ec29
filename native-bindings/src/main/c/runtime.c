/*
 * The fake driver's runtime: the state lock, init reference count, scenario reloads (synchronously at
 * init and from a background watcher), and the checks every call makes before doing its work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fake_internal.h"

#define MAX_SCENARIO_BYTES (4u << 20)
#define WATCH_PERIOD_MS 10

struct nvmlDevice_st fake_devices[2][FAKE_MAX_GPUS];
struct nvmlDevice_st fake_mig_devices[2][FAKE_MAX_GPUS][FAKE_MIG_EPOCHS][FAKE_MAX_MIG];
struct nvmlGpuInstance_st fake_gpu_instances[2][FAKE_MAX_GPUS][FAKE_MIG_EPOCHS][FAKE_MAX_GI];
struct nvmlComputeInstance_st fake_compute_instances[2][FAKE_MAX_GPUS][FAKE_MIG_EPOCHS][FAKE_MAX_GI][FAKE_MAX_CI];
gpu_live fake_live[FAKE_MAX_GPUS];

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_rwlock_t g_lock; /* guards g_state, fake_live and the fired-event set */
static scenario *g_state;
static int g_loaded;

static pthread_mutex_t g_reload_mu = PTHREAD_MUTEX_INITIALIZER; /* one reload at a time */
static char *g_last_path, *g_last_text, *g_last_error;
static size_t g_last_len;

static pthread_mutex_t g_init_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_refcount;
static int g_watcher_started;
static unsigned int g_generation; /* bumped by every last nvmlShutdown; picks the handle bank */
static int g_strict;
static char g_holder_file[300];   /* the holders file this process wrote, removed at the last shutdown */

static void setup(void) {
    /* Writer preference: 16 threads reading in a loop must not starve a reload. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&g_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
}

uint64_t fake_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

long long fake_epoch_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long) ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

void fake_sleep_ms(int64_t ms) {
    if (ms <= 0)
        return;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {
    }
}

/* ---- reading and publishing the scenario -------------------------------------------------------- */

/* 0 and the content (NULL/0 when empty), or -1 and a message. Only regular files (and /dev/null) are
 * read: a FIFO or a device could block the watcher forever. */
static int read_scenario(const char *path, char **text, size_t *len, char *err, size_t errn) {
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errn, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errn, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3) {
        close(fd);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errn, "not a regular file");
        close(fd);
        return -1;
    }
    size_t cap = (size_t) st.st_size + 1, n = 0;
    if (cap > MAX_SCENARIO_BYTES)
        cap = MAX_SCENARIO_BYTES;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errn, "out of memory");
        close(fd);
        return -1;
    }
    for (;;) {
        /* The file can grow while we read it: keep reading to EOF, within the size cap. */
        if (n == cap) {
            if (cap >= MAX_SCENARIO_BYTES) {
                snprintf(err, errn, "larger than %u bytes", MAX_SCENARIO_BYTES);
                free(buf);
                close(fd);
                return -1;
            }
            size_t ncap = cap * 2 > MAX_SCENARIO_BYTES ? MAX_SCENARIO_BYTES : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errn, "out of memory");
                free(buf);
                close(fd);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errn, "cannot read: %s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t) r;
    }
    close(fd);
    *text = buf;
    *len = n;
    return 0;
}

static void merge_live(unsigned int slot, const scenario *old, const scenario *s, uint64_t now) {
    gpu_live *l = &fake_live[slot];
    const gpu_cfg *n = &s->gpu[slot];
    if (!old) {
        memset(l, 0, sizeof(*l));
        l->energy_mj = (double) n->energy_mj;
        l->energy_t0_ns = now;
        return;
    }
    const gpu_cfg *o = &old->gpu[slot];
    /* Energy keeps counting across reloads at the power that applied until now. */
    l->energy_mj += (double) o->power_mw * (double) (now - l->energy_t0_ns) / 1e9;
    l->energy_t0_ns = now;
    if (o->energy_mj != n->energy_mj)
        l->energy_mj = (double) n->energy_mj;
    /* A control call's write stands until the file changes that key's value. */
    if (o->persistence_mode != n->persistence_mode)
        l->has_persistence = 0;
    if (o->power_limit_mw != n->power_limit_mw)
        l->has_power_limit = 0;
    if (o->drain != n->drain)
        l->has_drain = 0;
    for (int k = 0; k < ECC_COUNT; k++)
        if (o->ecc[k] != n->ecc[k])
            l->ecc_cleared[k] = 0;
    if (old->gpus != s->gpus)
        l->removed = 0;
    /* Instances destroyed or created: handles of the old topology no longer name anything. */
    if (!fake_mig_same_topology(o, n))
        l->mig_epoch++;
}

static void publish(scenario *s) {
    uint64_t now = fake_now_ns();
    pthread_rwlock_wrlock(&g_lock);
    scenario *old = g_state;
    for (unsigned int slot = 0; slot < FAKE_MAX_GPUS; slot++)
        merge_live(slot, old, s, now);
    g_state = s;
    const char *strict_env = getenv("FAKE_NVML_STRICT");
    __atomic_store_n(&g_strict, (int) s->strict || (strict_env && strcmp(strict_env, "1") == 0), __ATOMIC_RELEASE);
    __atomic_store_n(&g_loaded, 1, __ATOMIC_RELEASE);
    for (size_t i = 0; i < s->n_events; i++) {
        const fake_event *ev = &s->events[i];
        if (fake_event_fired(ev->n))
            continue;
        fake_event_mark_fired(ev->n);
        fake_events_enqueue(ev->gpu, ev->type, ev->data, ev->gpu_instance, ev->compute_instance);
    }
    pthread_rwlock_unlock(&g_lock);
    scenario_free(old);
}

/* A test that rewrites the scenario needs to know when the fake answers from it: the scenario's `marker`
 * goes to <scenario>.applied (atomically) after the new state is published. Nothing NVML answers changes. */
static void write_applied(const char *path, const char *marker) {
    if (!path || !*marker)
        return;
    char file[4200], tmp[4300];
    int n = snprintf(file, sizeof(file), "%s.applied", path);
    if (n < 0 || (size_t) n >= sizeof(file))
        return;
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", file, (long) getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "fake-nvml: cannot write %s: %s\n", tmp, strerror(errno));
        return;
    }
    int ok = fprintf(f, "%s\n", marker) > 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, file) != 0) {
        fprintf(stderr, "fake-nvml: cannot write %s: %s\n", file, strerror(errno));
        unlink(tmp);
    }
}

static int same_text(const char *path, const char *text, size_t len) {
    if (!g_loaded)
        return 0;
    if ((path == NULL) != (g_last_path == NULL) || (path && strcmp(path, g_last_path) != 0))
        return 0;
    return len == g_last_len && (len == 0 || memcmp(text, g_last_text, len) == 0);
}

/* Re-reads the scenario and publishes it when its content (or the path) changed. The content is
 * compared, not just the mtime: two writes within one timestamp tick must not be missed. `settle`
 * re-reads until two reads agree, so a file caught mid-write (truncated, then written) is not applied. */
static void check_reload(int settle) {
    pthread_once(&g_once, setup);
    pthread_mutex_lock(&g_reload_mu);
    const char *env = getenv("FAKE_NVML_SCENARIO");
    const char *path = env && *env ? env : NULL;
    char *text = NULL, err[256] = "";
    size_t len = 0;
    int failed = path ? read_scenario(path, &text, &len, err, sizeof(err)) : 0;
    if (!same_text(path, text, len) && settle && !failed) {
        for (int i = 0; i < 10; i++) {
            fake_sleep_ms(5);
            char *again = NULL, err2[256];
            size_t len2 = 0;
            if (read_scenario(path, &again, &len2, err2, sizeof(err2)) != 0)
                break;
            int stable = len2 == len && (len == 0 || memcmp(again, text, len) == 0);
            free(text);
            text = again;
            len = len2;
            if (stable)
                break;
        }
    }
    if (failed) {
        /* Reported once per distinct problem, not on every check. */
        if (!g_last_error || strcmp(g_last_error, err) != 0) {
            fprintf(stderr, "fake-nvml: %s: %s; using the defaults\n", path, err);
            fflush(stderr);
            free(g_last_error);
            g_last_error = strdup(err);
        }
    } else {
        free(g_last_error);
        g_last_error = NULL;
    }
    if (same_text(path, text, len)) {
        free(text);
        pthread_mutex_unlock(&g_reload_mu);
        return;
    }
    scenario *s = scenario_parse(path, text, len);
    if (s) {
        char marker[sizeof(s->marker)];
        memcpy(marker, s->marker, sizeof(marker));
        publish(s);
        write_applied(path, marker);
        free(g_last_text);
        free(g_last_path);
        g_last_text = text;
        g_last_len = len;
        g_last_path = path ? strdup(path) : NULL;
        text = NULL;
    }
    free(text);
    pthread_mutex_unlock(&g_reload_mu);
}

void fake_ensure_loaded(void) {
    if (!__atomic_load_n(&g_loaded, __ATOMIC_ACQUIRE))
        check_reload(0);
}

/* FAKE_NVML_WATCH_MS overrides the period (1-60000 ms): benchmarks that never change the scenario after the
 * start set it long, so that the fake's polling does not stand in the agent's measurements. */
static int64_t watch_period_ms(void) {
    const char *env = getenv("FAKE_NVML_WATCH_MS");
    if (env && *env) {
        char *end;
        long long v = strtoll(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 60000)
            return v;
        fprintf(stderr, "fake-nvml: FAKE_NVML_WATCH_MS=%s is not a period of 1-60000 ms; watching every %d ms\n",
                env, WATCH_PERIOD_MS);
    }
    return WATCH_PERIOD_MS;
}

static void *watcher(void *arg) {
    (void) arg;
    int64_t period = watch_period_ms();
    for (;;) {
        fake_sleep_ms(period);
        if (fake_initialized())
            check_reload(1);
    }
    return NULL;
}

/* Detached, with every signal blocked so the JVM's handlers never run on it. The library is linked
 * with -z nodelete, so a dlclose cannot unmap the code under this thread. */
static void start_watcher(void) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&t, &attr, watcher, NULL) != 0)
        fprintf(stderr, "fake-nvml: cannot start the scenario watcher; the file is re-read only at nvmlInit\n");
    else
        pthread_setname_np(t, "fake-nvml-watch"); /* named: benchmarks tell the fake's own CPU from the agent's */
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- init and the per-call checks ------------------------------------------------------------ */

int fake_initialized(void) {
    return __atomic_load_n(&g_refcount, __ATOMIC_ACQUIRE) > 0;
}

int fake_strict(void) {
    return __atomic_load_n(&g_strict, __ATOMIC_ACQUIRE);
}

void fake_strict_abort(fake_fn fn, const char *what) {
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "fake-nvml: STRICT: %s: %s; a real libnvidia-ml would crash here\n",
                     fake_fn_names[fn], what);
    if (n > 0 && write(2, msg, (size_t) n < sizeof(msg) ? (size_t) n : sizeof(msg) - 1) < 0) {
        /* nothing more to do: we are about to abort */
    }
    abort();
}

unsigned int fake_bank(void) {
    return __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE) & 1;
}

nvmlDevice_t fake_handle(unsigned int slot) {
    return &fake_devices[fake_bank()][slot];
}

/* MIG handles of a GPU live in the bank of its current topology (fake_live[].mig_epoch); callers hold the lock. */
nvmlDevice_t fake_mig_handle(unsigned int slot, unsigned int mig) {
    return &fake_mig_devices[fake_bank()][slot][fake_live[slot].mig_epoch % FAKE_MIG_EPOCHS][mig];
}

nvmlGpuInstance_t fake_gi_handle(unsigned int slot, unsigned int gi) {
    return &fake_gpu_instances[fake_bank()][slot][fake_live[slot].mig_epoch % FAKE_MIG_EPOCHS][gi];
}

nvmlComputeInstance_t fake_ci_handle(unsigned int slot, unsigned int gi, unsigned int ci) {
    return &fake_compute_instances[fake_bank()][slot][fake_live[slot].mig_epoch % FAKE_MIG_EPOCHS][gi][ci];
}

/* The holders file stands for the open /dev/nvidia* descriptors a real process keeps while NVML is
 * initialised: a test reset script refuses while any remain, as the driver does. Caller holds g_init_mu. */
static void holder_add(const char *dir) {
    if (!dir || !*dir)
        dir = getenv("FAKE_NVML_HOLDERS");
    if (!dir || !*dir)
        return;
    mkdir(dir, 0755); /* one level; an existing directory is fine */
    snprintf(g_holder_file, sizeof(g_holder_file), "%s/%ld", dir, (long) getpid());
    int fd = open(g_holder_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "fake-nvml: cannot write the holders file %s: %s\n", g_holder_file, strerror(errno));
        g_holder_file[0] = 0;
        return;
    }
    char line[32];
    int n = snprintf(line, sizeof(line), "%ld\n", (long) getpid());
    if (write(fd, line, (size_t) n) < 0) {
        /* the file's name carries the pid; its content is a courtesy */
    }
    close(fd);
}

static void holder_remove(void) {
    if (g_holder_file[0]) {
        unlink(g_holder_file);
        g_holder_file[0] = 0;
    }
}

static void lock_state(call_ctx *c, int write) {
    if (write)
        pthread_rwlock_wrlock(&g_lock);
    else
        pthread_rwlock_rdlock(&g_lock);
    c->locked = write ? 2 : 1;
    c->s = g_state;
}

nvmlReturn_t fake_leave(call_ctx *c, nvmlReturn_t rc) {
    if (c->locked) {
        pthread_rwlock_unlock(&g_lock);
        c->locked = 0;
    }
    return rc;
}

nvmlReturn_t fake_init(fake_fn fn) {
    check_reload(0);
    pthread_mutex_lock(&g_init_mu);
    if (!g_watcher_started) {
        g_watcher_started = 1;
        start_watcher();
    }
    pthread_mutex_unlock(&g_init_mu);

    call_ctx c = {0};
    lock_state(&c, 0);
    if (!c.s)
        return fake_leave(&c, NVML_ERROR_MEMORY);
    nvmlReturn_t rc = fake_knobs(&c, fn, -1, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    unsigned int init_error = c.s->init_error;
    char holders[sizeof(c.s->holders)];
    memcpy(holders, c.s->holders, sizeof(holders));
    fake_leave(&c, NVML_SUCCESS);
    if (init_error)
        return (nvmlReturn_t) init_error;
    pthread_mutex_lock(&g_init_mu);
    if (__atomic_add_fetch(&g_refcount, 1, __ATOMIC_ACQ_REL) == 1)
        holder_add(holders);
    pthread_mutex_unlock(&g_init_mu);
    return NVML_SUCCESS;
}

nvmlReturn_t fake_shutdown(void) {
    call_ctx c;
    if (fake_enter(&c, 0) != NVML_SUCCESS)
        return NVML_SUCCESS; /* like the real library: shutdown without init is not an error */
    nvmlReturn_t rc = fake_knobs(&c, FN_nvmlShutdown, -1, 0);
    if (rc == NVML_ERROR_UNINITIALIZED)
        return NVML_SUCCESS; /* another thread's shutdown won while this one slept in latency_ms */
    if (rc != NVML_SUCCESS)
        return rc;
    fake_leave(&c, NVML_SUCCESS);
    pthread_mutex_lock(&g_init_mu);
    if (g_refcount > 0 && __atomic_sub_fetch(&g_refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        /* Handles die with the last shutdown, as on the real driver. */
        if (fake_strict() && fake_events_waiting() > 0)
            fake_strict_abort(FN_nvmlShutdown, "the last nvmlShutdown while a thread waits in nvmlEventSetWait_v2");
        fake_events_shutdown();
        fake_gpm_shutdown();
        __atomic_add_fetch(&g_generation, 1, __ATOMIC_ACQ_REL);
        holder_remove();
    }
    pthread_mutex_unlock(&g_init_mu);
    return NVML_SUCCESS;
}

nvmlReturn_t fake_enter(call_ctx *c, int write) {
    c->s = NULL;
    c->g = NULL;
    c->live = NULL;
    c->slot = 0;
    c->mig = -1;
    c->locked = 0;
    if (!fake_initialized())
        return NVML_ERROR_UNINITIALIZED;
    lock_state(c, write);
    if (!c->s)
        return fake_leave(c, NVML_ERROR_MEMORY);
    return NVML_SUCCESS;
}

nvmlReturn_t fake_enter_uninitialized(call_ctx *c) {
    fake_ensure_loaded();
    c->g = NULL;
    c->live = NULL;
    c->slot = 0;
    c->mig = -1;
    lock_state(c, 0);
    if (!c->s)
        return fake_leave(c, NVML_ERROR_MEMORY);
    return NVML_SUCCESS;
}

nvmlReturn_t fake_knobs(call_ctx *c, fake_fn fn, int slot, int check_lost) {
    const fn_knobs *gk = slot >= 0 ? &c->s->gpu[slot].fn : NULL;
    int64_t latency = gk && gk->latency_ms[fn] >= 0 ? gk->latency_ms[fn] : c->s->fn.latency_ms[fn];
    if (latency > 0) {
        /* Sleep unlocked: a hung call on one GPU must not hold up other GPUs, threads or reloads. */
        int write = c->locked == 2;
        fake_leave(c, NVML_SUCCESS);
        fake_sleep_ms(latency);
        lock_state(c, write);
        if (!c->s)
            return fake_leave(c, NVML_ERROR_MEMORY);
        if (fn != FN_nvmlInit_v2 && fn != FN_nvmlInitWithFlags && fn != FN_nvmlSystemGetNVMLVersion &&
            !fake_initialized()) {
            if (fake_strict() && fn != FN_nvmlShutdown)
                fake_strict_abort(fn, "the last nvmlShutdown ran while this call was in flight");
            return fake_leave(c, NVML_ERROR_UNINITIALIZED);
        }
        gk = slot >= 0 ? &c->s->gpu[slot].fn : NULL;
    }
    if (slot >= 0) {
        c->slot = (unsigned int) slot;
        c->g = &c->s->gpu[slot];
        c->live = &fake_live[slot];
        if (check_lost && (!fake_slot_present(c->s, (unsigned int) slot) || c->g->lost))
            return fake_leave(c, NVML_ERROR_GPU_IS_LOST);
    }
    int64_t error = gk && gk->error[fn] >= 0 ? gk->error[fn] : c->s->fn.error[fn];
    if (error > 0)
        return fake_leave(c, (nvmlReturn_t) error);
    int unsupported = gk && gk->unsupported[fn] >= 0 ? gk->unsupported[fn] : c->s->fn.unsupported[fn];
    if (unsupported == 1)
        return fake_leave(c, NVML_ERROR_NOT_SUPPORTED);
    return NVML_SUCCESS;
}

nvmlReturn_t fake_enter_device(call_ctx *c, fake_fn fn, nvmlDevice_t dev, int write) {
    nvmlReturn_t rc = fake_enter(c, write);
    if (rc == NVML_ERROR_UNINITIALIZED && fake_strict())
        fake_strict_abort(fn, "a device handle used after the last nvmlShutdown");
    if (rc != NVML_SUCCESS)
        return rc;
    int mig;
    int slot = fake_device_of(c->s, fn, dev, &mig);
    if (slot < 0)
        return fake_leave(c, NVML_ERROR_INVALID_ARGUMENT);
    rc = fake_knobs(c, fn, slot, 1);
    if (rc != NVML_SUCCESS)
        return rc;
    c->mig = -1;
    if (mig >= 0) {
        /* A latency_ms sleep released the lock: a reload may have destroyed the instance meanwhile. */
        if (fake_device_of(c->s, fn, dev, &mig) < 0)
            return fake_leave(c, NVML_ERROR_INVALID_ARGUMENT);
        c->mig = mig;
        if (!fake_fn_serves_mig(fn))
            return fake_leave(c, NVML_ERROR_NOT_SUPPORTED);
    }
    return NVML_SUCCESS;
}

/* Where a pointer lies in one of the handle tables: its index, or -1. */
static long table_index(const void *table, size_t table_size, size_t one, const void *p) {
    uintptr_t base = (uintptr_t) table, at = (uintptr_t) p;
    if (at < base || at >= base + table_size || (at - base) % one != 0)
        return -1;
    return (long) ((at - base) / one);
}

/* Handles are addresses inside fake_devices / fake_mig_devices; anything else (NULL, stale pointers from another
 * library, garbage) is rejected without being dereferenced. */
int fake_device_of(const scenario *s, fake_fn fn, nvmlDevice_t dev, int *mig) {
    unsigned int bank = fake_bank();
    long at = table_index(fake_devices, sizeof(fake_devices), sizeof(fake_devices[0][0]), dev);
    *mig = -1;
    if (at >= 0) {
        if ((unsigned long) at / FAKE_MAX_GPUS != bank && fake_strict())
            fake_strict_abort(fn, "a device handle from before the last nvmlShutdown (stale after re-init)");
        return (int) (at % FAKE_MAX_GPUS);
    }
    at = table_index(fake_mig_devices, sizeof(fake_mig_devices), sizeof(fake_mig_devices[0][0][0][0]), dev);
    if (at < 0) {
        if (dev && fake_strict()) /* the real library checks NULL, and dereferences anything else */
            fake_strict_abort(fn, "not a device handle this library handed out");
        return -1;
    }
    unsigned int index = (unsigned int) (at % FAKE_MAX_MIG), epoch = (unsigned int) (at / FAKE_MAX_MIG % FAKE_MIG_EPOCHS);
    unsigned int slot = (unsigned int) (at / FAKE_MAX_MIG / FAKE_MIG_EPOCHS % FAKE_MAX_GPUS);
    if ((unsigned long) at / FAKE_MAX_MIG / FAKE_MIG_EPOCHS / FAKE_MAX_GPUS != bank) {
        if (fake_strict())
            fake_strict_abort(fn, "a MIG device handle from before the last nvmlShutdown (stale after re-init)");
        return -1;
    }
    if (epoch != fake_live[slot].mig_epoch % FAKE_MIG_EPOCHS || index >= s->gpu[slot].n_mig) {
        if (fake_strict())
            fake_strict_abort(fn, "a MIG device handle whose compute instance was destroyed (a reload changed the GPU's "
                                  "MIG instances); ask nvmlDeviceGetMigDeviceHandleByIndex again");
        return -1;
    }
    *mig = (int) index;
    return (int) slot;
}

/* A GPU handle, for the calls that take a second device (topology, P2P): a MIG handle there is not a GPU. */
int fake_slot_of(fake_fn fn, nvmlDevice_t dev) {
    long at = table_index(fake_devices, sizeof(fake_devices), sizeof(fake_devices[0][0]), dev);
    if (at < 0) {
        if (dev && fake_strict() &&
            table_index(fake_mig_devices, sizeof(fake_mig_devices), sizeof(fake_mig_devices[0][0][0][0]), dev) < 0)
            fake_strict_abort(fn, "not a device handle this library handed out");
        return -1;
    }
    if ((unsigned long) at / FAKE_MAX_GPUS != fake_bank() && fake_strict())
        fake_strict_abort(fn, "a device handle from before the last nvmlShutdown (stale after re-init)");
    return (int) (at % FAKE_MAX_GPUS);
}

/* GPU and compute instance handles: same rules as MIG device handles. *epoch_slot gets the GPU. */
static int instance_of(const scenario *s, fake_fn fn, long at, unsigned int per_epoch, unsigned int *pos,
                       const char *kind) {
    unsigned int within = (unsigned int) (at % per_epoch), epoch = (unsigned int) (at / per_epoch % FAKE_MIG_EPOCHS);
    unsigned int slot = (unsigned int) (at / per_epoch / FAKE_MIG_EPOCHS % FAKE_MAX_GPUS);
    char what[200];
    if ((unsigned long) at / per_epoch / FAKE_MIG_EPOCHS / FAKE_MAX_GPUS != fake_bank()) {
        snprintf(what, sizeof(what), "a %s handle from before the last nvmlShutdown (stale after re-init)", kind);
        if (fake_strict())
            fake_strict_abort(fn, what);
        return -1;
    }
    const gpu_cfg *g = &s->gpu[slot];
    unsigned int gi = per_epoch == FAKE_MAX_GI ? within : within / FAKE_MAX_CI, ci = within % FAKE_MAX_CI;
    int live = epoch == fake_live[slot].mig_epoch % FAKE_MIG_EPOCHS && gi < g->n_gi &&
               (per_epoch == FAKE_MAX_GI || ci < g->gi[gi].n_ci);
    if (!live) {
        snprintf(what, sizeof(what), "a %s handle of an instance that was destroyed (a reload changed the GPU's MIG "
                                     "instances)", kind);
        if (fake_strict())
            fake_strict_abort(fn, what);
        return -1;
    }
    *pos = within;
    return (int) slot;
}

static nvmlReturn_t enter_instance(call_ctx *c, fake_fn fn, const void *handle, int compute, unsigned int *pos) {
    const char *kind = compute ? "compute instance" : "GPU instance";
    nvmlReturn_t rc = fake_enter(c, 0);
    if (rc == NVML_ERROR_UNINITIALIZED && fake_strict()) {
        char what[120];
        snprintf(what, sizeof(what), "a %s handle used after the last nvmlShutdown", kind);
        fake_strict_abort(fn, what);
    }
    if (rc != NVML_SUCCESS)
        return rc;
    unsigned int per_epoch = compute ? FAKE_MAX_GI * FAKE_MAX_CI : FAKE_MAX_GI;
    long at = compute ? table_index(fake_compute_instances, sizeof(fake_compute_instances),
                                    sizeof(fake_compute_instances[0][0][0][0][0]), handle)
                      : table_index(fake_gpu_instances, sizeof(fake_gpu_instances),
                                    sizeof(fake_gpu_instances[0][0][0][0]), handle);
    if (at < 0) {
        if (handle && fake_strict()) {
            char what[120];
            snprintf(what, sizeof(what), "not a %s handle this library handed out", kind);
            fake_strict_abort(fn, what);
        }
        return fake_leave(c, NVML_ERROR_INVALID_ARGUMENT);
    }
    int slot = instance_of(c->s, fn, at, per_epoch, pos, kind);
    if (slot < 0)
        return fake_leave(c, NVML_ERROR_INVALID_ARGUMENT);
    rc = fake_knobs(c, fn, slot, 1);
    if (rc != NVML_SUCCESS)
        return rc;
    c->mig = -1;
    if (instance_of(c->s, fn, at, per_epoch, pos, kind) < 0) /* after a latency_ms sleep */
        return fake_leave(c, NVML_ERROR_INVALID_ARGUMENT);
    return NVML_SUCCESS;
}

nvmlReturn_t fake_enter_gpu_instance(call_ctx *c, fake_fn fn, nvmlGpuInstance_t handle, unsigned int *gi) {
    return enter_instance(c, fn, handle, 0, gi);
}

nvmlReturn_t fake_enter_compute_instance(call_ctx *c, fake_fn fn, nvmlComputeInstance_t handle, unsigned int *gi,
                                         unsigned int *ci) {
    unsigned int pos;
    nvmlReturn_t rc = enter_instance(c, fn, handle, 1, &pos);
    if (rc == NVML_SUCCESS) {
        *gi = pos / FAKE_MAX_CI;
        *ci = pos % FAKE_MAX_CI;
    }
    return rc;
}

/* The device calls that answer for a MIG device handle, as NVML documents them for one (name, UUID, memory,
 * processes, MIG identity, attributes, GPM); the fake answers NOT_SUPPORTED for any other, so nothing relies on
 * a GPU-wide reading through a MIG handle. */
int fake_fn_serves_mig(fake_fn fn) {
    switch (fn) {
    case FN_nvmlDeviceGetName:
    case FN_nvmlDeviceGetUUID:
    case FN_nvmlDeviceGetIndex:
    case FN_nvmlDeviceGetMemoryInfo_v2:
    case FN_nvmlDeviceGetMemoryInfo:
    case FN_nvmlDeviceGetComputeRunningProcesses_v3:
    case FN_nvmlDeviceGetGraphicsRunningProcesses_v3:
    case FN_nvmlDeviceGetRunningProcessDetailList:
    case FN_nvmlDeviceIsMigDeviceHandle:
    case FN_nvmlDeviceGetMaxMigDeviceCount:
    case FN_nvmlDeviceGetMigDeviceHandleByIndex:
    case FN_nvmlDeviceGetDeviceHandleFromMigDeviceHandle:
    case FN_nvmlDeviceGetGpuInstanceId:
    case FN_nvmlDeviceGetComputeInstanceId:
    case FN_nvmlDeviceGetAttributes_v2:
    case FN_nvmlDeviceGetGpuInstanceProfileInfo:
    case FN_nvmlDeviceGetGpuInstanceProfileInfoV:
    case FN_nvmlDeviceGetGpuInstances:
    case FN_nvmlDeviceGetGpuInstanceById:
    case FN_nvmlGpmQueryDeviceSupport:
    case FN_nvmlGpmSampleGet:
    case FN_nvmlGpmMigSampleGet:
        return 1;
    default:
        return 0;
    }
}

int fake_slot_present(const scenario *s, unsigned int slot) {
    return slot < s->gpus && !fake_live[slot].removed;
}

unsigned int fake_visible_count(const scenario *s) {
    unsigned int n = 0;
    for (unsigned int slot = 0; slot < s->gpus; slot++)
        n += !fake_live[slot].removed;
    return n;
}

int fake_visible_slot(const scenario *s, unsigned int index) {
    for (unsigned int slot = 0; slot < s->gpus; slot++)
        if (!fake_live[slot].removed && index-- == 0)
            return (int) slot;
    return -1;
}

unsigned int fake_visible_index(const scenario *s, unsigned int slot) {
    unsigned int index = 0;
    for (unsigned int i = 0; i < slot && i < s->gpus; i++)
        index += !fake_live[i].removed;
    return index;
}

/* ---- effective values ------------------------------------------------------------------------ */

unsigned int fake_persistence(const call_ctx *c) {
    return c->live->has_persistence ? c->live->persistence : c->g->persistence_mode;
}

unsigned int fake_power_limit(const call_ctx *c) {
    return c->live->has_power_limit ? c->live->power_limit : c->g->power_limit_mw;
}

unsigned int fake_enforced_limit(const call_ctx *c) {
    return c->g->power_enforced_set ? c->g->power_enforced_limit_mw : fake_power_limit(c);
}

unsigned int fake_drain(const gpu_cfg *g, const gpu_live *l) {
    return l->has_drain ? l->drain : g->drain;
}

unsigned long long fake_ecc(const call_ctx *c, int which) {
    return c->live->ecc_cleared[which] ? 0 : c->g->ecc[which];
}

unsigned long long fake_energy_mj(const call_ctx *c) {
    uint64_t now = fake_now_ns();
    double dt = now > c->live->energy_t0_ns ? (double) (now - c->live->energy_t0_ns) / 1e9 : 0.0;
    return (unsigned long long) (c->live->energy_mj + (double) c->g->power_mw * dt);
}

/* ---- helpers for the API files ------------------------------------------------------------------ */

nvmlReturn_t fake_copy_string(char *dst, unsigned int length, const char *src) {
    if (!dst)
        return NVML_ERROR_INVALID_ARGUMENT;
    size_t n = strlen(src);
    if ((size_t) length < n + 1)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(dst, src, n + 1);
    return NVML_SUCCESS;
}

void fake_fill_pci(nvmlPciInfo_t *pci, const pci_addr *a, unsigned int device_id, unsigned int subsystem_id) {
    memset(pci, 0, sizeof(*pci));
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "%04X:%02X:%02X.0", a->domain, a->bus, a->device);
    fake_format_pci(a, pci->busId, sizeof(pci->busId));
    pci->domain = a->domain;
    pci->bus = a->bus;
    pci->device = a->device;
    pci->pciDeviceId = device_id;
    pci->pciSubSystemId = subsystem_id;
}

/* The prologue of a call on no GPU (event sets, GPM samples): init state and the global knobs. */
nvmlReturn_t fake_global_checks(fake_fn fn) {
    call_ctx c;
    nvmlReturn_t rc = fake_enter(&c, 0);
    if (rc == NVML_ERROR_UNINITIALIZED && fake_strict() && fn != FN_nvmlEventSetCreate && fn != FN_nvmlGpmSampleAlloc)
        fake_strict_abort(fn, "an event set or GPM sample used after the last nvmlShutdown freed it");
    if (rc != NVML_SUCCESS)
        return rc;
    rc = fake_knobs(&c, fn, -1, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    return fake_leave(&c, NVML_SUCCESS);
}
