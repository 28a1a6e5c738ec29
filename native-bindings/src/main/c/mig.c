/*
 * Fake NVML: MIG topology. The GPU instance profile tables of the products the fake knows, the scenario's
 * gpu.<i>.mig.<gi>.* keys, and the check after parsing that refuses what the driver would refuse to create
 * (native-bindings/README.md, "MIG"). Parsing never touches shared state.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_internal.h"

/* ---- profile tables -------------------------------------------------------------------------------
 * Columns: NVML_GPU_INSTANCE_PROFILE_* index, profile id, name, compute slices, instances, SMs, copy engines,
 * decoders, encoders, JPEG, OFA, memory (MiB), memory slices, allowed placement starts (bit mask).
 * Numbers from `nvidia-smi mig -lgip` / `-lgipp` captures and NVIDIA's MIG user guide; sources per product in
 * native-bindings/README.md. Memory is nvidia-smi's GiB x 1024. */
#define ANY_OF_7 0x7Fu   /* {0,1,2,3,4,5,6} */
#define EVEN_OF_8 0x55u  /* {0,2,4,6} */
#define EVEN_OF_6 0x15u  /* {0,2,4} */
#define HALVES 0x11u     /* {0,4} */
#define FIRST 0x01u      /* {0} */

static const mig_product products[] = {
    {"a100-40gb", 14, 7, {
        {0x0, 19, "1g.5gb", 1, 7, 14, 1, 0, 0, 0, 0, 4864, 1, ANY_OF_7},
        {0x7, 20, "1g.5gb+me", 1, 1, 14, 1, 1, 0, 1, 1, 4864, 1, ANY_OF_7},
        {0x9, 15, "1g.10gb", 1, 4, 14, 1, 1, 0, 0, 0, 9856, 2, EVEN_OF_8},
        {0x1, 14, "2g.10gb", 2, 3, 28, 2, 1, 0, 0, 0, 9856, 2, EVEN_OF_6},
        {0x2, 9, "3g.20gb", 3, 2, 42, 3, 2, 0, 0, 0, 19968, 4, HALVES},
        {0x3, 5, "4g.20gb", 4, 1, 56, 4, 2, 0, 0, 0, 19968, 4, FIRST},
        {0x4, 0, "7g.40gb", 7, 1, 98, 7, 5, 0, 1, 1, 40192, 8, FIRST},
    }},
    {"a100-80gb", 14, 7, {
        {0x0, 19, "1g.10gb", 1, 7, 14, 1, 0, 0, 0, 0, 9728, 1, ANY_OF_7},
        {0x7, 20, "1g.10gb+me", 1, 1, 14, 1, 1, 0, 1, 1, 9728, 1, ANY_OF_7},
        {0x9, 15, "1g.20gb", 1, 4, 14, 1, 1, 0, 0, 0, 19968, 2, EVEN_OF_8},
        {0x1, 14, "2g.20gb", 2, 3, 28, 2, 1, 0, 0, 0, 19968, 2, EVEN_OF_6},
        {0x2, 9, "3g.40gb", 3, 2, 42, 3, 2, 0, 0, 0, 40192, 4, HALVES},
        {0x3, 5, "4g.40gb", 4, 1, 56, 4, 2, 0, 0, 0, 40192, 4, FIRST},
        {0x4, 0, "7g.80gb", 7, 1, 98, 7, 5, 0, 1, 1, 80896, 8, FIRST},
    }},
    {"h100-80gb", 16, 7, {
        {0x0, 19, "1g.10gb", 1, 7, 16, 1, 1, 0, 1, 0, 9984, 1, ANY_OF_7},
        {0x7, 20, "1g.10gb+me", 1, 1, 16, 1, 1, 0, 1, 1, 9984, 1, ANY_OF_7},
        {0x9, 15, "1g.20gb", 1, 4, 26, 1, 1, 0, 1, 0, 20096, 2, EVEN_OF_8},
        {0x1, 14, "2g.20gb", 2, 3, 32, 2, 2, 0, 2, 0, 20096, 2, EVEN_OF_6},
        {0x2, 9, "3g.40gb", 3, 2, 60, 3, 3, 0, 3, 0, 40448, 4, HALVES},
        {0x3, 5, "4g.40gb", 4, 1, 64, 4, 4, 0, 4, 0, 40448, 4, FIRST},
        {0x4, 0, "7g.80gb", 7, 1, 132, 8, 7, 0, 7, 1, 81152, 8, FIRST},
    }},
    {"h200-141gb", 16, 7, {
        {0x0, 19, "1g.18gb", 1, 7, 16, 1, 1, 0, 1, 0, 16384, 1, ANY_OF_7},
        {0x7, 20, "1g.18gb+me", 1, 1, 16, 1, 1, 0, 1, 1, 16384, 1, ANY_OF_7},
        {0x9, 15, "1g.35gb", 1, 4, 26, 1, 1, 0, 1, 0, 33280, 2, EVEN_OF_8},
        {0x1, 14, "2g.35gb", 2, 3, 32, 2, 2, 0, 2, 0, 33280, 2, EVEN_OF_6},
        {0x2, 9, "3g.71gb", 3, 2, 60, 3, 3, 0, 3, 0, 66560, 4, HALVES},
        {0x3, 5, "4g.71gb", 4, 1, 64, 4, 4, 0, 4, 0, 66560, 4, FIRST},
        {0x4, 0, "7g.141gb", 7, 1, 132, 8, 7, 0, 7, 1, 143360, 8, FIRST},
    }},
};

#define COMPUTE_SLICES 7
#define MEMORY_SLICES 8

const mig_product *fake_mig_product_named(const char *key) {
    for (size_t i = 0; i < sizeof(products) / sizeof(products[0]); i++)
        if (strcmp(products[i].key, key) == 0)
            return &products[i];
    return NULL;
}

/* By the marketing name NVML reports: "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe" (80 GB), "NVIDIA H200",
 * "NVIDIA H200 NVL", "NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-40GB",
 * "NVIDIA A100-PCIE-40GB". H100 NVL (94 GB) and H100 on GH200 (96 GB) have other tables: not MIG-capable here. */
const mig_product *fake_mig_product_for(const gpu_cfg *g) {
    if (g->mig_profiles[0] && strcmp(g->mig_profiles, "auto") != 0)
        return strcmp(g->mig_profiles, "none") == 0 ? NULL : fake_mig_product_named(g->mig_profiles);
    const char *n = g->name;
    if (strstr(n, "H200"))
        return fake_mig_product_named("h200-141gb");
    if (strstr(n, "H100") && (strstr(n, "80GB") || strstr(n, "PCIe")) && !strstr(n, "NVL"))
        return fake_mig_product_named("h100-80gb");
    if (strstr(n, "A100") && strstr(n, "80GB"))
        return fake_mig_product_named("a100-80gb");
    if (strstr(n, "A100") && strstr(n, "40GB"))
        return fake_mig_product_named("a100-40gb");
    return NULL;
}

const mig_profile *fake_mig_profile(const mig_product *p, const char *name) {
    if (!p)
        return NULL;
    if (strncmp(name, "MIG ", 4) == 0)
        name += 4;
    for (unsigned int i = 0; i < p->n; i++)
        if (strcmp(p->p[i].name, name) == 0)
            return &p->p[i];
    return NULL;
}

void fake_mig_gi_defaults(fake_gi *gi, unsigned int id) {
    memset(gi, 0, sizeof(*gi));
    gi->id = id;
    /* The GPU's default GPM metrics, at 0, like gpm.<id> on a GPU. */
    static const unsigned int gpm_ids[] = {1, 2, 5, 10};
    for (unsigned int i = 0; i < 4; i++)
        gi->gpm[gi->n_gpm++].id = gpm_ids[i];
}

const fake_gi *fake_mig_gi_by_id(const gpu_cfg *g, unsigned int id) {
    for (unsigned int i = 0; i < g->n_gi; i++)
        if (g->gi[i].id == id)
            return &g->gi[i];
    return NULL;
}

unsigned int fake_mig_ci_sm(const gpu_cfg *g, const fake_gi *gi, const fake_ci *ci) {
    return ci->slices == gi->profile->slices ? gi->profile->sm : ci->slices * g->mig_product->sm_per_slice;
}

/* Lower-case 8-4-4-4-12 as R470+ drivers write MIG UUIDs; version nibble 5 as real ones show. The last group
 * spells GPU, GPU instance and compute instance, so defaults never collide. */
void fake_mig_default_uuid(char *out, size_t n, unsigned int slot, unsigned int gi, unsigned int ci) {
    unsigned long long h = 0x6d4947ULL + ((unsigned long long) slot << 16) + (gi << 8) + ci; /* splitmix64 */
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    snprintf(out, n, "MIG-%08llx-%04llx-5%03llx-%04llx-%04x%04x%04x", (h >> 32) & 0xffffffffULL, (h >> 16) & 0xffffULL,
             h & 0xfffULL, 0x8000ULL | ((h >> 50) & 0x3fffULL), slot, gi, ci);
}

/* nvmlDeviceGetName of a MIG device: the GPU's name and the compute instance's profile, e.g.
 * "NVIDIA H100 80GB HBM3 MIG 1g.10gb", or "... MIG 1c.3g.40gb" for a compute instance smaller than its GI. */
void fake_mig_device_name(const gpu_cfg *g, unsigned int mig, char *out, size_t n) {
    const fake_gi *gi = &g->gi[g->mig[mig].gi];
    const fake_ci *ci = &gi->ci[g->mig[mig].ci];
    if (ci->slices == gi->profile->slices)
        snprintf(out, n, "%s MIG %s", g->name, gi->profile->name);
    else
        snprintf(out, n, "%s MIG %uc.%s", g->name, ci->slices, gi->profile->name);
}

/* ---- scenario keys: gpu.<i>.mig.<gi>.<key> ------------------------------------------------------- */

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_uint(const char *t, unsigned long long max, unsigned long long *out) {
    if (!isdigit((unsigned char) *t))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(t, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Splits `val` at commas into trimmed items; returns the count or -1 when more than `max`. */
static int split(char *val, char **items, int max) {
    int n = 0;
    for (char *p = val; p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        while (isspace((unsigned char) *p))
            p++;
        char *end = p + strlen(p);
        while (end > p && isspace((unsigned char) end[-1]))
            *--end = 0;
        if (*p || comma) {
            if (n == max)
                return -1;
            items[n++] = p;
        }
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

static int set_gi_key(fake_gi *gi, const char *what, const char *val, unsigned int line, char *err, size_t errn);

static fake_gi *gi_for(gpu_cfg *g, unsigned int id, unsigned int line) {
    for (unsigned int i = 0; i < g->n_gi; i++)
        if (g->gi[i].id == id)
            return &g->gi[i];
    if (g->n_gi == FAKE_MAX_GI)
        return NULL;
    fake_gi *gi = &g->gi[g->n_gi++];
    fake_mig_gi_defaults(gi, id);
    gi->line = line;
    return gi;
}

int fake_mig_set_key(gpu_cfg *g, const char *key, const char *val, unsigned int line, char *err, size_t errn) {
    const char *dot = strchr(key, '.');
    char idtext[16];
    unsigned long long id;
    if (!dot || (size_t) (dot - key) >= sizeof(idtext) || !dot[1])
        return fail(err, errn, "expected mig.<GPU instance id>.<key>");
    memcpy(idtext, key, (size_t) (dot - key));
    idtext[dot - key] = 0;
    if (parse_uint(idtext, FAKE_MAX_GI_ID, &id))
        return fail(err, errn, "'%s' is not a GPU instance id (0..%d)", idtext, FAKE_MAX_GI_ID);
    const char *what = dot + 1;
    if (strcmp(what, "profile") == 0 && strcmp(val, "none") == 0) { /* removes a GPU instance a gpu.* line made */
        for (unsigned int i = 0; i < g->n_gi; i++)
            if (g->gi[i].id == id) {
                g->gi[i] = g->gi[--g->n_gi];
                break;
            }
        return 0;
    }
    unsigned int before = g->n_gi;
    fake_gi *gi = gi_for(g, (unsigned int) id, line);
    if (!gi)
        return fail(err, errn, "more than %d GPU instances on one GPU", FAKE_MAX_GI);
    int rc = set_gi_key(gi, dot + 1, val, line, err, errn);
    if (rc && g->n_gi > before)
        g->n_gi--; /* a bad line creates no instance */
    return rc;
}

static int set_gi_key(fake_gi *gi, const char *what, const char *val, unsigned int line, char *err, size_t errn) {
    unsigned long long v;
    char buf[1024];
    if (strlen(val) >= sizeof(buf))
        return fail(err, errn, "value too long");
    strcpy(buf, val);
    if (strcmp(what, "profile") == 0) {
        if (!*val || strlen(val) >= sizeof(gi->profile_name))
            return fail(err, errn, "expected a MIG profile name such as 1g.10gb");
        strcpy(gi->profile_name, val);
        gi->profile_line = line;
        return 0;
    }
    if (strcmp(what, "placement") == 0) {
        if (parse_uint(val, MEMORY_SLICES - 1, &v))
            return fail(err, errn, "expected the first memory slice, 0..%d", MEMORY_SLICES - 1);
        gi->start_set = 1;
        gi->start = (unsigned int) v;
        return 0;
    }
    if (strcmp(what, "memory_used_mib") == 0 || strcmp(what, "memory_total_mib") == 0) {
        if (parse_uint(val, 1ULL << 40, &v))
            return fail(err, errn, "'%s' is not a number of MiB", val);
        if (what[7] == 'u') {
            gi->memory_used_mib = v;
        } else {
            gi->memory_total_mib = v;
            gi->total_set = 1;
        }
        return 0;
    }
    if (strcmp(what, "uuid") == 0) {
        char *items[FAKE_MAX_CI + 1];
        int n = split(buf, items, FAKE_MAX_CI);
        if (n <= 0)
            return fail(err, errn, "expected one UUID per compute instance, comma separated (at most %d)", FAKE_MAX_CI);
        for (int i = 0; i < n; i++) {
            if (!*items[i] || strlen(items[i]) >= sizeof(gi->uuid[0]))
                return fail(err, errn, "a UUID is empty or longer than %zu characters", sizeof(gi->uuid[0]) - 1);
            strcpy(gi->uuid[i], items[i]);
        }
        gi->n_uuid = (unsigned int) n;
        gi->uuid_line = line;
        return 0;
    }
    if (strcmp(what, "compute_instances") == 0) {
        char *items[FAKE_MAX_CI + 1];
        int n = split(buf, items, FAKE_MAX_CI);
        if (n <= 0)
            return fail(err, errn, "expected the compute slices of each compute instance, e.g. 1,1,1 (at most %d)",
                        FAKE_MAX_CI);
        for (int i = 0; i < n; i++) {
            if (parse_uint(items[i], COMPUTE_SLICES, &v) || v == 0)
                return fail(err, errn, "'%s' is not a compute slice count (1..%d)", items[i], COMPUTE_SLICES);
            gi->ci_req[i] = (unsigned int) v;
        }
        gi->n_ci_req = (unsigned int) n;
        gi->ci_line = line;
        return 0;
    }
    if (strcmp(what, "compute_processes") == 0) {
        char *items[FAKE_MAX_MIG_PROCS + 1];
        int n = split(buf, items, FAKE_MAX_MIG_PROCS);
        if (n < 0)
            return fail(err, errn, "more than %d processes in one GPU instance", FAKE_MAX_MIG_PROCS);
        for (int i = 0; i < n; i++) {
            char *f[4] = {items[i], NULL, NULL, NULL};
            int nf = 1;
            for (char *c = items[i]; *c && nf < 4; c++)
                if (*c == ':') {
                    *c = 0;
                    f[nf++] = c + 1;
                }
            unsigned long long pid, mib, ci = 0;
            if (nf < 2 || nf > 3 || parse_uint(f[0], UINT_MAX, &pid) || parse_uint(f[1], 1ULL << 40, &mib) ||
                (nf == 3 && parse_uint(f[2], FAKE_MAX_CI - 1, &ci)))
                return fail(err, errn, "expected pid:used_mib[:compute instance id][,...]");
            gi->procs[i] = (fake_mig_proc){(unsigned int) pid, (unsigned int) ci, mib};
        }
        gi->n_procs = (unsigned int) n;
        gi->procs_line = line;
        return 0;
    }
    if (strncmp(what, "gpm.", 4) == 0) {
        if (parse_uint(what + 4, NVML_GPM_METRIC_MAX - 1, &v) || v == 0)
            return fail(err, errn, "expected gpm.<metric id 1..%d>", NVML_GPM_METRIC_MAX - 1);
        char *end;
        errno = 0;
        double d = strtod(val, &end);
        if (end == val || *end || errno)
            return fail(err, errn, "'%s' is not a number", val);
        for (unsigned int i = 0; i < gi->n_gpm; i++)
            if (gi->gpm[i].id == v) {
                gi->gpm[i].value = d;
                return 0;
            }
        if (gi->n_gpm == FAKE_MAX_MIG_GPM)
            return fail(err, errn, "more than %d gpm.<id> keys on one GPU instance", FAKE_MAX_MIG_GPM);
        gi->gpm[gi->n_gpm].id = (unsigned int) v;
        gi->gpm[gi->n_gpm++].value = d;
        return 0;
    }
    return fail(err, errn, "unknown GPU instance key '%s'", what);
}

/* ---- the check after parsing --------------------------------------------------------------------- */

static void say(fake_report_fn report, void *ctx, unsigned int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(fake_report_fn report, void *ctx, unsigned int line, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    report(ctx, line, msg);
}

static void list_starts(unsigned int mask, char *out, size_t n) {
    size_t at = 0;
    out[0] = 0;
    for (unsigned int s = 0; s < MEMORY_SLICES; s++)
        if (mask >> s & 1u)
            at += (size_t) snprintf(out + at, n - at, "%s%u", at ? "," : "", s);
}

static void list_profiles(const mig_product *p, char *out, size_t n) {
    size_t at = 0;
    out[0] = 0;
    for (unsigned int i = 0; i < p->n && at < n; i++)
        at += (size_t) snprintf(out + at, n - at, "%s%s", i ? ", " : "", p->p[i].name);
}

/* The driver numbers GPU instances by the memory slices they hold (seen on A100/H100/H200: 7g is 0, the halves
 * 1-2, the quarters 3-6, the eighths 7-14), so an id without .placement places the instance there. */
static int derived_start(unsigned int id, unsigned int mem_slices, unsigned int *start) {
    unsigned int count = MEMORY_SLICES / mem_slices, first = count - 1;
    if (id < first || id >= first + count)
        return -1;
    *start = (id - first) * mem_slices;
    return 0;
}

/* Where the driver can place a compute instance of `size` slices in a GPU instance of `slices`. */
static int ci_start_ok(unsigned int slices, unsigned int size, unsigned int start) {
    if (size == slices)
        return start == 0;
    switch (size) {
    case 1: return 1;
    case 2: return start % 2 == 0;
    case 3: return start == 0 || start == 4;
    case 4: return start == 0;
    default: return 0;
    }
}

static unsigned int ci_profile(unsigned int size) {
    switch (size) {
    case 1: return NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE;
    case 2: return NVML_COMPUTE_INSTANCE_PROFILE_2_SLICE;
    case 3: return NVML_COMPUTE_INSTANCE_PROFILE_3_SLICE;
    case 4: return NVML_COMPUTE_INSTANCE_PROFILE_4_SLICE;
    default: return NVML_COMPUTE_INSTANCE_PROFILE_7_SLICE;
    }
}

/* A compute instance profile the GPU instance can hold: its whole size, or 1-4 slices of a larger one. */
int fake_mig_ci_profile_supported(const fake_gi *gi, unsigned int profile) {
    static const unsigned int sizes[] = {1, 2, 3, 4, 7};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        if (ci_profile(sizes[i]) == profile &&
            (sizes[i] == gi->profile->slices || (sizes[i] < gi->profile->slices && sizes[i] <= 4)))
            return 1;
    return 0;
}

/* First fit, in the order written: each compute instance at the lowest start the driver allows and that is free. */
static int place_cis(fake_gi *gi, const unsigned int *sizes, unsigned int n) {
    unsigned int slices = gi->profile->slices, used = 0;
    for (unsigned int i = 0; i < n; i++) {
        unsigned int size = sizes[i], mask = (1u << size) - 1u;
        int placed = 0;
        if (size > slices || (size != slices && size > 4))
            return -1;
        for (unsigned int start = 0; start + size <= slices && !placed; start++) {
            if (!ci_start_ok(slices, size, start) || (used & (mask << start)))
                continue;
            used |= mask << start;
            gi->ci[i] = (fake_ci){size, start, ci_profile(size)};
            placed = 1;
        }
        if (!placed)
            return -1;
    }
    gi->n_ci = n;
    return 0;
}

static int by_line(const void *a, const void *b) {
    const fake_gi *x = a, *y = b;
    if (x->line != y->line)
        return (x->line > y->line) - (x->line < y->line);
    return (x->id > y->id) - (x->id < y->id);
}

static int by_id(const void *a, const void *b) {
    const fake_gi *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

void fake_mig_validate(gpu_cfg *g, unsigned int slot, fake_report_fn report, void *ctx) {
    g->mig_product = fake_mig_product_for(g);
    g->n_mig = 0;
    if (!g->mig_product && (g->mig_mode || g->mig_pending)) {
        say(report, ctx, g->mig_mode ? g->mig_mode_line : g->mig_pending_line,
            "GPU %u (%s) has no MIG: mig_mode/mig_pending need an A100, H100 or H200, or gpu.%u.mig_profiles", slot,
            g->name, slot);
        g->mig_mode = g->mig_pending = 0;
    }
    if (g->mig_mode && g->compute.count) {
        say(report, ctx, g->compute_processes_line,
            "GPU %u is in MIG mode: its processes run in GPU instances (gpu.%u.mig.<gi>.compute_processes)", slot, slot);
        g->compute.count = 0;
    }
    if (g->mig_mode && g->graphics.count) {
        say(report, ctx, g->graphics_processes_line, "GPU %u is in MIG mode, which runs no graphics processes", slot);
        g->graphics.count = 0;
    }
    if (!g->mig_mode) {
        for (unsigned int i = 0; i < g->n_gi; i++)
            say(report, ctx, g->gi[i].line,
                "GPU %u: GPU instance %u while mig_mode = 0 (the driver creates instances only in MIG mode)", slot,
                g->gi[i].id);
        g->n_gi = 0;
        return;
    }
    /* In the order written: an instance that conflicts with an earlier line is the one refused. */
    qsort(g->gi, g->n_gi, sizeof(g->gi[0]), by_line);
    unsigned int kept = 0, memory_used = 0, compute_used = 0, per_profile[sizeof(g->mig_product->p) / sizeof(g->mig_product->p[0])] = {0};
    char text[200];
    for (unsigned int i = 0; i < g->n_gi; i++) {
        fake_gi *gi = &g->gi[i];
        unsigned int line = gi->profile_line ? gi->profile_line : gi->line;
        if (!gi->profile_name[0]) {
            say(report, ctx, gi->line, "GPU %u: GPU instance %u has no profile (gpu.%u.mig.%u.profile)", slot, gi->id,
                slot, gi->id);
            continue;
        }
        const mig_profile *p = fake_mig_profile(g->mig_product, gi->profile_name);
        if (!p) {
            list_profiles(g->mig_product, text, sizeof(text));
            say(report, ctx, line, "GPU %u (%s) has no MIG profile '%s' (it has %s)", slot, g->mig_product->key,
                gi->profile_name, text);
            continue;
        }
        unsigned int start = gi->start;
        if (!gi->start_set && derived_start(gi->id, p->mem_slices, &start)) {
            unsigned int count = MEMORY_SLICES / p->mem_slices;
            say(report, ctx, line,
                "GPU %u: GPU instance id %u names no %s placement (ids %u-%u do); set gpu.%u.mig.%u.placement", slot,
                gi->id, p->name, count - 1, 2 * count - 2, slot, gi->id);
            continue;
        }
        if (!(p->starts >> start & 1u)) {
            list_starts(p->starts, text, sizeof(text));
            say(report, ctx, line, "GPU %u: placement %u is not one the driver allows for %s (starts %s)", slot, start,
                p->name, text);
            continue;
        }
        unsigned int mask = ((1u << p->mem_slices) - 1u) << start;
        if (memory_used & mask) {
            for (unsigned int j = 0; j < kept; j++) {
                const fake_gi *o = &g->gi[j];
                if (((((1u << o->profile->mem_slices) - 1u) << o->start) & mask) == 0)
                    continue;
                say(report, ctx, line, "GPU %u: GPU instance %u (%s, memory slices %u-%u) overlaps GPU instance %u (%s)",
                    slot, gi->id, p->name, start, start + p->mem_slices - 1, o->id, o->profile->name);
                break;
            }
            continue;
        }
        unsigned int pi = (unsigned int) (p - g->mig_product->p);
        if (per_profile[pi] == p->instances) {
            say(report, ctx, line, "GPU %u: more than %u %s instance%s", slot, p->instances, p->name,
                p->instances == 1 ? "" : "s");
            continue;
        }
        if (compute_used + p->slices > COMPUTE_SLICES) {
            say(report, ctx, line, "GPU %u: GPU instance %u needs %u compute slices; %u of %d are free", slot, gi->id,
                p->slices, COMPUTE_SLICES - compute_used, COMPUTE_SLICES);
            continue;
        }
        gi->profile = p;
        gi->start = start;
        if (!gi->total_set)
            gi->memory_total_mib = p->memory_mib;
        if (gi->memory_used_mib > gi->memory_total_mib) {
            say(report, ctx, gi->line, "GPU %u: GPU instance %u uses %llu MiB of its %llu", slot, gi->id,
                gi->memory_used_mib, gi->memory_total_mib);
            gi->memory_used_mib = 0;
        }
        unsigned int whole = p->slices;
        if (gi->n_ci_req ? place_cis(gi, gi->ci_req, gi->n_ci_req) : place_cis(gi, &whole, 1)) {
            say(report, ctx, gi->ci_line, "GPU %u: compute instances that do not fit GPU instance %u (%s, %u compute slices)",
                slot, gi->id, p->name, p->slices);
            place_cis(gi, &whole, 1);
        }
        if (gi->n_uuid > gi->n_ci) {
            say(report, ctx, gi->uuid_line, "GPU %u: %u UUIDs for the %u compute instance%s of GPU instance %u", slot,
                gi->n_uuid, gi->n_ci, gi->n_ci == 1 ? "" : "s", gi->id);
            gi->n_uuid = 0;
        }
        for (unsigned int c = gi->n_uuid; c < gi->n_ci; c++)
            fake_mig_default_uuid(gi->uuid[c], sizeof(gi->uuid[c]), slot, gi->id, c);
        for (unsigned int k = 0; k < gi->n_procs; k++)
            if (gi->procs[k].ci >= gi->n_ci) {
                say(report, ctx, gi->procs_line, "GPU %u: a process on compute instance %u, which GPU instance %u lacks",
                    slot, gi->procs[k].ci, gi->id);
                gi->n_procs = 0;
            }
        memory_used |= mask;
        compute_used += p->slices;
        per_profile[pi]++;
        if (kept != i)
            g->gi[kept] = *gi;
        kept++;
    }
    g->n_gi = kept;
    qsort(g->gi, g->n_gi, sizeof(g->gi[0]), by_id);
    /* MIG devices: one per compute instance, numbered by GPU instance id, then compute instance id. */
    for (unsigned int i = 0; i < g->n_gi; i++)
        for (unsigned int c = 0; c < g->gi[i].n_ci && g->n_mig < FAKE_MAX_MIG; c++) {
            g->mig[g->n_mig].gi = (unsigned char) i;
            g->mig[g->n_mig].ci = (unsigned char) c;
            g->n_mig++;
        }
}

/* Whether two versions of a GPU hold the same instances: what decides if its MIG handles survive a reload. */
int fake_mig_same_topology(const gpu_cfg *a, const gpu_cfg *b) {
    if (a->mig_mode != b->mig_mode || a->mig_product != b->mig_product || a->n_gi != b->n_gi || a->n_mig != b->n_mig)
        return 0;
    for (unsigned int i = 0; i < a->n_gi; i++) {
        const fake_gi *x = &a->gi[i], *y = &b->gi[i];
        if (x->id != y->id || x->profile != y->profile || x->start != y->start || x->n_ci != y->n_ci)
            return 0;
        for (unsigned int c = 0; c < x->n_ci; c++)
            if (x->ci[c].slices != y->ci[c].slices || x->ci[c].start != y->ci[c].start ||
                strcmp(x->uuid[c], y->uuid[c]) != 0)
                return 0;
    }
    return 1;
}
