/*
 * The fake libdcgm.so.4: NVIDIA DCGM's C API (dcgm_agent.h, vendored in include/) over the fake NVML's scenario
 * file. Every exported function is defined with the prototype NVIDIA's header declares, so the compiler checks
 * each one against it. The GPUs (count, UUIDs, names, PCI ids, MIG instances) come from the same parser the fake
 * NVML uses (../scenario.c, ../mig.c, compiled in here with hidden visibility), so both backends see the same
 * machine; `dcgm.*` lines, which the fake NVML skips, script what only DCGM has (native-bindings/README.md, "The
 * fake DCGM").
 *
 * One mutex guards all state. The file is re-read (content compared) at every call and every 10 ms by the
 * policy thread, which delivers `dcgm.policy.<n>` violations to registered callbacks from its own native thread,
 * without the lock held (as DCGM's own thread does), so a callback may race an unregister.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dcgm_agent.h"
#include "dcgm_errors.h"
#include "fake_internal.h"

/* Every exported function, so dcgm.error.<fn> and dcgm.latency_ms.<fn> can name them. */
#define DCGM_FUNCTIONS(X)                                                                                             \
    X(dcgmInit) X(dcgmShutdown) X(dcgmStartEmbedded_v2) X(dcgmStopEmbedded) X(dcgmConnect_v2) X(dcgmConnect_v3)     \
    X(dcgmDisconnect) X(dcgmVersionInfo) X(dcgmGetAllSupportedDevices) X(dcgmGetDeviceAttributes)                   \
    X(dcgmGetGpuInstanceHierarchy) X(dcgmGroupCreate) X(dcgmGroupDestroy) X(dcgmGroupAddEntity)                     \
    X(dcgmFieldGroupCreate) X(dcgmFieldGroupDestroy) X(dcgmWatchFields) X(dcgmUnwatchFields)                        \
    X(dcgmEntitiesGetLatestValues) X(dcgmHealthSet_v2) X(dcgmHealthCheck) X(dcgmPolicySet) X(dcgmPolicyRegister_v2) \
    X(dcgmPolicyUnregister) X(dcgmRunDiagnostic) X(dcgmActionValidate_v2) X(dcgmStopDiagnostic)

#define DF_ENUM(n) DF_##n,
typedef enum { DCGM_FUNCTIONS(DF_ENUM) DF_COUNT } dfn;
#undef DF_ENUM
#define DF_NAME(n) #n,
static const char *const dfn_names[DF_COUNT] = {DCGM_FUNCTIONS(DF_NAME)};
#undef DF_NAME

#define MAX_HANDLES 16
#define MAX_GROUPS 64
#define MAX_GROUP_ENTITIES 256
#define MAX_FIELD_GROUPS 64
#define MAX_FG_FIELDS 128
#define MAX_WATCHES 128
#define MAX_VALUES 1024
#define MAX_INCIDENTS 256
#define MAX_VIOLATIONS 256
#define MAX_REGS 64
#define MAX_DIAG 256
#define GI_ENTITY(gpu, pos) ((gpu) * DCGM_MAX_INSTANCES_PER_GPU + (pos))

typedef struct {
    unsigned int gpu; /* scenario slot */
    int gi;           /* GPU instance id, -1: the GPU itself */
    unsigned short field;
    char type; /* DCGM_FT_INT64 / DCGM_FT_DOUBLE / DCGM_FT_STRING */
    int64_t i64;
    double dbl;
    char str[96];
    int status; /* dcgm.gpu.<i>.field_status.<id>: that field answers this status */
} dvalue;

typedef struct {
    unsigned int gpu, system, health, code;
    char msg[256];
} dincident;

typedef struct {
    unsigned long long n;
    unsigned int gpu, condition, count;
    unsigned long long value;
} dviolation;

typedef struct {
    char test[32];
    int gpu; /* -1: every GPU */
    unsigned int result, code;
    char msg[200];
} ddiag;

typedef struct {
    char version[32];
    unsigned int major, minor;
    int init_error, start_error, connect_error, hostengine_gone;
    int64_t error[DF_COUNT], latency_ms[DF_COUNT];
    unsigned int n_values;
    dvalue values[MAX_VALUES];
    unsigned int n_incidents;
    dincident incidents[MAX_INCIDENTS];
    unsigned int n_violations;
    dviolation violations[MAX_VIOLATIONS];
    unsigned int n_diag;
    ddiag diag[MAX_DIAG];
    unsigned int diag_running_s;
} dscenario;

typedef struct {
    int live;
    uintptr_t id;
    int remote;
} dhandle;

typedef struct {
    int live;
    uintptr_t id;
    uintptr_t handle;
    unsigned int n;
    dcgmGroupEntityPair_t e[MAX_GROUP_ENTITIES];
    unsigned int health_systems;
    unsigned int policy_conditions;
    dcgmPolicyConditionParams_t policy_parms[DCGM_POLICY_COND_MAX];
} dgroup;

typedef struct {
    int live;
    uintptr_t id;
    unsigned int n;
    unsigned short f[MAX_FG_FIELDS];
} dfgroup;

typedef struct {
    int live;
    uintptr_t group, fgroup;
} dwatch;

typedef struct {
    int live;
    uintptr_t handle, group;
    unsigned int condition;
    fpRecvUpdates cb;
    uint64_t user;
} dreg;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t diag_cv = PTHREAD_COND_INITIALIZER;
static int initialized;
static unsigned int generation; /* bumped at every dcgmInit: handles carry it */
static uintptr_t next_group_id = 1, next_fgroup_id = 1;
static dhandle handles[MAX_HANDLES];
static dgroup groups[MAX_GROUPS];
static dfgroup fgroups[MAX_FIELD_GROUPS];
static dwatch watches[MAX_WATCHES];
static dreg regs[MAX_REGS];
static scenario *nv;          /* the fake NVML's view of the file */
static dscenario *dc;         /* the dcgm.* lines */
static char *file_text;       /* content last applied */
static size_t file_len;
static int strict_env;
static unsigned long long *fired;
static size_t n_fired, cap_fired;
static pthread_t policy_thread;
static int policy_thread_running, policy_thread_stop;
static int diag_running, diag_stop;

/* ---------------------------------------------------------------------------------------------------------- */
/* Strict mode                                                                                                */

static int strict(void) {
    return strict_env || (nv && nv->strict);
}

__attribute__((noreturn)) static void strict_abort(dfn fn, const char *fmt, ...) {
    char what[400], msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    int n = snprintf(msg, sizeof(msg), "fake-dcgm: STRICT: %s: %s; a real libdcgm would crash or misbehave here\n",
                     dfn_names[fn], what);
    if (n > 0 && write(2, msg, (size_t) n < sizeof(msg) ? (size_t) n : sizeof(msg) - 1) < 0) {
        /* about to abort */
    }
    abort();
}

/* ---------------------------------------------------------------------------------------------------------- */
/* The scenario's dcgm.* lines                                                                                */

static const char *const system_names[] = {"pcie", "nvlink", "pmu",   "mcu",    "mem",          "sm",
                                           "inforom", "thermal", "power", "driver", "nvswitch_nonfatal",
                                           "nvswitch_fatal", "connectx"};
static const char *const condition_names[] = {"dbe", "pci", "max_pages_retired", "thermal", "power", "nvlink", "xid"};
static const char *const result_names[] = {"pass", "skip", "warn", "fail", "not_run"};

static void bad(const char *path, unsigned int line, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fake-dcgm: %s:%u: %s\n", path, line, msg);
}

static int parse_ll(const char *t, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 0);
    if (errno || end == t || *end)
        return -1;
    *out = v;
    return 0;
}

static int find_dfn(const char *name) {
    for (int i = 0; i < DF_COUNT; i++)
        if (strcmp(dfn_names[i], name) == 0)
            return i;
    return -1;
}

/* The profiling ratios are doubles whatever the text looks like; other numbers by their text. */
static char field_type(unsigned int id, const char *val, long long *i, double *d) {
    int ratio = (id >= 1001 && id <= 1008) || (id >= 1013 && id <= 1039);
    char *end;
    if (!ratio && parse_ll(val, i) == 0)
        return DCGM_FT_INT64;
    errno = 0;
    *d = strtod(val, &end);
    if (!errno && end != val && !*end)
        return DCGM_FT_DOUBLE;
    return ratio ? 0 : DCGM_FT_STRING;
}

static int set_value(dscenario *s, unsigned int gpu, int gi, unsigned int id, const char *val, int status) {
    dvalue *v = NULL;
    for (unsigned int i = 0; i < s->n_values; i++)
        if (s->values[i].gpu == gpu && s->values[i].gi == gi && s->values[i].field == id)
            v = &s->values[i];
    if (!v) {
        if (s->n_values == MAX_VALUES)
            return -1;
        v = &s->values[s->n_values++];
        memset(v, 0, sizeof(*v));
        v->gpu = gpu;
        v->gi = gi;
        v->field = (unsigned short) id;
        v->type = 0; /* no value yet: NO_DATA */
    }
    if (status) {
        v->status = status;
        return 0;
    }
    long long i = 0;
    double d = 0;
    char t = field_type(id, val, &i, &d);
    if (!t)
        return -2;
    v->type = t;
    v->i64 = i;
    v->dbl = d;
    snprintf(v->str, sizeof(v->str), "%s", val);
    return 0;
}

/* dcgm.gpu.<i|*>.<rest>: one GPU's key. */
static void gpu_key(dscenario *s, unsigned int gpus, unsigned int gpu, const char *rest, const char *val,
                    const char *path, unsigned int line) {
    unsigned int id;
    int n = 0;
    if (sscanf(rest, "field.%u%n", &id, &n) == 1 && !rest[n]) {
        int rc = set_value(s, gpu, -1, id, val, 0);
        if (rc)
            bad(path, line, rc == -1 ? "too many dcgm field values" : "field %u is a ratio: expected a number", id);
        return;
    }
    int code;
    if (sscanf(rest, "field_status.%u%n", &id, &n) == 1 && !rest[n]) {
        long long c;
        if (parse_ll(val, &c) || c == 0)
            bad(path, line, "expected a nonzero dcgmReturn_t");
        else
            set_value(s, gpu, -1, id, val, (int) c);
        return;
    }
    int gi;
    if (sscanf(rest, "mig.%d.field.%u%n", &gi, &id, &n) == 2 && !rest[n]) {
        const fake_gi *g = nv ? fake_mig_gi_by_id(&nv->gpu[gpu], (unsigned int) gi) : NULL;
        if (!g)
            bad(path, line, "GPU %u has no GPU instance %d", gpu, gi);
        else if (set_value(s, gpu, gi, id, val, 0))
            bad(path, line, "bad dcgm field value");
        return;
    }
    unsigned long long hn;
    if (sscanf(rest, "health.%llu%n", &hn, &n) == 1 && !rest[n]) {
        char sys[32], res[16];
        int off = 0;
        if (sscanf(val, "%31s %15s %d %n", sys, res, &code, &off) < 3) {
            bad(path, line, "expected '<system> <warn|fail> <DCGM_FR code> [message]'");
            return;
        }
        unsigned int bit = 0;
        for (unsigned int k = 0; k < sizeof(system_names) / sizeof(*system_names); k++)
            if (strcmp(sys, system_names[k]) == 0)
                bit = 1u << k;
        unsigned int health = strcmp(res, "warn") == 0 ? DCGM_HEALTH_RESULT_WARN
                              : strcmp(res, "fail") == 0 ? DCGM_HEALTH_RESULT_FAIL : 0;
        if (!bit || !health || code < 0 || s->n_incidents == MAX_INCIDENTS) {
            bad(path, line, "expected a system (pcie, nvlink, pmu, mcu, mem, sm, inforom, thermal, power, driver, ...),"
                            " warn or fail, a DCGM_FR code");
            return;
        }
        dincident *x = &s->incidents[s->n_incidents++];
        x->gpu = gpu;
        x->system = bit;
        x->health = health;
        x->code = (unsigned int) code;
        snprintf(x->msg, sizeof(x->msg), "%s", off ? val + off : "");
        return;
    }
    (void) gpus;
    bad(path, line, "unknown dcgm GPU key '%s'", rest);
}

static void dcgm_key(dscenario *s, const char *key, const char *val, const char *path, unsigned int line) {
    unsigned int gpus = nv ? nv->gpus : 0;
    long long v;
    int n = 0;
    if (strcmp(key, "version") == 0) {
        unsigned int ma, mi;
        if (sscanf(val, "%u.%u", &ma, &mi) != 2 || strlen(val) >= sizeof(s->version))
            bad(path, line, "expected a DCGM version, e.g. 4.0.0 or 4.6.0");
        else {
            snprintf(s->version, sizeof(s->version), "%s", val);
            s->major = ma;
            s->minor = mi;
        }
        return;
    }
    struct {
        const char *k;
        int *p;
    } ints[] = {{"init_error", &s->init_error},
                {"start_error", &s->start_error},
                {"connect_error", &s->connect_error},
                {"hostengine_gone", &s->hostengine_gone}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++) {
        if (strcmp(key, ints[i].k) == 0) {
            if (parse_ll(val, &v))
                bad(path, line, "expected a number");
            else
                *ints[i].p = (int) v;
            return;
        }
    }
    if (strncmp(key, "error.", 6) == 0 || strncmp(key, "latency_ms.", 11) == 0) {
        int lat = key[0] == 'l';
        int f = find_dfn(key + (lat ? 11 : 6));
        if (f < 0)
            bad(path, line, "'%s' is not a function the fake DCGM exports", key + (lat ? 11 : 6));
        else if (parse_ll(val, &v) || (lat && (v < 0 || v > 3600000)))
            bad(path, line, "expected a number");
        else
            (lat ? s->latency_ms : s->error)[f] = v;
        return;
    }
    if (strncmp(key, "gpu.", 4) == 0) {
        const char *rest = key + 4;
        if (rest[0] == '*' && rest[1] == '.') {
            for (unsigned int g = 0; g < gpus; g++)
                gpu_key(s, gpus, g, rest + 2, val, path, line);
            return;
        }
        unsigned int g;
        if (sscanf(rest, "%u.%n", &g, &n) == 1 && n > 0) {
            if (g >= gpus)
                bad(path, line, "GPU index %u out of range (gpus = %u)", g, gpus);
            else
                gpu_key(s, gpus, g, rest + n, val, path, line);
            return;
        }
        bad(path, line, "expected dcgm.gpu.<index>.<key> or dcgm.gpu.*.<key>");
        return;
    }
    unsigned long long pn;
    if (sscanf(key, "policy.%llu%n", &pn, &n) == 1 && !key[n]) {
        unsigned int g, count = 1;
        char cond[32];
        unsigned long long value = 0;
        int off = 0;
        int got = sscanf(val, "%u %31s %n", &g, cond, &off);
        unsigned int bit = 0;
        for (unsigned int k = 0; got == 2 && k < sizeof(condition_names) / sizeof(*condition_names); k++)
            if (strcmp(cond, condition_names[k]) == 0)
                bit = 1u << k;
        if (got == 2 && val[off]) {
            int m = 0;
            if (sscanf(val + off, "%llu %n", &value, &m) == 1 && val[off + m] == 'x')
                sscanf(val + off + m + 1, "%u", &count);
        }
        if (got != 2 || !bit || g >= gpus || count == 0 || count > 100000 || s->n_violations == MAX_VIOLATIONS) {
            bad(path, line, "expected '<gpu> <dbe|pci|max_pages_retired|thermal|power|nvlink|xid> [value] [x<count>]'");
            return;
        }
        dviolation *x = &s->violations[s->n_violations++];
        x->n = pn;
        x->gpu = g;
        x->condition = bit;
        x->value = value;
        x->count = count;
        return;
    }
    if (strcmp(key, "diag.running_s") == 0) {
        if (parse_ll(val, &v) || v < 0 || v > 3600)
            bad(path, line, "expected seconds (0..3600)");
        else
            s->diag_running_s = (unsigned int) v;
        return;
    }
    char test[32], which[8];
    if (sscanf(key, "diag.%31[a-z_0-9].gpu.%7s", test, which) == 2) {
        char res[16];
        int off = 0;
        unsigned int code = 0;
        int result = -1;
        if (sscanf(val, "%15s %n", res, &off) == 1)
            for (int k = 0; k < 5; k++)
                if (strcmp(res, result_names[k]) == 0)
                    result = k;
        int m = 0;
        if (result >= 0 && val[off] && sscanf(val + off, "%u %n", &code, &m) == 1)
            off += m;
        long long gi = -1;
        if (strcmp(which, "*") != 0 && (parse_ll(which, &gi) || gi < 0 || gi >= gpus)) {
            bad(path, line, "GPU index out of range (gpus = %u)", gpus);
            return;
        }
        if (result < 0 || s->n_diag == MAX_DIAG) {
            bad(path, line, "expected 'pass|skip|warn|fail|not_run [DCGM_FR code] [message]'");
            return;
        }
        ddiag *x = &s->diag[s->n_diag++];
        snprintf(x->test, sizeof(x->test), "%s", test);
        x->gpu = (int) gi;
        x->result = (unsigned int) result;
        x->code = code;
        snprintf(x->msg, sizeof(x->msg), "%s", val + off);
        return;
    }
    bad(path, line, "unknown key 'dcgm.%s'", key);
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

static dscenario *dcgm_parse(const char *path, const char *text, size_t len) {
    dscenario *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
#ifdef FAKE_DCGM_40
    snprintf(s->version, sizeof(s->version), "4.0.0");
    s->minor = 0;
#else
    snprintf(s->version, sizeof(s->version), "4.6.0");
    s->minor = 6;
#endif
    s->major = 4;
    char *copy = malloc(len + 1);
    if (!copy)
        return s;
    memcpy(copy, text, len);
    copy[len] = 0;
    unsigned int number = 0;
    for (char *p = copy; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        number++;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = 0;
        char *eq = strchr(p, '=');
        if (eq) {
            *eq = 0;
            char *key = trim(p), *val = trim(eq + 1);
            if (strncmp(key, "dcgm.", 5) == 0)
                dcgm_key(s, key + 5, val, path, number);
        }
        p = nl ? nl + 1 : NULL;
    }
    free(copy);
    return s;
}

/* Re-reads the scenario when its content changed. Caller holds mu. */
static void refresh(void) {
    const char *path = getenv("FAKE_NVML_SCENARIO");
    char *text = NULL;
    size_t len = 0;
    if (path && *path) {
        FILE *f = fopen(path, "r");
        struct stat st;
        if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
            size_t cap = (size_t) st.st_size + 1;
            text = malloc(cap);
            if (text)
                len = fread(text, 1, cap - 1, f);
        }
        if (f)
            fclose(f);
    }
    if (nv && dc && len == file_len && (len == 0 || (file_text && memcmp(text, file_text, len) == 0))) {
        free(text);
        return;
    }
    fake_scenario_quiet = 1;
    scenario *s = scenario_parse(path, text, len);
    if (!s) {
        free(text);
        return;
    }
    scenario *old = nv;
    nv = s;
    dscenario *d = dcgm_parse(path ? path : "(defaults)", text ? text : "", len);
    if (d) {
        free(dc);
        dc = d;
    }
    if (old)
        scenario_free(old);
    free(file_text);
    file_text = text;
    file_len = len;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Per-call checks                                                                                            */

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int64_t ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* Takes the lock, reloads, applies dcgm.latency_ms.<fn> (slept unlocked) and dcgm.error.<fn>. */
static dcgmReturn_t enter(dfn fn) {
    pthread_mutex_lock(&mu);
    refresh();
    int64_t lat = dc ? dc->latency_ms[fn] : 0;
    if (lat > 0) {
        pthread_mutex_unlock(&mu);
        sleep_ms(lat);
        pthread_mutex_lock(&mu);
        refresh();
    }
    if (dc && dc->error[fn]) {
        dcgmReturn_t rc = (dcgmReturn_t) dc->error[fn];
        pthread_mutex_unlock(&mu);
        return rc;
    }
    return DCGM_ST_OK;
}

static dcgmReturn_t leave(dcgmReturn_t rc) {
    pthread_mutex_unlock(&mu);
    return rc;
}

static uintptr_t handle_value(unsigned int slot) {
    return ((uintptr_t) (generation & 0xffff) << 16) | 0x4400 | (slot + 1);
}

/* A live handle's slot; -1 otherwise (strict: aborts). Caller holds mu. */
static int handle_slot(dfn fn, dcgmHandle_t h) {
    for (int i = 0; i < MAX_HANDLES; i++)
        if (handles[i].live && handles[i].id == h)
            return i;
    if (strict()) {
        if (!initialized)
            strict_abort(fn, "handle 0x%lx used after dcgmShutdown", (unsigned long) h);
        strict_abort(fn, "handle 0x%lx is not live (stopped, disconnected, from before the last dcgmShutdown, or never"
                         " handed out)",
                     (unsigned long) h);
    }
    return -1;
}

/* init + live handle + host engine present: the prologue of every call that takes a handle. */
static dcgmReturn_t enter_handle(dfn fn, dcgmHandle_t h) {
    dcgmReturn_t rc = enter(fn);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!initialized) {
        if (strict())
            strict_abort(fn, "called after dcgmShutdown (or before dcgmInit)");
        return leave(DCGM_ST_UNINITIALIZED);
    }
    if (handle_slot(fn, h) < 0)
        return leave(DCGM_ST_BADPARAM);
    if (dc && dc->hostengine_gone)
        return leave(DCGM_ST_CONNECTION_NOT_VALID);
    return DCGM_ST_OK;
}

static void group_expand(dgroup *out, dcgmGpuGrp_t id);
static dgroup all_gpus; /* DCGM_GROUP_ALL_GPUS: its health and policy settings; its members are read at each use */

static dgroup *group_of(dfn fn, dcgmGpuGrp_t id) {
    if (id == DCGM_GROUP_ALL_GPUS) {
        unsigned int health = all_gpus.health_systems, conditions = all_gpus.policy_conditions;
        group_expand(&all_gpus, id);
        all_gpus.health_systems = health;
        all_gpus.policy_conditions = conditions;
        return &all_gpus;
    }
    for (int i = 0; i < MAX_GROUPS; i++)
        if (groups[i].live && groups[i].id == id)
            return &groups[i];
    if (strict() && id < next_group_id && id != 0)
        strict_abort(fn, "group %lu used after dcgmGroupDestroy (or after its host engine went away)",
                     (unsigned long) id);
    if (strict())
        strict_abort(fn, "group %lu was never created", (unsigned long) id);
    return NULL;
}

static dfgroup *fgroup_of(dfn fn, dcgmFieldGrp_t id) {
    for (int i = 0; i < MAX_FIELD_GROUPS; i++)
        if (fgroups[i].live && fgroups[i].id == id)
            return &fgroups[i];
    if (strict())
        strict_abort(fn, "field group %lu used after dcgmFieldGroupDestroy (or never created)", (unsigned long) id);
    return NULL;
}

static unsigned int gpu_count(void) {
    return nv ? (nv->gpus < DCGM_MAX_NUM_DEVICES ? nv->gpus : DCGM_MAX_NUM_DEVICES) : 0;
}

/* Whether an entity exists on this machine: a GPU, or a GPU / compute instance of a GPU in MIG mode. */
static int entity_exists(dcgm_field_entity_group_t g, dcgm_field_eid_t id) {
    if (g == DCGM_FE_GPU)
        return id < gpu_count();
    unsigned int gpu = id / DCGM_MAX_INSTANCES_PER_GPU, pos = id % DCGM_MAX_INSTANCES_PER_GPU;
    if (gpu >= gpu_count() || !nv->gpu[gpu].mig_mode)
        return 0;
    if (g == DCGM_FE_GPU_I)
        return pos < nv->gpu[gpu].n_gi;
    if (g == DCGM_FE_GPU_CI)
        return pos < nv->gpu[gpu].n_mig;
    return 0;
}

static void group_add(dgroup *g, dcgm_field_entity_group_t eg, dcgm_field_eid_t id) {
    if (g->n < MAX_GROUP_ENTITIES)
        g->e[g->n++] = (dcgmGroupEntityPair_t){eg, id};
}

static void group_expand(dgroup *out, dcgmGpuGrp_t id) {
    /* DCGM_GROUP_ALL_GPUS: every GPU, read at each use. */
    memset(out, 0, sizeof(*out));
    out->live = 1;
    out->id = id;
    for (unsigned int i = 0; i < gpu_count(); i++)
        group_add(out, DCGM_FE_GPU, i);
}

static int group_has(const dgroup *g, dcgm_field_entity_group_t eg, dcgm_field_eid_t id) {
    for (unsigned int i = 0; i < g->n; i++)
        if (g->e[i].entityGroupId == eg && g->e[i].entityId == id)
            return 1;
    return 0;
}

/* The GPU slot an entity is on. */
static unsigned int entity_gpu(dcgm_field_entity_group_t eg, dcgm_field_eid_t id) {
    return eg == DCGM_FE_GPU ? id : id / DCGM_MAX_INSTANCES_PER_GPU;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                                  */

static void *policy_main(void *arg);

static void drop_host_state(uintptr_t handle) {
    for (int i = 0; i < MAX_GROUPS; i++) {
        if (groups[i].live && (handle == 0 || groups[i].handle == handle)) {
            for (int w = 0; w < MAX_WATCHES; w++)
                if (watches[w].live && watches[w].group == groups[i].id)
                    watches[w].live = 0;
            groups[i].live = 0;
        }
    }
}

static void check_no_callbacks(dfn fn, uintptr_t handle) {
    for (int i = 0; i < MAX_REGS; i++) {
        if (regs[i].live && (handle == 0 || regs[i].handle == handle)) {
            if (strict())
                strict_abort(fn, "a policy callback is still registered on group %lu (condition 0x%x): call"
                                 " dcgmPolicyUnregister first",
                             (unsigned long) regs[i].group, regs[i].condition);
            regs[i].live = 0;
        }
    }
}

dcgmReturn_t DCGM_PUBLIC_API dcgmInit(void) {
    const char *e1 = getenv("FAKE_DCGM_STRICT"), *e2 = getenv("FAKE_NVML_STRICT");
    strict_env = (e1 && strcmp(e1, "1") == 0) || (e2 && strcmp(e2, "1") == 0);
    dcgmReturn_t rc = enter(DF_dcgmInit);
    if (rc != DCGM_ST_OK)
        return rc;
    if (dc->init_error)
        return leave((dcgmReturn_t) dc->init_error);
    if (!initialized) {
        initialized = 1;
        generation++;
        policy_thread_stop = 0;
        if (pthread_create(&policy_thread, NULL, policy_main, NULL) == 0)
            policy_thread_running = 1;
    }
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmShutdown(void) {
    dcgmReturn_t rc = enter(DF_dcgmShutdown);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!initialized)
        return leave(DCGM_ST_OK);
    if (diag_running && strict())
        strict_abort(DF_dcgmShutdown, "a diagnostic is still running");
    check_no_callbacks(DF_dcgmShutdown, 0);
    drop_host_state(0);
    memset(&all_gpus, 0, sizeof(all_gpus));
    for (int i = 0; i < MAX_FIELD_GROUPS; i++)
        fgroups[i].live = 0;
    for (int i = 0; i < MAX_HANDLES; i++)
        handles[i].live = 0;
    initialized = 0;
    int join = policy_thread_running;
    policy_thread_stop = 1;
    policy_thread_running = 0;
    pthread_mutex_unlock(&mu);
    /* After this returns no callback runs: the thread that makes them has ended. */
    if (join)
        pthread_join(policy_thread, NULL);
    return DCGM_ST_OK;
}

static dcgmReturn_t new_handle(int remote, dcgmHandle_t *out) {
    for (int i = 0; i < MAX_HANDLES; i++) {
        if (!handles[i].live) {
            handles[i].live = 1;
            handles[i].remote = remote;
            handles[i].id = handle_value((unsigned int) i);
            *out = handles[i].id;
            return DCGM_ST_OK;
        }
    }
    return DCGM_ST_MAX_LIMIT;
}

dcgmReturn_t DCGM_PUBLIC_API dcgmStartEmbedded_v2(dcgmStartEmbeddedV2Params_v1 *params) {
    dcgmReturn_t rc = enter(DF_dcgmStartEmbedded_v2);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!initialized)
        return leave(DCGM_ST_UNINITIALIZED);
    if (!params)
        return leave(DCGM_ST_BADPARAM);
    unsigned int v = params->version;
    if (v != dcgmStartEmbeddedV2Params_version1 && v != dcgmStartEmbeddedV2Params_version2
        && v != dcgmStartEmbeddedV2Params_version3)
        return leave(DCGM_ST_VER_MISMATCH);
    if (params->opMode != DCGM_OPERATION_MODE_AUTO && params->opMode != DCGM_OPERATION_MODE_MANUAL)
        return leave(DCGM_ST_BADPARAM);
    if (dc->start_error)
        return leave((dcgmReturn_t) dc->start_error);
    for (int i = 0; i < MAX_HANDLES; i++)
        if (handles[i].live && !handles[i].remote)
            return leave(DCGM_ST_IN_USE); /* one embedded host engine per process */
    return leave(new_handle(0, &params->dcgmHandle));
}

static dcgmReturn_t stop(dfn fn, dcgmHandle_t h, int remote) {
    dcgmReturn_t rc = enter(fn);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!initialized) {
        if (strict())
            strict_abort(fn, "called after dcgmShutdown");
        return leave(DCGM_ST_UNINITIALIZED);
    }
    int slot = handle_slot(fn, h);
    if (slot < 0 || handles[slot].remote != remote)
        return leave(DCGM_ST_BADPARAM);
    check_no_callbacks(fn, h);
    drop_host_state(h);
    handles[slot].live = 0;
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmStopEmbedded(dcgmHandle_t pDcgmHandle) {
    return stop(DF_dcgmStopEmbedded, pDcgmHandle, 0);
}

static dcgmReturn_t connect(dfn fn, const char *address, dcgmHandle_t *out) {
    dcgmReturn_t rc = enter(fn);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!initialized)
        return leave(DCGM_ST_UNINITIALIZED);
    if (!address || !*address || !out)
        return leave(DCGM_ST_BADPARAM);
    if (dc->connect_error)
        return leave((dcgmReturn_t) dc->connect_error);
    if (dc->hostengine_gone)
        return leave(DCGM_ST_CONNECTION_NOT_VALID);
    return leave(new_handle(1, out));
}

dcgmReturn_t DCGM_PUBLIC_API dcgmConnect_v2(const char *ipAddress, dcgmConnectV2Params_t *connectParams,
                                            dcgmHandle_t *pDcgmHandle) {
    if (!connectParams
        || (connectParams->version != dcgmConnectV2Params_version1
            && connectParams->version != dcgmConnectV2Params_version2))
        return connectParams ? DCGM_ST_VER_MISMATCH : DCGM_ST_BADPARAM;
    return connect(DF_dcgmConnect_v2, ipAddress, pDcgmHandle);
}

#ifndef FAKE_DCGM_40
/* DCGM 4.5 added it; the 4.0 build of the fake does not export it, as a 4.0 library does not. */
dcgmReturn_t DCGM_PUBLIC_API dcgmConnect_v3(const char *connectionString, dcgmConnectV3Params_t *connectParams,
                                            dcgmHandle_t *pDcgmHandle) {
    if (!connectParams || connectParams->version != dcgmConnectV3Params_version1)
        return connectParams ? DCGM_ST_VER_MISMATCH : DCGM_ST_BADPARAM;
    if (connectionString && strncmp(connectionString, "tcp://", 6) != 0
        && strncmp(connectionString, "unix://", 7) != 0)
        return DCGM_ST_BADPARAM;
    return connect(DF_dcgmConnect_v3, connectionString, pDcgmHandle);
}
#endif

dcgmReturn_t DCGM_PUBLIC_API dcgmDisconnect(dcgmHandle_t pDcgmHandle) {
    return stop(DF_dcgmDisconnect, pDcgmHandle, 1);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmVersionInfo(dcgmVersionInfo_t *pVersionInfo) {
    dcgmReturn_t rc = enter(DF_dcgmVersionInfo);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!pVersionInfo)
        return leave(DCGM_ST_BADPARAM);
    if (pVersionInfo->version != dcgmVersionInfo_version2)
        return leave(DCGM_ST_VER_MISMATCH);
    snprintf(pVersionInfo->rawBuildInfoString, sizeof(pVersionInfo->rawBuildInfoString),
             "version:%s;arch:x86_64;buildtype:Release;buildid:fake;commit:fake;branch:fake;buildplatform:fake-dcgm",
             dc->version);
    return leave(DCGM_ST_OK);
}

DCGM_PUBLIC_API const char *errorString(dcgmReturn_t result) {
    switch (result) {
    case DCGM_ST_OK: return "Success";
    case DCGM_ST_BADPARAM: return "Bad parameter passed to function";
    case DCGM_ST_NOT_CONFIGURED: return "Setting not configured";
    case DCGM_ST_NOT_SUPPORTED: return "Feature not supported";
    case DCGM_ST_INIT_ERROR: return "DCGM Library Initialization Error";
    case DCGM_ST_UNINITIALIZED: return "Uninitialized";
    case DCGM_ST_VER_MISMATCH: return "API version mismatch";
    case DCGM_ST_NO_DATA: return "No data is available";
    case DCGM_ST_NOT_WATCHED: return "Field not being updated";
    case DCGM_ST_CONNECTION_NOT_VALID: return "Host engine connection invalid/disconnected";
    case DCGM_ST_IN_USE: return "Resource in use";
    case DCGM_ST_DIAG_ALREADY_RUNNING: return "A diag instance is already running, cannot run a new diag until the current one finishes";
    case DCGM_ST_NVVS_KILLED: return "The diagnostic was killed";
    case DCGM_ST_MAX_LIMIT: return "Max limit reached for the object";
    default: return "Unknown error";
    }
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Devices                                                                                                    */

dcgmReturn_t DCGM_PUBLIC_API dcgmGetAllSupportedDevices(dcgmHandle_t pDcgmHandle,
                                                        unsigned int gpuIdList[DCGM_MAX_NUM_DEVICES], int *count) {
    dcgmReturn_t rc = enter_handle(DF_dcgmGetAllSupportedDevices, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!gpuIdList || !count)
        return leave(DCGM_ST_BADPARAM);
    unsigned int n = 0;
    for (unsigned int i = 0; i < gpu_count(); i++)
        if (!nv->gpu[i].lost)
            gpuIdList[n++] = i;
    *count = (int) n;
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmGetDeviceAttributes(dcgmHandle_t pDcgmHandle, unsigned int gpuId,
                                                     dcgmDeviceAttributes_t *pDcgmAttr) {
    dcgmReturn_t rc = enter_handle(DF_dcgmGetDeviceAttributes, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!pDcgmAttr || gpuId >= gpu_count())
        return leave(DCGM_ST_BADPARAM);
    if (pDcgmAttr->version != dcgmDeviceAttributes_version3)
        return leave(DCGM_ST_VER_MISMATCH);
    const gpu_cfg *g = &nv->gpu[gpuId];
    dcgmDeviceIdentifiers_t *id = &pDcgmAttr->identifiers;
    snprintf(id->uuid, sizeof(id->uuid), "%s", g->uuid);
    snprintf(id->deviceName, sizeof(id->deviceName), "%s", g->name);
    snprintf(id->serial, sizeof(id->serial), "%s", g->serial);
    snprintf(id->vbios, sizeof(id->vbios), "%s", g->vbios);
    snprintf(id->brandName, sizeof(id->brandName), "%s", "NVIDIA");
    snprintf(id->driverVersion, sizeof(id->driverVersion), "%s", nv->driver_version);
    fake_format_pci(&g->pci, id->pciBusId, sizeof(id->pciBusId));
    id->pciDeviceId = g->pci_device_id;
    id->pciSubSystemId = g->pci_subsystem_id;
    pDcgmAttr->memoryUsage.fbTotal = (unsigned int) g->memory_total_mib;
    pDcgmAttr->memoryUsage.fbUsed = (unsigned int) g->memory_used_mib;
    pDcgmAttr->memoryUsage.fbFree = (unsigned int) (g->memory_total_mib - g->memory_used_mib - g->memory_reserved_mib);
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmGetGpuInstanceHierarchy(dcgmHandle_t dcgmHandle, dcgmMigHierarchy_v2 *hierarchy) {
    dcgmReturn_t rc = enter_handle(DF_dcgmGetGpuInstanceHierarchy, dcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!hierarchy)
        return leave(DCGM_ST_BADPARAM);
    if (hierarchy->version != dcgmMigHierarchy_version2)
        return leave(DCGM_ST_VER_MISMATCH);
    unsigned int n = 0;
    for (unsigned int gpu = 0; gpu < gpu_count(); gpu++) {
        const gpu_cfg *g = &nv->gpu[gpu];
        if (!g->mig_mode)
            continue;
        for (unsigned int p = 0; p < g->n_gi && n < DCGM_MAX_HIERARCHY_INFO; p++) {
            const fake_gi *gi = &g->gi[p];
            dcgmMigHierarchyInfo_v2 *e = &hierarchy->entityList[n++];
            memset(e, 0, sizeof(*e));
            e->entity = (dcgmGroupEntityPair_t){DCGM_FE_GPU_I, GI_ENTITY(gpu, p)};
            e->parent = (dcgmGroupEntityPair_t){DCGM_FE_GPU, gpu};
            snprintf(e->info.gpuUuid, sizeof(e->info.gpuUuid), "%s", g->uuid);
            e->info.nvmlGpuIndex = gpu;
            e->info.nvmlInstanceId = gi->id;
            e->info.nvmlComputeInstanceId = 0xFFFFFFFFu;
            e->info.nvmlMigProfileId = gi->profile ? gi->profile->id : 0;
            e->info.nvmlProfileSlices = gi->profile ? gi->profile->slices : 0;
        }
        for (unsigned int m = 0; m < g->n_mig && n < DCGM_MAX_HIERARCHY_INFO; m++) {
            const fake_gi *gi = &g->gi[g->mig[m].gi];
            const fake_ci *ci = &gi->ci[g->mig[m].ci];
            dcgmMigHierarchyInfo_v2 *e = &hierarchy->entityList[n++];
            memset(e, 0, sizeof(*e));
            e->entity = (dcgmGroupEntityPair_t){DCGM_FE_GPU_CI, GI_ENTITY(gpu, m)};
            e->parent = (dcgmGroupEntityPair_t){DCGM_FE_GPU_I, GI_ENTITY(gpu, g->mig[m].gi)};
            snprintf(e->info.gpuUuid, sizeof(e->info.gpuUuid), "%s", g->uuid);
            e->info.nvmlGpuIndex = gpu;
            e->info.nvmlInstanceId = gi->id;
            e->info.nvmlComputeInstanceId = g->mig[m].ci;
            e->info.nvmlMigProfileId = ci->profile;
            e->info.nvmlProfileSlices = ci->slices;
        }
    }
    hierarchy->count = n;
    return leave(DCGM_ST_OK);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Groups, field groups, watches, values                                                                      */

dcgmReturn_t DCGM_PUBLIC_API dcgmGroupCreate(dcgmHandle_t pDcgmHandle, dcgmGroupType_t type, const char *groupName,
                                             dcgmGpuGrp_t *pDcgmGrpId) {
    dcgmReturn_t rc = enter_handle(DF_dcgmGroupCreate, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!groupName || !pDcgmGrpId || (type != DCGM_GROUP_DEFAULT && type != DCGM_GROUP_EMPTY))
        return leave(DCGM_ST_BADPARAM);
    for (int i = 0; i < MAX_GROUPS; i++) {
        if (!groups[i].live) {
            memset(&groups[i], 0, sizeof(groups[i]));
            groups[i].live = 1;
            groups[i].id = next_group_id++;
            groups[i].handle = pDcgmHandle;
            if (type == DCGM_GROUP_DEFAULT)
                for (unsigned int g = 0; g < gpu_count(); g++)
                    group_add(&groups[i], DCGM_FE_GPU, g);
            *pDcgmGrpId = groups[i].id;
            return leave(DCGM_ST_OK);
        }
    }
    return leave(DCGM_ST_MAX_LIMIT);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmGroupDestroy(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId) {
    dcgmReturn_t rc = enter_handle(DF_dcgmGroupDestroy, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (groupId == DCGM_GROUP_ALL_GPUS)
        return leave(DCGM_ST_BADPARAM);
    dgroup *g = group_of(DF_dcgmGroupDestroy, groupId);
    if (!g)
        return leave(DCGM_ST_NOT_CONFIGURED);
    for (int i = 0; i < MAX_REGS; i++)
        if (regs[i].live && regs[i].group == groupId) {
            if (strict())
                strict_abort(DF_dcgmGroupDestroy, "a policy callback is still registered on group %lu",
                             (unsigned long) groupId);
            regs[i].live = 0;
        }
    for (int w = 0; w < MAX_WATCHES; w++)
        if (watches[w].live && watches[w].group == groupId)
            watches[w].live = 0;
    g->live = 0;
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmGroupAddEntity(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId,
                                                dcgm_field_entity_group_t entityGroupId, dcgm_field_eid_t entityId) {
    dcgmReturn_t rc = enter_handle(DF_dcgmGroupAddEntity, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (groupId == DCGM_GROUP_ALL_GPUS)
        return leave(DCGM_ST_BADPARAM);
    dgroup *g = group_of(DF_dcgmGroupAddEntity, groupId);
    if (!g)
        return leave(DCGM_ST_NOT_CONFIGURED);
    if (!entity_exists(entityGroupId, entityId) || group_has(g, entityGroupId, entityId))
        return leave(DCGM_ST_BADPARAM);
    if (g->n == MAX_GROUP_ENTITIES)
        return leave(DCGM_ST_MAX_LIMIT);
    group_add(g, entityGroupId, entityId);
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmFieldGroupCreate(dcgmHandle_t dcgmHandle, int numFieldIds,
                                                  const unsigned short *fieldIds, const char *fieldGroupName,
                                                  dcgmFieldGrp_t *dcgmFieldGroupId) {
    dcgmReturn_t rc = enter_handle(DF_dcgmFieldGroupCreate, dcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (numFieldIds <= 0 || numFieldIds > DCGM_MAX_FIELD_IDS_PER_FIELD_GROUP || !fieldIds || !fieldGroupName
        || !dcgmFieldGroupId)
        return leave(DCGM_ST_BADPARAM);
    for (int i = 0; i < numFieldIds; i++)
        if (fieldIds[i] == 0 || fieldIds[i] >= DCGM_FI_MAX_FIELDS)
            return leave(DCGM_ST_BADPARAM);
    for (int i = 0; i < MAX_FIELD_GROUPS; i++) {
        if (!fgroups[i].live) {
            fgroups[i].live = 1;
            fgroups[i].id = next_fgroup_id++;
            fgroups[i].n = (unsigned int) numFieldIds;
            memcpy(fgroups[i].f, fieldIds, (size_t) numFieldIds * sizeof(*fieldIds));
            *dcgmFieldGroupId = fgroups[i].id;
            return leave(DCGM_ST_OK);
        }
    }
    return leave(DCGM_ST_MAX_LIMIT);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmFieldGroupDestroy(dcgmHandle_t dcgmHandle, dcgmFieldGrp_t dcgmFieldGroupId) {
    dcgmReturn_t rc = enter_handle(DF_dcgmFieldGroupDestroy, dcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    dfgroup *f = fgroup_of(DF_dcgmFieldGroupDestroy, dcgmFieldGroupId);
    if (!f)
        return leave(DCGM_ST_NO_DATA);
    for (int w = 0; w < MAX_WATCHES; w++)
        if (watches[w].live && watches[w].fgroup == dcgmFieldGroupId)
            watches[w].live = 0;
    f->live = 0;
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmWatchFields(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId,
                                             dcgmFieldGrp_t fieldGroupId, long long updateFreq, double maxKeepAge,
                                             int maxKeepSamples) {
    dcgmReturn_t rc = enter_handle(DF_dcgmWatchFields, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!group_of(DF_dcgmWatchFields, groupId) || !fgroup_of(DF_dcgmWatchFields, fieldGroupId))
        return leave(DCGM_ST_BADPARAM);
    if (updateFreq <= 0 || (maxKeepAge <= 0 && maxKeepSamples <= 0))
        return leave(DCGM_ST_BADPARAM);
    for (int w = 0; w < MAX_WATCHES; w++)
        if (watches[w].live && watches[w].group == groupId && watches[w].fgroup == fieldGroupId)
            return leave(DCGM_ST_OK);
    for (int w = 0; w < MAX_WATCHES; w++) {
        if (!watches[w].live) {
            watches[w] = (dwatch){1, groupId, fieldGroupId};
            return leave(DCGM_ST_OK);
        }
    }
    return leave(DCGM_ST_MAX_LIMIT);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmUnwatchFields(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId,
                                               dcgmFieldGrp_t fieldGroupId) {
    dcgmReturn_t rc = enter_handle(DF_dcgmUnwatchFields, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!group_of(DF_dcgmUnwatchFields, groupId) || !fgroup_of(DF_dcgmUnwatchFields, fieldGroupId))
        return leave(DCGM_ST_BADPARAM);
    for (int w = 0; w < MAX_WATCHES; w++)
        if (watches[w].live && watches[w].group == groupId && watches[w].fgroup == fieldGroupId)
            watches[w].live = 0;
    return leave(DCGM_ST_OK);
}

static int watched(dcgm_field_entity_group_t eg, dcgm_field_eid_t id, unsigned short field) {
    for (int w = 0; w < MAX_WATCHES; w++) {
        if (!watches[w].live)
            continue;
        const dgroup *g = group_of(DF_dcgmEntitiesGetLatestValues, watches[w].group);
        const dfgroup *f = NULL;
        for (int i = 0; i < MAX_FIELD_GROUPS; i++)
            if (fgroups[i].live && fgroups[i].id == watches[w].fgroup)
                f = &fgroups[i];
        if (!g || !f || !group_has(g, eg, id))
            continue;
        for (unsigned int k = 0; k < f->n; k++)
            if (f->f[k] == field)
                return 1;
    }
    return 0;
}

static const dvalue *value_of(dcgm_field_entity_group_t eg, dcgm_field_eid_t id, unsigned short field) {
    int gi = -1;
    unsigned int gpu = entity_gpu(eg, id);
    if (eg == DCGM_FE_GPU_I)
        gi = (int) nv->gpu[gpu].gi[id % DCGM_MAX_INSTANCES_PER_GPU].id;
    else if (eg != DCGM_FE_GPU)
        return NULL;
    for (unsigned int i = 0; i < dc->n_values; i++)
        if (dc->values[i].gpu == gpu && dc->values[i].gi == gi && dc->values[i].field == field)
            return &dc->values[i];
    return NULL;
}

static void blank(dcgmFieldValue_v2 *v, char type) {
    v->fieldType = (unsigned short) type;
    if (type == DCGM_FT_DOUBLE)
        v->value.dbl = DCGM_FP64_BLANK;
    else if (type == DCGM_FT_STRING)
        snprintf(v->value.str, sizeof(v->value.str), "%s", DCGM_STR_BLANK);
    else
        v->value.i64 = DCGM_INT64_BLANK;
}

dcgmReturn_t DCGM_PUBLIC_API dcgmEntitiesGetLatestValues(dcgmHandle_t pDcgmHandle, dcgmGroupEntityPair_t entities[],
                                                         unsigned int entityCount, unsigned short fields[],
                                                         unsigned int fieldCount, unsigned int flags,
                                                         dcgmFieldValue_v2 values[]) {
    (void) flags;
    dcgmReturn_t rc = enter_handle(DF_dcgmEntitiesGetLatestValues, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!entities || !fields || !values || entityCount == 0 || fieldCount == 0)
        return leave(DCGM_ST_BADPARAM);
    int64_t ts = now_us();
    unsigned int k = 0;
    for (unsigned int e = 0; e < entityCount; e++) {
        for (unsigned int f = 0; f < fieldCount; f++, k++) {
            dcgmFieldValue_v2 *v = &values[k];
            memset(v, 0, sizeof(*v));
            v->version = dcgmFieldValue_version2;
            v->entityGroupId = entities[e].entityGroupId;
            v->entityId = entities[e].entityId;
            v->fieldId = fields[f];
            int ratio = (fields[f] >= 1001 && fields[f] <= 1008) || (fields[f] >= 1013 && fields[f] <= 1039);
            blank(v, ratio ? DCGM_FT_DOUBLE : DCGM_FT_INT64);
            if (!entity_exists(entities[e].entityGroupId, entities[e].entityId)) {
                v->status = DCGM_ST_BADPARAM;
                continue;
            }
            if (!watched(entities[e].entityGroupId, entities[e].entityId, fields[f])) {
                v->status = DCGM_ST_NOT_WATCHED;
                continue;
            }
            const dvalue *d = value_of(entities[e].entityGroupId, entities[e].entityId, fields[f]);
            if (d && d->status) {
                v->status = d->status;
                continue;
            }
            if (!d || !d->type) {
                v->status = DCGM_ST_NO_DATA;
                continue;
            }
            v->status = DCGM_ST_OK;
            v->ts = ts;
            v->fieldType = (unsigned short) d->type;
            if (d->type == DCGM_FT_INT64)
                v->value.i64 = d->i64;
            else if (d->type == DCGM_FT_DOUBLE)
                v->value.dbl = d->dbl;
            else
                snprintf(v->value.str, sizeof(v->value.str), "%s", d->str);
        }
    }
    return leave(DCGM_ST_OK);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Health                                                                                                     */

dcgmReturn_t DCGM_PUBLIC_API dcgmHealthSet_v2(dcgmHandle_t pDcgmHandle, dcgmHealthSetParams_v2 *params) {
    dcgmReturn_t rc = enter_handle(DF_dcgmHealthSet_v2, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!params)
        return leave(DCGM_ST_BADPARAM);
    if (params->version != dcgmHealthSetParams_version2)
        return leave(DCGM_ST_VER_MISMATCH);
    dgroup *g = group_of(DF_dcgmHealthSet_v2, params->groupId);
    if (!g)
        return leave(DCGM_ST_BADPARAM);
    g->health_systems = (unsigned int) params->systems;
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmHealthCheck(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId,
                                             dcgmHealthResponse_t *results) {
    dcgmReturn_t rc = enter_handle(DF_dcgmHealthCheck, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!results)
        return leave(DCGM_ST_BADPARAM);
    if (results->version != dcgmHealthResponse_version5)
        return leave(DCGM_ST_VER_MISMATCH);
    dgroup *g = group_of(DF_dcgmHealthCheck, groupId);
    if (!g)
        return leave(DCGM_ST_BADPARAM);
    unsigned int n = 0, overall = DCGM_HEALTH_RESULT_PASS;
    for (unsigned int i = 0; i < dc->n_incidents && n < DCGM_HEALTH_WATCH_MAX_INCIDENTS_V2; i++) {
        const dincident *x = &dc->incidents[i];
        if (!(g->health_systems & x->system) || !group_has(g, DCGM_FE_GPU, x->gpu))
            continue;
        dcgmIncidentInfo_t *out = &results->incidents[n++];
        memset(out, 0, sizeof(*out));
        out->system = (dcgmHealthSystems_t) x->system;
        out->health = (dcgmHealthWatchResults_t) x->health;
        out->error.code = x->code;
        snprintf(out->error.msg, sizeof(out->error.msg), "%s", x->msg);
        out->entityInfo = (dcgmGroupEntityPair_t){DCGM_FE_GPU, x->gpu};
        if (x->health > overall)
            overall = x->health;
    }
    results->incidentCount = n;
    results->overallHealth = (dcgmHealthWatchResults_t) overall;
    return leave(DCGM_ST_OK);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Policies                                                                                                   */

dcgmReturn_t DCGM_PUBLIC_API dcgmPolicySet(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId, dcgmPolicy_t *policy,
                                           dcgmStatus_t statusHandle) {
    (void) statusHandle;
    dcgmReturn_t rc = enter_handle(DF_dcgmPolicySet, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!policy)
        return leave(DCGM_ST_BADPARAM);
    if (policy->version != dcgmPolicy_version1)
        return leave(DCGM_ST_VER_MISMATCH);
    dgroup *g = group_of(DF_dcgmPolicySet, groupId);
    if (!g)
        return leave(DCGM_ST_BADPARAM);
    g->policy_conditions = (unsigned int) policy->condition;
    memcpy(g->policy_parms, policy->parms, sizeof(g->policy_parms));
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmPolicyRegister_v2(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId,
                                                   dcgmPolicyCondition_t condition, fpRecvUpdates callback,
                                                   uint64_t userData) {
    dcgmReturn_t rc = enter_handle(DF_dcgmPolicyRegister_v2, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!callback || !condition)
        return leave(DCGM_ST_BADPARAM);
    if (!group_of(DF_dcgmPolicyRegister_v2, groupId))
        return leave(DCGM_ST_BADPARAM);
    for (int i = 0; i < MAX_REGS; i++) {
        if (!regs[i].live) {
            regs[i] = (dreg){1, pDcgmHandle, groupId, (unsigned int) condition, callback, userData};
            return leave(DCGM_ST_OK);
        }
    }
    return leave(DCGM_ST_MAX_LIMIT);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmPolicyUnregister(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId,
                                                  dcgmPolicyCondition_t condition) {
    dcgmReturn_t rc = enter_handle(DF_dcgmPolicyUnregister, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!group_of(DF_dcgmPolicyUnregister, groupId))
        return leave(DCGM_ST_BADPARAM);
    for (int i = 0; i < MAX_REGS; i++) {
        if (regs[i].live && regs[i].group == groupId) {
            regs[i].condition &= ~(unsigned int) condition;
            if (!regs[i].condition)
                regs[i].live = 0;
        }
    }
    return leave(DCGM_ST_OK);
}

static int was_fired(unsigned long long n) {
    for (size_t i = 0; i < n_fired; i++)
        if (fired[i] == n)
            return 1;
    return 0;
}

static void fill_violation(dcgmPolicyCallbackResponse_v2 *r, const dviolation *v, int64_t ts) {
    memset(r, 0, sizeof(*r));
    r->version = dcgmPolicyCallbackResponse_version2;
    r->condition = (dcgmPolicyCondition_t) v->condition;
    r->gpuId = v->gpu;
    switch (v->condition) {
    case DCGM_POLICY_COND_DBE:
        r->val.dbe.timestamp = ts;
        r->val.dbe.location = DEVICE;
        r->val.dbe.numerrors = (unsigned int) (v->value ? v->value : 1);
        break;
    case DCGM_POLICY_COND_PCI:
        r->val.pci.timestamp = ts;
        r->val.pci.counter = (unsigned int) v->value;
        break;
    case DCGM_POLICY_COND_MAX_PAGES_RETIRED:
        r->val.mpr.timestamp = ts;
        r->val.mpr.dbepages = (unsigned int) v->value;
        break;
    case DCGM_POLICY_COND_THERMAL:
        r->val.thermal.timestamp = ts;
        r->val.thermal.thermalViolation = (unsigned int) v->value;
        break;
    case DCGM_POLICY_COND_POWER:
        r->val.power.timestamp = ts;
        r->val.power.powerViolation = (unsigned int) v->value;
        break;
    case DCGM_POLICY_COND_NVLINK:
        r->val.nvlink.timestamp = ts;
        r->val.nvlink.counter = (unsigned int) v->value;
        break;
    default:
        r->val.xid.timestamp = ts;
        r->val.xid.errnum = (unsigned int) v->value;
        break;
    }
}

/* Fires new dcgm.policy.<n> lines: under mu, copies who gets what; then calls them with mu released. */
static void *policy_main(void *arg) {
    (void) arg;
    pthread_setname_np(pthread_self(), "fake-dcgm-policy");
    for (;;) {
        pthread_mutex_lock(&mu);
        if (policy_thread_stop) {
            pthread_mutex_unlock(&mu);
            return NULL;
        }
        refresh();
        if (dc && dc->hostengine_gone) {
            /* No host engine, no callbacks: violations fire once it is back. */
            pthread_mutex_unlock(&mu);
            sleep_ms(10);
            continue;
        }
        struct delivery {
            fpRecvUpdates cb;
            uint64_t user;
            dcgmPolicyCallbackResponse_v2 r;
            unsigned int count;
        } *out = NULL;
        size_t n_out = 0;
        for (unsigned int i = 0; dc && i < dc->n_violations; i++) {
            const dviolation *v = &dc->violations[i];
            if (was_fired(v->n))
                continue;
            if (n_fired == cap_fired) {
                size_t cap = cap_fired ? cap_fired * 2 : 64;
                unsigned long long *f = realloc(fired, cap * sizeof(*f));
                if (!f)
                    break;
                fired = f;
                cap_fired = cap;
            }
            fired[n_fired++] = v->n;
            for (int k = 0; k < MAX_REGS; k++) {
                const dreg *r = &regs[k];
                const dgroup *g = r->live ? group_of(DF_dcgmPolicyRegister_v2, r->group) : NULL;
                if (!g || !(r->condition & v->condition) || !(g->policy_conditions & v->condition)
                    || !group_has(g, DCGM_FE_GPU, v->gpu))
                    continue;
                struct delivery *o = realloc(out, (n_out + 1) * sizeof(*out));
                if (!o)
                    break;
                out = o;
                out[n_out].cb = r->cb;
                out[n_out].user = r->user;
                out[n_out].count = v->count;
                fill_violation(&out[n_out].r, v, now_us());
                n_out++;
            }
        }
        pthread_mutex_unlock(&mu);
        for (size_t i = 0; i < n_out; i++) {
            for (unsigned int c = 0; c < out[i].count; c++) {
                dcgmPolicyCallbackResponse_v2 copy = out[i].r; /* the callee may scribble on it */
                out[i].cb(&copy, out[i].user);
            }
        }
        free(out);
        sleep_ms(10);
    }
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Diagnostics                                                                                                */

/* The tests a level runs, in DCGM 4's names. */
static const char *const level_tests[] = {"software", "pcie", "memory", "diagnostic", "targeted_stress",
                                          "targeted_power", "memory_bandwidth", "memtest", "pulse_test"};
static unsigned int tests_for_level(int level) {
    switch (level) {
    case DCGM_DIAG_LVL_SHORT: return 1;
    case DCGM_DIAG_LVL_MED: return 3;
    case DCGM_DIAG_LVL_LONG: return 7;
    case DCGM_DIAG_LVL_XLONG: return 9;
    default: return 0;
    }
}

static const ddiag *diag_result(const char *test, unsigned int gpu) {
    const ddiag *any = NULL, *own = NULL;
    for (unsigned int i = 0; i < dc->n_diag; i++) {
        if (strcmp(dc->diag[i].test, test) != 0)
            continue;
        if (dc->diag[i].gpu == (int) gpu)
            own = &dc->diag[i];
        else if (dc->diag[i].gpu < 0)
            any = &dc->diag[i];
    }
    return own ? own : any;
}

/* Fills a v11 or v12 response: they differ only in the tests' type (dcgmDiagTestRun_v1 / _v2). */
#define FILL_DIAG(R, g, ntests)                                                                                      \
    do {                                                                                                             \
        unsigned int ne = 0;                                                                                         \
        for (unsigned int i = 0; i < (g)->n && ne < DCGM_DIAG_RESPONSE_ENTITIES_MAX; i++) {                          \
            if ((g)->e[i].entityGroupId != DCGM_FE_GPU)                                                              \
                continue;                                                                                            \
            (R)->entities[ne].entity = (g)->e[i];                                                                    \
            snprintf((R)->entities[ne].serialNum, sizeof((R)->entities[ne].serialNum), "%s",                         \
                     nv->gpu[(g)->e[i].entityId].serial);                                                            \
            snprintf((R)->entities[ne].skuDeviceId, sizeof((R)->entities[ne].skuDeviceId), "%04x",                   \
                     nv->gpu[(g)->e[i].entityId].pci_device_id >> 16);                                               \
            ne++;                                                                                                    \
        }                                                                                                            \
        (R)->numEntities = (unsigned short) ne;                                                                      \
        unsigned int nr = 0, nerr = 0;                                                                               \
        for (unsigned int t = 0; t < (ntests); t++) {                                                                \
            __typeof__(&(R)->tests[0]) run = &(R)->tests[t];                                                         \
            snprintf(run->name, sizeof(run->name), "%s", level_tests[t]);                                            \
            snprintf(run->pluginName, sizeof(run->pluginName), "%s", level_tests[t]);                                \
            unsigned int worst = DCGM_DIAG_RESULT_SKIP, any_pass = 0;                                                \
            for (unsigned int i = 0; i < ne; i++) {                                                                  \
                const ddiag *d = diag_result(level_tests[t], (R)->entities[i].entity.entityId);                      \
                unsigned int res = d ? d->result : DCGM_DIAG_RESULT_PASS;                                            \
                (R)->results[nr] = (dcgmDiagEntityResult_v1){(R)->entities[i].entity, (dcgmDiagResult_t) res, t};    \
                run->resultIndices[run->numResults++] = (unsigned short) nr++;                                       \
                if (res == DCGM_DIAG_RESULT_PASS)                                                                    \
                    any_pass = 1;                                                                                    \
                if ((res == DCGM_DIAG_RESULT_FAIL || res == DCGM_DIAG_RESULT_WARN) && worst != DCGM_DIAG_RESULT_FAIL)  \
                    worst = res;                                                                                     \
                if (res == DCGM_DIAG_RESULT_FAIL && nerr < DCGM_DIAG_RESPONSE_ERRORS_MAX) {                          \
                    dcgmDiagError_v1 *er = &(R)->errors[nerr];                                                       \
                    er->entity = (R)->entities[i].entity;                                                            \
                    er->code = d->code;                                                                              \
                    er->category = DCGM_FR_EC_HARDWARE_OTHER;                                                        \
                    er->severity = DCGM_ERROR_ISOLATE;                                                               \
                    er->testId = t;                                                                                  \
                    snprintf(er->msg, sizeof(er->msg), "%s", d->msg);                                                \
                    if (run->numErrors < DCGM_DIAG_TEST_RUN_ERROR_INDICES_MAX)                                       \
                        run->errorIndices[run->numErrors++] = (unsigned char) nerr;                                  \
                    nerr++;                                                                                          \
                }                                                                                                    \
            }                                                                                                        \
            run->result = (dcgmDiagResult_t) (worst != DCGM_DIAG_RESULT_SKIP ? worst                                 \
                                              : any_pass                    ? DCGM_DIAG_RESULT_PASS                  \
                                                                            : DCGM_DIAG_RESULT_SKIP);                \
        }                                                                                                            \
        (R)->numTests = (unsigned char) (ntests);                                                                    \
        (R)->numResults = (unsigned short) nr;                                                                       \
        (R)->numErrors = (unsigned char) nerr;                                                                       \
        snprintf((R)->dcgmVersion, sizeof((R)->dcgmVersion), "%.11s", dc->version);                                   \
        snprintf((R)->driverVersion, sizeof((R)->driverVersion), "%s", nv->driver_version);                          \
    } while (0)

static dcgmReturn_t run_diag(dfn fn, dcgmHandle_t h, dcgmGpuGrp_t groupId, int level, void *response) {
    dcgmReturn_t rc = enter_handle(fn, h);
    if (rc != DCGM_ST_OK)
        return rc;
    if (!response)
        return leave(DCGM_ST_BADPARAM);
    unsigned int version = *(unsigned int *) response;
    /* v12 from DCGM 4.2 on; v11 is what 4.0 and 4.1 fill (and later ones still accept). */
    int v12 = version == dcgmDiagResponse_version12 && (dc->major > 4 || dc->minor >= 2);
    if (!v12 && version != dcgmDiagResponse_version11)
        return leave(DCGM_ST_VER_MISMATCH);
    unsigned int ntests = tests_for_level(level);
    if (!ntests)
        return leave(DCGM_ST_BADPARAM);
    dgroup *g = group_of(fn, groupId);
    if (!g)
        return leave(DCGM_ST_BADPARAM);
    if (!g->n)
        return leave(DCGM_ST_GROUP_IS_EMPTY);
    if (diag_running)
        return leave(DCGM_ST_DIAG_ALREADY_RUNNING);
    dgroup snapshot = *g;
    /* Running for N seconds: dcgmStopDiagnostic ends it early with DCGM_ST_NVVS_KILLED. */
    if (dc->diag_running_s) {
        diag_running = 1;
        diag_stop = 0;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += dc->diag_running_s;
        while (!diag_stop && pthread_cond_timedwait(&diag_cv, &mu, &until) != ETIMEDOUT) {
        }
        diag_running = 0;
        if (diag_stop)
            return leave(DCGM_ST_NVVS_KILLED);
        if (!initialized)
            return leave(DCGM_ST_UNINITIALIZED);
    }
    if (v12) {
        dcgmDiagResponse_v12 *r = response;
        memset(r, 0, sizeof(*r));
        r->version = version;
        FILL_DIAG(r, &snapshot, ntests);
    } else {
        dcgmDiagResponse_v11 *r = response;
        memset(r, 0, sizeof(*r));
        r->version = version;
        FILL_DIAG(r, &snapshot, ntests);
    }
    return leave(DCGM_ST_OK);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmRunDiagnostic(dcgmHandle_t pDcgmHandle, dcgmGpuGrp_t groupId,
                                               dcgmDiagnosticLevel_t diagLevel, dcgmDiagResponse_t *diagResponse) {
    return run_diag(DF_dcgmRunDiagnostic, pDcgmHandle, groupId, diagLevel, diagResponse);
}

dcgmReturn_t DCGM_PUBLIC_API dcgmActionValidate_v2(dcgmHandle_t pDcgmHandle, dcgmRunDiag_v10 *drd,
                                                   dcgmDiagResponse_v12 *response) {
    if (!drd)
        return DCGM_ST_BADPARAM;
    if (drd->version != dcgmRunDiag_version10 && drd->version != dcgmRunDiag_version9)
        return DCGM_ST_VER_MISMATCH;
    /* dcgmRunDiag_v9 and _v10 share the head this reads (version, flags, debugLevel, groupId, validate). */
    int level = drd->validate == DCGM_POLICY_VALID_SV_SHORT ? DCGM_DIAG_LVL_SHORT
                : drd->validate == DCGM_POLICY_VALID_SV_MED  ? DCGM_DIAG_LVL_MED
                : drd->validate == DCGM_POLICY_VALID_SV_LONG ? DCGM_DIAG_LVL_LONG
                : drd->validate == DCGM_POLICY_VALID_SV_XLONG ? DCGM_DIAG_LVL_XLONG : 0;
    return run_diag(DF_dcgmActionValidate_v2, pDcgmHandle, drd->groupId, level, response);
}

#ifndef FAKE_DCGM_40
/* DCGM 4.3 added it; the 4.0 build of the fake does not export it. */
dcgmReturn_t DCGM_PUBLIC_API dcgmStopDiagnostic(dcgmHandle_t pDcgmHandle) {
    dcgmReturn_t rc = enter_handle(DF_dcgmStopDiagnostic, pDcgmHandle);
    if (rc != DCGM_ST_OK)
        return rc;
    if (diag_running) {
        diag_stop = 1;
        pthread_cond_broadcast(&diag_cv);
    }
    return leave(DCGM_ST_OK);
}
#endif
