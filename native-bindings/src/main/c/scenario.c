/*
 * Scenario file: defaults and parser (format in native-bindings/README.md, "Scenario file").
 * Parsing never touches shared state: it builds a fresh `scenario` that runtime.c publishes.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_internal.h"

#define FAKE_FN_NAME(name) #name,
const char *const fake_fn_names[FN_COUNT] = {FAKE_FUNCTIONS(FAKE_FN_NAME)};
#undef FAKE_FN_NAME

/* ---- defaults ---------------------------------------------------------------------------------- */

static const unsigned int dgx_h100_buses[8] = {0x18, 0x2A, 0x3A, 0x5D, 0x9A, 0xAB, 0xBA, 0xDB};

static void knobs_unset(fn_knobs *k) {
    for (int i = 0; i < FN_COUNT; i++) {
        k->latency_ms[i] = -1;
        k->error[i] = -1;
        k->unsupported[i] = -1;
    }
}

static void gpu_defaults(gpu_cfg *g, unsigned int i) {
    memset(g, 0, sizeof(*g));
    snprintf(g->name, sizeof(g->name), "NVIDIA H100 80GB HBM3");
    snprintf(g->uuid, sizeof(g->uuid), "GPU-8a4e6f10-%04x-4c2b-9d3e-5f7a1b2c3d4e", i);
    snprintf(g->serial, sizeof(g->serial), "165322000%u0", i);
    snprintf(g->vbios, sizeof(g->vbios), "96.00.99.00.01");
    /* The bus number is one byte: past GPU 31 the default moves to PCI domain 1. */
    if (i < 8)
        g->pci = (pci_addr){0, dgx_h100_buses[i], 0};
    else if (i < 32)
        g->pci = (pci_addr){0, 0xE0 + i, 0};
    else
        g->pci = (pci_addr){1, 0xE0 + (i - 32), 0};
    g->pci_device_id = 0x233010DE;
    g->pci_subsystem_id = 0x16C110DE;
    g->minor = i;
    g->architecture = 9;
    g->cc_major = 9;
    g->cc_minor = 0;
    g->brand = 14;
    g->memory_total_mib = 81559;
    g->memory_reserved_mib = 534;
    g->bar1_total_mib = 131072;
    g->bar1_used_mib = 1;
    g->temp = 32;
    g->mem_temp = 30;
    g->temp_shutdown = 92;
    g->temp_slowdown = 89;
    g->temp_mem_max = 95;
    g->temp_gpu_max = 87;
    g->power_mw = 70000;
    g->power_limit_mw = 700000;
    g->power_default_limit_mw = 700000;
    g->power_min_limit_mw = 200000;
    g->power_max_limit_mw = 700000;
    g->clock[CLK_GRAPHICS] = 345;
    g->clock[CLK_SM] = 345;
    g->clock[CLK_MEM] = 2619;
    g->clock[CLK_VIDEO] = 765;
    g->max_clock[CLK_GRAPHICS] = 1980;
    g->max_clock[CLK_SM] = 1980;
    g->max_clock[CLK_MEM] = 2619;
    g->max_clock[CLK_VIDEO] = 1755;
    g->clock_event_reasons = 0x1;
    g->supported_clock_event_reasons = 0x1ff;
    g->fan_speed = 30;
    g->pcie_tx_kbps = 1024;
    g->pcie_rx_kbps = 2048;
    g->pcie_gen = g->pcie_gen_max = 5;
    g->pcie_width = g->pcie_width_max = 16;
    g->ecc_mode = 1;
    g->ecc_pending = 1;
    g->nvlinks = 18;
    for (unsigned int l = 0; l < FAKE_MAX_LINKS; l++) {
        g->link[l].active = 1;
        g->link[l].remote = (pci_addr){0, (l / 2) % 4 + 5, 0}; /* the four NVSwitches of a DGX H100 */
    }
    g->gpm_supported = 1;
    g->gpm_set[1] = g->gpm_set[2] = g->gpm_set[5] = g->gpm_set[10] = 1;
    g->persistence_mode = 1;
    /* An HGX H100 behind NVSwitches: its fabric probe completed, healthy, full bandwidth (DEGRADED_BW false = 2). */
    g->fabric_state = 3;
    g->fabric_clique = 1;
    g->fabric_health_mask = 2;
    g->fabric_health_summary = 1;
    snprintf(g->fabric_cluster_uuid, sizeof(g->fabric_cluster_uuid), "00000000-0000-0000-0000-000000000001");
    g->supported_events = 0xc19f;
    knobs_unset(&g->fn);
    g->mig_product = fake_mig_product_for(g); /* again after parsing, when the name may have changed */
}

static void scenario_defaults(scenario *s) {
    memset(s, 0, sizeof(*s)); /* every key not set below is 0 / empty (strict, holders, fields_max, ...) */
    s->gpus = 8;
    snprintf(s->driver_version, sizeof(s->driver_version), "570.133.20");
    snprintf(s->nvml_version, sizeof(s->nvml_version), "12.570.133.20");
    s->cuda_version = 12080;
    s->init_error = 0;
    s->process_stride = 24;
    knobs_unset(&s->fn);
    for (int i = 0; i < FAKE_MAX_GPUS; i++)
        for (int j = 0; j < FAKE_MAX_GPUS; j++)
            s->topology[i][j] = -1;
    for (unsigned int i = 0; i < FAKE_MAX_GPUS; i++)
        gpu_defaults(&s->gpu[i], i);
}

/* What the simulated driver knows follows its version, unless the file says (headers: FI_MAX 197 in 12.2,
 * field 230 from 565, 274 in 12.9, 303 in 13.3; GPM_METRIC_MAX 98 to 12.2, 210 in 12.9, 333 in 13.3). */
unsigned int fake_fields_max(const scenario *s) {
    unsigned long major = strtoul(s->driver_version, NULL, 10);
    if (s->fields_max)
        return s->fields_max;
    return major < 555 ? 196 : major < 565 ? 229 : major < 590 ? 273 : 302;
}

unsigned int fake_gpm_metric_max(const scenario *s) {
    unsigned long major = strtoul(s->driver_version, NULL, 10);
    if (s->gpm_metric_max)
        return s->gpm_metric_max;
    return major < 570 ? 98 : major < 590 ? 210 : 333;
}

void scenario_free(scenario *s) {
    if (s) {
        free(s->events);
        free(s);
    }
}

/* ---- value parsing ------------------------------------------------------------------------------ */

typedef struct {
    char msg[256];
} err_buf;

static int fail(err_buf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(err_buf *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* Decimal, or hex with 0x; the whole text must be the number. */
static int parse_u64(const char *t, unsigned long long *out) {
    int base = 10;
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        base = 16;
        t += 2;
    }
    if (!isxdigit((unsigned char) t[0]) || (base == 10 && !isdigit((unsigned char) t[0])))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(t, &end, base);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_num(const char *t, unsigned long long max, unsigned long long *out, err_buf *e) {
    if (parse_u64(t, out))
        return fail(e, "'%s' is not a number (decimal, or hex with 0x)", t);
    if (*out > max)
        return fail(e, "%s is out of range (at most %llu)", t, max);
    return 0;
}

static int parse_i32(const char *t, int *out, err_buf *e) {
    int neg = t[0] == '-';
    unsigned long long v;
    if (parse_u64(t + neg, &v) || v > (neg ? 2147483648ULL : 2147483647ULL))
        return fail(e, "'%s' is not a 32-bit integer", t);
    *out = neg ? (int) (-(long long) v) : (int) v;
    return 0;
}

static int parse_index(const char *t, size_t len, unsigned long long *out) {
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, t, len);
    buf[len] = 0;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char) buf[i]))
            return -1;
    return parse_u64(buf, out);
}

static int hex_field(const char *t, size_t len, unsigned long long max, unsigned int *out) {
    if (len == 0 || len > 8)
        return -1;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char) t[i]))
            return -1;
        v = v * 16 + (unsigned long long) (isdigit((unsigned char) t[i]) ? t[i] - '0' : (tolower((unsigned char) t[i]) - 'a' + 10));
    }
    if (v > max)
        return -1;
    *out = (unsigned int) v;
    return 0;
}

/* NVML's accepted forms: domain:bus:device.function, domain:bus:device, bus:device.function. */
int fake_parse_pci(const char *text, pci_addr *out) {
    const char *c1 = strchr(text, ':');
    if (!c1)
        return -1;
    const char *c2 = strchr(c1 + 1, ':');
    const char *dev, *end;
    unsigned int fn = 0;
    pci_addr a = {0, 0, 0};
    if (c2) {
        if (hex_field(text, (size_t) (c1 - text), 0xFFFFFFFFULL, &a.domain) ||
            hex_field(c1 + 1, (size_t) (c2 - c1 - 1), 0xFF, &a.bus))
            return -1;
        dev = c2 + 1;
    } else {
        if (hex_field(text, (size_t) (c1 - text), 0xFF, &a.bus))
            return -1;
        dev = c1 + 1;
    }
    const char *dot = strchr(dev, '.');
    end = dot ? dot : dev + strlen(dev);
    if (!dot && !c2)
        return -1;
    if (hex_field(dev, (size_t) (end - dev), 0x1F, &a.device))
        return -1;
    if (dot && hex_field(dot + 1, strlen(dot + 1), 7, &fn))
        return -1;
    *out = a;
    return 0;
}

void fake_format_pci(const pci_addr *a, char *busId, size_t n) {
    snprintf(busId, n, "%08X:%02X:%02X.0", a->domain, a->bus, a->device);
}

static int parse_procs(const char *t, proc_list *out, err_buf *e) {
    proc_list l = {0};
    const char *p = t;
    while (*p) {
        while (isspace((unsigned char) *p))
            p++;
        if (!*p)
            break;
        if (l.count == FAKE_MAX_PROCS)
            return fail(e, "more than %d processes", FAKE_MAX_PROCS);
        char *end;
        errno = 0;
        unsigned long long pid = strtoull(p, &end, 10);
        if (end == p || errno || pid > UINT_MAX)
            return fail(e, "expected pid:used_mib[,pid:used_mib...]");
        p = end;
        while (isspace((unsigned char) *p))
            p++;
        if (*p != ':')
            return fail(e, "expected pid:used_mib[,pid:used_mib...]");
        p++;
        while (isspace((unsigned char) *p))
            p++;
        const char *num = p;
        unsigned long long mib = strtoull(p, &end, 10);
        if (end == num || errno || !isdigit((unsigned char) *num) || mib > (1ULL << 40))
            return fail(e, "expected pid:used_mib[,pid:used_mib...]");
        p = end;
        while (isspace((unsigned char) *p))
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            return fail(e, "expected pid:used_mib[,pid:used_mib...]");
        l.p[l.count].pid = (unsigned int) pid;
        l.p[l.count].used_mib = mib;
        l.count++;
    }
    *out = l;
    return 0;
}

/* ---- key tables ------------------------------------------------------------------------------- */

typedef enum { T_U32, T_U64, T_I32, T_BOOL, T_STR, T_PCI, T_PROCS } vtype;
typedef struct {
    const char *key;
    vtype type;
    size_t off, size;
    unsigned long long max;
} key_def;

#define GK(k, t, m) {k, t, offsetof(gpu_cfg, m), sizeof(((gpu_cfg *) 0)->m), UINT_MAX}
#define GKM(k, t, m, mx) {k, t, offsetof(gpu_cfg, m), sizeof(((gpu_cfg *) 0)->m), mx}
#define G64(k, m) {k, T_U64, offsetof(gpu_cfg, m), sizeof(((gpu_cfg *) 0)->m), ULLONG_MAX}
#define MIB(k, m) {k, T_U64, offsetof(gpu_cfg, m), sizeof(((gpu_cfg *) 0)->m), 1ULL << 40}

static const key_def gpu_keys[] = {
    GK("name", T_STR, name),
    GK("uuid", T_STR, uuid),
    GK("serial", T_STR, serial),
    GK("minor", T_U32, minor),
    GK("pci_bus_id", T_PCI, pci),
    GK("pci_device_id", T_U32, pci_device_id),
    GK("pci_subsystem_id", T_U32, pci_subsystem_id),
    GK("architecture", T_U32, architecture),
    GK("cc_major", T_I32, cc_major),
    GK("cc_minor", T_I32, cc_minor),
    GK("vbios", T_STR, vbios),
    GK("brand", T_U32, brand),
    MIB("memory_total_mib", memory_total_mib),
    MIB("memory_used_mib", memory_used_mib),
    MIB("memory_reserved_mib", memory_reserved_mib),
    MIB("bar1_total_mib", bar1_total_mib),
    MIB("bar1_used_mib", bar1_used_mib),
    GK("util_gpu", T_U32, util_gpu),
    GK("util_mem", T_U32, util_mem),
    GK("util_enc", T_U32, util_enc),
    GK("util_dec", T_U32, util_dec),
    GK("temp", T_I32, temp),
    GK("mem_temp", T_U32, mem_temp),
    GK("temp_shutdown", T_U32, temp_shutdown),
    GK("temp_slowdown", T_U32, temp_slowdown),
    GK("temp_mem_max", T_U32, temp_mem_max),
    GK("temp_gpu_max", T_U32, temp_gpu_max),
    GK("power_mw", T_U32, power_mw),
    GK("power_limit_mw", T_U32, power_limit_mw),
    GK("power_default_limit_mw", T_U32, power_default_limit_mw),
    GK("power_enforced_limit_mw", T_U32, power_enforced_limit_mw),
    GK("power_min_limit_mw", T_U32, power_min_limit_mw),
    GK("power_max_limit_mw", T_U32, power_max_limit_mw),
    G64("energy_mj", energy_mj),
    GK("clock_graphics", T_U32, clock[CLK_GRAPHICS]),
    GK("clock_sm", T_U32, clock[CLK_SM]),
    GK("clock_mem", T_U32, clock[CLK_MEM]),
    GK("clock_video", T_U32, clock[CLK_VIDEO]),
    GK("max_clock_graphics", T_U32, max_clock[CLK_GRAPHICS]),
    GK("max_clock_sm", T_U32, max_clock[CLK_SM]),
    GK("max_clock_mem", T_U32, max_clock[CLK_MEM]),
    GK("max_clock_video", T_U32, max_clock[CLK_VIDEO]),
    G64("clock_event_reasons", clock_event_reasons),
    G64("supported_clock_event_reasons", supported_clock_event_reasons),
    GK("pstate", T_U32, pstate),
    GKM("fans", T_U32, fans, 64),
    GK("fan_speed", T_U32, fan_speed),
    GK("pcie_tx_kbps", T_U32, pcie_tx_kbps),
    GK("pcie_rx_kbps", T_U32, pcie_rx_kbps),
    GK("pcie_replay", T_U32, pcie_replay),
    GK("pcie_gen", T_U32, pcie_gen),
    GK("pcie_width", T_U32, pcie_width),
    GK("pcie_gen_max", T_U32, pcie_gen_max),
    GK("pcie_width_max", T_U32, pcie_width_max),
    GK("ecc_mode", T_BOOL, ecc_mode),
    GK("ecc_pending", T_BOOL, ecc_pending),
    G64("ecc_sbe_volatile", ecc[ECC_SBE_VOL]),
    G64("ecc_dbe_volatile", ecc[ECC_DBE_VOL]),
    G64("ecc_sbe_aggregate", ecc[ECC_SBE_AGG]),
    G64("ecc_dbe_aggregate", ecc[ECC_DBE_AGG]),
    GKM("retired_sbe", T_U32, retired_sbe, 1u << 20),
    GKM("retired_dbe", T_U32, retired_dbe, 1u << 20),
    GK("retired_pending", T_BOOL, retired_pending),
    GK("remap_correctable", T_U32, remap_correctable),
    GK("remap_uncorrectable", T_U32, remap_uncorrectable),
    GK("remap_pending", T_BOOL, remap_pending),
    GK("remap_failure", T_BOOL, remap_failure),
    GKM("nvlinks", T_U32, nvlinks, FAKE_MAX_LINKS),
    G64("nvlink_tx_kib", nvlink_tx_kib),
    G64("nvlink_rx_kib", nvlink_rx_kib),
    GK("compute_processes", T_PROCS, compute),
    GK("graphics_processes", T_PROCS, graphics),
    GK("recovery_action", T_U32, recovery_action),
    GK("mig_mode", T_BOOL, mig_mode),
    GK("mig_pending", T_BOOL, mig_pending),
    GK("gpm_supported", T_BOOL, gpm_supported),
    GK("persistence_mode", T_BOOL, persistence_mode),
    GKM("fabric.state", T_U32, fabric_state, 3),
    GKM("fabric.status", T_U32, fabric_status, 999),
    GK("fabric.clique_id", T_U32, fabric_clique),
    GK("fabric.cluster_uuid", T_STR, fabric_cluster_uuid),
    GK("fabric.health_mask", T_U32, fabric_health_mask),
    GKM("fabric.health_summary", T_U32, fabric_health_summary, 3),
    G64("supported_events", supported_events),
    GK("drain", T_BOOL, drain),
    GK("no_permission", T_BOOL, no_permission),
    GK("lost", T_BOOL, lost),
    GKM("nvlink_unsupported_counters", T_U32, nvlink_unsupported, 31),
};

#define SK(k, t, m, mx) {k, t, offsetof(scenario, m), sizeof(((scenario *) 0)->m), mx}
static const key_def global_keys[] = {
    SK("gpus", T_U32, gpus, FAKE_MAX_GPUS),
    SK("driver_version", T_STR, driver_version, 0),
    SK("nvml_version", T_STR, nvml_version, 0),
    SK("cuda_version", T_I32, cuda_version, 0),
    SK("init_error", T_U32, init_error, UINT_MAX),
    SK("process_stride", T_U32, process_stride, 32),
    SK("strict", T_BOOL, strict, 1),
    SK("holders", T_STR, holders, 0),
    SK("marker", T_STR, marker, 0),
    SK("fields_max", T_U32, fields_max, 1023),
    SK("gpm_metric_max", T_U32, gpm_metric_max, NVML_GPM_METRIC_MAX),
};

static int set_value(void *base, const key_def *d, const char *val, err_buf *e) {
    char *p = (char *) base + d->off;
    unsigned long long v;
    switch (d->type) {
    case T_U32:
        if (parse_num(val, d->max, &v, e))
            return -1;
        *(unsigned int *) p = (unsigned int) v;
        return 0;
    case T_U64:
        if (parse_num(val, d->max, &v, e))
            return -1;
        *(unsigned long long *) p = v;
        return 0;
    case T_BOOL:
        if (parse_u64(val, &v) || v > 1)
            return fail(e, "expected 0 or 1, not '%s'", val);
        *(unsigned int *) p = (unsigned int) v;
        return 0;
    case T_I32:
        return parse_i32(val, (int *) p, e);
    case T_STR:
        if (strlen(val) >= d->size)
            return fail(e, "value longer than %zu characters", d->size - 1);
        memcpy(p, val, strlen(val) + 1);
        return 0;
    case T_PCI:
        if (fake_parse_pci(val, (pci_addr *) p))
            return fail(e, "'%s' is not a PCI bus id (domain:bus:device.function)", val);
        return 0;
    case T_PROCS:
        return parse_procs(val, (proc_list *) p, e);
    }
    return fail(e, "internal: bad key type");
}

static const key_def *find_key(const key_def *table, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    return NULL;
}

static int find_fn(const char *name) {
    for (int i = 0; i < FN_COUNT; i++)
        if (strcmp(fake_fn_names[i], name) == 0)
            return i;
    return -1;
}

/* latency_ms.<fn>, error.<fn>, unsupported.<fn>. Returns 1 when `key` is not one of those. */
static int set_knob(fn_knobs *k, const char *key, const char *val, err_buf *e) {
    const char *dot = strchr(key, '.');
    if (!dot)
        return 1;
    size_t plen = (size_t) (dot - key);
    int kind;
    if (plen == 10 && strncmp(key, "latency_ms", plen) == 0)
        kind = 0;
    else if (plen == 5 && strncmp(key, "error", plen) == 0)
        kind = 1;
    else if (plen == 11 && strncmp(key, "unsupported", plen) == 0)
        kind = 2;
    else
        return 1;
    int fn = find_fn(dot + 1);
    if (fn < 0)
        return fail(e, "'%s' is not a function the fake exports", dot + 1);
    unsigned long long v;
    if (kind == 0) {
        if (parse_num(val, 3600000, &v, e))
            return -1;
        k->latency_ms[fn] = (int64_t) v;
    } else if (kind == 1) {
        if (parse_num(val, INT_MAX, &v, e))
            return -1;
        k->error[fn] = (int64_t) v;
    } else {
        if (parse_u64(val, &v) || v > 1)
            return fail(e, "expected 0 or 1, not '%s'", val);
        k->unsupported[fn] = (int8_t) v;
    }
    return 0;
}

static const char *const link_counters[] = {"crc_flit", "crc_data", "replay", "recovery", "ecc_data"};

static int set_gpu_key(gpu_cfg *g, const char *key, const char *val, unsigned int line, err_buf *e) {
    if (strncmp(key, "mig.", 4) == 0)
        return fake_mig_set_key(g, key + 4, val, line, e->msg, sizeof(e->msg));
    if (strcmp(key, "mig_profiles") == 0) {
        if (strcmp(val, "auto") != 0 && strcmp(val, "none") != 0 && !fake_mig_product_named(val))
            return fail(e, "unknown MIG profile table '%s' (auto, none, a100-40gb, a100-80gb, h100-80gb, h200-141gb)", val);
        snprintf(g->mig_profiles, sizeof(g->mig_profiles), "%s", val);
        g->mig_profiles_line = line;
        return 0;
    }
    const key_def *d = find_key(gpu_keys, sizeof(gpu_keys) / sizeof(gpu_keys[0]), key);
    if (d) {
        if (set_value(g, d, val, e))
            return -1;
        if (d->off == offsetof(gpu_cfg, power_enforced_limit_mw))
            g->power_enforced_set = 1;
        /* Lines of the keys the MIG check after parsing may refuse. */
        if (d->off == offsetof(gpu_cfg, mig_mode))
            g->mig_mode_line = line;
        else if (d->off == offsetof(gpu_cfg, mig_pending))
            g->mig_pending_line = line;
        else if (d->off == offsetof(gpu_cfg, compute))
            g->compute_processes_line = line;
        else if (d->off == offsetof(gpu_cfg, graphics))
            g->graphics_processes_line = line;
        return 0;
    }
    int r = set_knob(&g->fn, key, val, e);
    if (r <= 0)
        return r;
    unsigned long long id;
    if (strncmp(key, "nvlink.", 7) == 0) {
        const char *l = key + 7, *dot = strchr(l, '.');
        if (!dot || parse_index(l, (size_t) (dot - l), &id) || id >= FAKE_MAX_LINKS)
            return fail(e, "expected nvlink.<link 0..%d>.<key>", FAKE_MAX_LINKS - 1);
        fake_link *link = &g->link[id];
        const char *what = dot + 1;
        if (strcmp(what, "active") == 0) {
            key_def b = {what, T_BOOL, 0, sizeof(unsigned int), 1};
            return set_value(&link->active, &b, val, e);
        }
        if (strcmp(what, "remote_pci_bus_id") == 0) {
            if (fake_parse_pci(val, &link->remote))
                return fail(e, "'%s' is not a PCI bus id (domain:bus:device.function)", val);
            return 0;
        }
        unsigned long long *counters[] = {&link->crc_flit, &link->crc_data, &link->replay, &link->recovery,
                                          &link->ecc_data};
        for (size_t i = 0; i < sizeof(link_counters) / sizeof(link_counters[0]); i++)
            if (strcmp(what, link_counters[i]) == 0)
                return parse_num(val, ULLONG_MAX, counters[i], e);
        return fail(e, "unknown NVLink key '%s'", what);
    }
    if (strncmp(key, "gpm.", 4) == 0) {
        if (parse_index(key + 4, strlen(key + 4), &id) || id == 0 || id >= NVML_GPM_METRIC_MAX)
            return fail(e, "expected gpm.<metric id 1..%d>", NVML_GPM_METRIC_MAX - 1);
        char *end;
        errno = 0;
        double v = strtod(val, &end);
        if (end == val || *end || errno)
            return fail(e, "'%s' is not a number", val);
        g->gpm[id] = v;
        g->gpm_set[id] = 1;
        return 0;
    }
    if (strncmp(key, "unsupported_field.", 18) == 0 || strncmp(key, "field_error.", 12) == 0) {
        /* unsupported_field.<id> = 1 is field_error.<id> = 3 (NOT_SUPPORTED); 0 clears either. */
        int unsupported = key[0] == 'u';
        const char *idtext = key + (unsupported ? 18 : 12);
        unsigned long long code;
        if (parse_index(idtext, strlen(idtext), &id) || id == 0 || id > UINT_MAX)
            return fail(e, unsupported ? "expected unsupported_field.<NVML field id>" : "expected field_error.<NVML field id>");
        if (unsupported ? parse_u64(val, &code) || code > 1 : parse_u64(val, &code) || code > 999)
            return fail(e, unsupported ? "expected 0 or 1, not '%s'" : "expected an nvmlReturn_t code 0..999, not '%s'", val);
        if (unsupported && code)
            code = NVML_ERROR_NOT_SUPPORTED;
        for (unsigned int i = 0; i < g->n_unsupported_fields; i++)
            if (g->unsupported_field[i] == id) {
                if (!code) {
                    g->n_unsupported_fields--;
                    g->unsupported_field[i] = g->unsupported_field[g->n_unsupported_fields];
                    g->field_error_code[i] = g->field_error_code[g->n_unsupported_fields];
                } else {
                    g->field_error_code[i] = (unsigned int) code;
                }
                return 0;
            }
        if (!code)
            return 0;
        if (g->n_unsupported_fields == FAKE_MAX_FIELD_OVERRIDES)
            return fail(e, "more than %d unsupported_field.<id> / field_error.<id> keys on one GPU", FAKE_MAX_FIELD_OVERRIDES);
        g->unsupported_field[g->n_unsupported_fields] = (unsigned int) id;
        g->field_error_code[g->n_unsupported_fields++] = (unsigned int) code;
        return 0;
    }
    if (strncmp(key, "field.", 6) == 0) {
        unsigned long long v;
        if (parse_index(key + 6, strlen(key + 6), &id) || id == 0 || id > UINT_MAX)
            return fail(e, "expected field.<NVML field id>");
        if (parse_num(val, ULLONG_MAX, &v, e))
            return -1;
        for (unsigned int i = 0; i < g->n_fields; i++)
            if (g->field[i].id == id) {
                g->field[i].value = v;
                return 0;
            }
        if (g->n_fields == FAKE_MAX_FIELD_OVERRIDES)
            return fail(e, "more than %d field.<id> keys on one GPU", FAKE_MAX_FIELD_OVERRIDES);
        g->field[g->n_fields].id = (unsigned int) id;
        g->field[g->n_fields].value = v;
        g->n_fields++;
        return 0;
    }
    return fail(e, "unknown key '%s'", key);
}

static const struct {
    const char *name;
    unsigned long long bit;
} event_types[] = {
    {"single_bit_ecc_error", 0x1},
    {"double_bit_ecc_error", 0x2},
    {"pstate", 0x4},
    {"xid", 0x8},
    {"xid_critical_error", 0x8},
    {"clock", 0x10},
    {"power_source_change", 0x80},
    {"mig_config_change", 0x100},
    {"single_bit_ecc_error_storm", 0x200},
    {"dram_retirement_event", 0x400},
    {"dram_retirement_failure", 0x800},
    {"non_fatal_poison_error", 0x1000},
    {"fatal_poison_error", 0x2000},
    {"gpu_unavailable_error", 0x4000},
    {"gpu_recovery_action", 0x8000},
};

/* `<gpu> <type> [<data>] [gi=<id> [ci=<id>]]`; the instance ids are checked against the topology after parsing. */
static int parse_event(const char *val, unsigned int gpus, fake_event *ev, err_buf *e) {
    char buf[256], *save = NULL;
    if (strlen(val) >= sizeof(buf))
        return fail(e, "event description too long");
    strcpy(buf, val);
    char *gpu = strtok_r(buf, " \t", &save), *type = strtok_r(NULL, " \t", &save), *data = NULL, *gi = NULL, *ci = NULL;
    int extra = 0;
    for (char *t = strtok_r(NULL, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (strncmp(t, "gi=", 3) == 0 && !gi)
            gi = t + 3;
        else if (strncmp(t, "ci=", 3) == 0 && !ci)
            ci = t + 3;
        else if (!data && !gi && !ci)
            data = t;
        else
            extra = 1;
    }
    unsigned long long v;
    if (!gpu || !type || extra)
        return fail(e, "expected '<gpu> xid <code> [gi=<id> [ci=<id>]]' or '<gpu> <type> [<data>] [gi=<id> [ci=<id>]]'");
    if (parse_u64(gpu, &v) || v >= gpus)
        return fail(e, "GPU index %s out of range (gpus = %u)", gpu, gpus);
    ev->gpu = (unsigned int) v;
    ev->type = 0;
    for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
        if (strcmp(type, event_types[i].name) == 0)
            ev->type = event_types[i].bit;
    if (!ev->type)
        return fail(e, "unknown event type '%s'", type);
    ev->data = 0;
    if (ev->type == nvmlEventTypeXidCriticalError && !data)
        return fail(e, "an xid event needs its code: '<gpu> xid <code>'");
    if (data && parse_num(data, ULLONG_MAX, &ev->data, e))
        return -1;
    ev->gpu_instance = ev->compute_instance = FAKE_NO_INSTANCE;
    if (ci && !gi)
        return fail(e, "ci=<id> needs gi=<id>: a compute instance lives in a GPU instance");
    if (gi && (parse_u64(gi, &v) || v > FAKE_MAX_GI_ID))
        return fail(e, "gi=%s is not a GPU instance id (0..%d)", gi, FAKE_MAX_GI_ID);
    if (gi)
        ev->gpu_instance = (unsigned int) v;
    if (ci && (parse_u64(ci, &v) || v >= FAKE_MAX_CI))
        return fail(e, "ci=%s is not a compute instance id (0..%d)", ci, FAKE_MAX_CI - 1);
    if (ci)
        ev->compute_instance = (unsigned int) v;
    return 0;
}

/* ---- the file ----------------------------------------------------------------------------------- */

typedef struct {
    unsigned int number;
    char *key, *val;
} line_t;

typedef struct {
    unsigned int line;
    char msg[300];
} diag;

typedef struct {
    diag *v;
    size_t n, cap;
} diags;

static void report(diags *d, unsigned int line, const char *msg) {
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        diag *v = realloc(d->v, cap * sizeof(*v));
        if (!v)
            return;
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n].line = line;
    snprintf(d->v[d->n].msg, sizeof(d->v[d->n].msg), "%s", msg);
    d->n++;
}

static void report_line(void *ctx, unsigned int line, const char *msg) {
    report((diags *) ctx, line, msg);
}

static int by_line(const void *a, const void *b) {
    const diag *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

typedef struct {
    fake_event ev;
    size_t order;
    unsigned int line;
    int dropped; /* a bad line found after parsing (an instance the topology lacks) */
} ordered_event;

static int by_n_then_order(const void *a, const void *b) {
    const ordered_event *x = a, *y = b;
    if (x->ev.n != y->ev.n)
        return (x->ev.n > y->ev.n) - (x->ev.n < y->ev.n);
    return (x->order > y->order) - (x->order < y->order);
}

static char *trim(char *s) {
    while (isspace((unsigned char) *s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char) end[-1]))
        *--end = 0;
    return s;
}

/* gpu.<i>.<rest> or gpu.*.<rest>: returns the index (or -2 for '*'), -1 when malformed. */
static long gpu_scope(const char *key, const char **rest) {
    const char *p = key + 4, *dot = strchr(p, '.');
    if (!dot || !dot[1])
        return -1;
    *rest = dot + 1;
    if (dot - p == 1 && *p == '*')
        return -2;
    unsigned long long i;
    if (parse_index(p, (size_t) (dot - p), &i) || i > 1000000)
        return -1;
    return (long) i;
}

int fake_scenario_quiet;

scenario *scenario_parse(const char *path, const char *text, size_t len) {
    scenario *s = malloc(sizeof(*s));
    if (!s) {
        fprintf(stderr, "fake-nvml: out of memory reading %s\n", path ? path : "(defaults)");
        return NULL;
    }
    scenario_defaults(s);
    s->events = NULL;
    s->n_events = 0;
    if (!text || len == 0)
        return s;

    char *copy = malloc(len + 1);
    line_t *lines = calloc(len / 2 + 2, sizeof(*lines)); /* a line with a key needs at least 2 bytes */
    diags d = {0};
    ordered_event *evs = NULL;
    size_t n_lines = 0, n_evs = 0, cap_evs = 0;
    if (!copy || !lines) {
        fprintf(stderr, "fake-nvml: out of memory reading %s\n", path);
        free(copy);
        free(lines);
        return s;
    }
    memcpy(copy, text, len);
    copy[len] = 0;

    /* Split into key/value lines, reporting the lines that are neither blank nor `key = value`. */
    unsigned int number = 0;
    for (char *p = copy; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        number++;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = 0;
        char *line = trim(p);
        if (*line) {
            char *eq = strchr(line, '=');
            if (!eq) {
                report(&d, number, "expected 'key = value'");
            } else {
                *eq = 0;
                char *key = trim(line), *val = trim(eq + 1);
                if (!*key)
                    report(&d, number, "expected 'key = value'");
                else
                    lines[n_lines++] = (line_t){number, key, val};
            }
        }
        p = nl ? nl + 1 : NULL;
    }

    /* `gpus` first: GPU indices on any line are checked against it, wherever it appears. */
    for (size_t i = 0; i < n_lines; i++) {
        unsigned long long v;
        if (strcmp(lines[i].key, "gpus") == 0 && !parse_u64(lines[i].val, &v) && v <= FAKE_MAX_GPUS)
            s->gpus = (unsigned int) v;
    }

    /* Pass 1: global keys and gpu.*; pass 2: gpu.<i>, so a GPU's own line wins regardless of order. */
    for (int pass = 1; pass <= 2; pass++) {
        for (size_t i = 0; i < n_lines; i++) {
            const char *key = lines[i].key, *val = lines[i].val, *rest = NULL;
            err_buf e = {{0}};
            int bad = 0;
            if (strncmp(key, "dcgm.", 5) == 0)
                continue; /* the fake DCGM's keys: it reads the same file (dcgm/fake_dcgm.c) */
            if (strncmp(key, "gpu.", 4) == 0) {
                long idx = gpu_scope(key, &rest);
                if ((pass == 1) != (idx == -2) && idx != -1)
                    continue;
                if (idx == -1) {
                    if (pass == 2)
                        continue;
                    bad = fail(&e, "expected gpu.<index>.<key> or gpu.*.<key>");
                } else if (idx == -2) {
                    bad = set_gpu_key(&s->gpu[0], rest, val, lines[i].number, &e);
                    for (int g = 1; !bad && g < FAKE_MAX_GPUS; g++)
                        set_gpu_key(&s->gpu[g], rest, val, lines[i].number, &e);
                } else if ((unsigned long) idx >= s->gpus) {
                    bad = fail(&e, "GPU index %ld out of range (gpus = %u)", idx, s->gpus);
                } else {
                    bad = set_gpu_key(&s->gpu[idx], rest, val, lines[i].number, &e);
                }
            } else if (pass == 2) {
                continue;
            } else if (strncmp(key, "event.", 6) == 0) {
                unsigned long long n;
                fake_event ev;
                if (parse_index(key + 6, strlen(key + 6), &n))
                    bad = fail(&e, "expected event.<number>");
                else if (!(bad = parse_event(val, s->gpus, &ev, &e))) {
                    if (n_evs == cap_evs) {
                        size_t cap = cap_evs ? cap_evs * 2 : 16;
                        ordered_event *v = realloc(evs, cap * sizeof(*v));
                        if (!v) {
                            bad = fail(&e, "out of memory");
                        } else {
                            evs = v;
                            cap_evs = cap;
                        }
                    }
                    if (!bad) {
                        ev.n = n;
                        evs[n_evs].ev = ev;
                        evs[n_evs].order = i;
                        evs[n_evs].line = lines[i].number;
                        evs[n_evs].dropped = 0;
                        n_evs++;
                    }
                }
            } else if (strncmp(key, "topology.", 9) == 0) {
                const char *a = key + 9, *dot = strchr(a, '.');
                unsigned long long x, y, level;
                if (!dot || parse_index(a, (size_t) (dot - a), &x) || parse_index(dot + 1, strlen(dot + 1), &y))
                    bad = fail(&e, "expected topology.<gpu>.<gpu>");
                else if (x >= s->gpus || y >= s->gpus)
                    bad = fail(&e, "GPU index out of range (gpus = %u)", s->gpus);
                else if (parse_u64(val, &level) || level > 50 || level % 10)
                    bad = fail(&e, "expected a topology level: 0, 10, 20, 30, 40 or 50");
                else
                    s->topology[x][y] = s->topology[y][x] = (short) level;
            } else {
                const key_def *kd = find_key(global_keys, sizeof(global_keys) / sizeof(global_keys[0]), key);
                unsigned long long v;
                if (kd && kd->off == offsetof(scenario, gpus)) {
                    bad = parse_num(val, FAKE_MAX_GPUS, &v, &e); /* already applied above */
                } else if (kd && kd->off == offsetof(scenario, process_stride)) {
                    if (!(bad = parse_num(val, 32, &v, &e))) {
                        if (v != 16 && v != 24 && v != 32)
                            bad = fail(&e, "process_stride must be 16, 24 or 32");
                        else
                            s->process_stride = (unsigned int) v;
                    }
                } else if (kd) {
                    bad = set_value(s, kd, val, &e);
                } else {
                    bad = set_knob(&s->fn, key, val, &e);
                    if (bad == 1)
                        bad = fail(&e, "unknown key '%s'", key);
                }
            }
            if (bad)
                report(&d, lines[i].number, e.msg);
        }
    }
    /* MIG topologies, now that every GPU's name and keys are known; then the instances events name. */
    for (unsigned int slot = 0; slot < FAKE_MAX_GPUS; slot++) {
        if (slot < s->gpus)
            fake_mig_validate(&s->gpu[slot], slot, report_line, &d);
        else
            s->gpu[slot].n_gi = s->gpu[slot].n_mig = 0; /* gpu.* lines reach GPUs that do not exist */
    }
    for (size_t i = 0; i < n_evs; i++) {
        fake_event *ev = &evs[i].ev;
        if (ev->gpu_instance == FAKE_NO_INSTANCE)
            continue;
        const gpu_cfg *g = &s->gpu[ev->gpu];
        const fake_gi *gi = fake_mig_gi_by_id(g, ev->gpu_instance);
        char msg[200];
        if (!gi)
            snprintf(msg, sizeof(msg), "GPU %u has no GPU instance %u%s", ev->gpu, ev->gpu_instance,
                     g->mig_mode ? "" : " (it is not in MIG mode)");
        else if (ev->compute_instance != FAKE_NO_INSTANCE && ev->compute_instance >= gi->n_ci)
            snprintf(msg, sizeof(msg), "GPU %u: GPU instance %u has no compute instance %u", ev->gpu, ev->gpu_instance,
                     ev->compute_instance);
        else
            continue;
        report(&d, evs[i].line, msg);
        evs[i].dropped = 1;
    }
    /* Events: increasing n; for a repeated n the last line wins (of those not refused). */
    if (n_evs) {
        size_t kept = 0;
        for (size_t i = 0; i < n_evs; i++)
            if (!evs[i].dropped)
                evs[kept++] = evs[i];
        qsort(evs, kept, sizeof(*evs), by_n_then_order);
        s->events = kept ? malloc(kept * sizeof(*s->events)) : NULL;
        if (s->events) {
            for (size_t i = 0; i < kept; i++) {
                if (i + 1 < kept && evs[i + 1].ev.n == evs[i].ev.n)
                    continue;
                s->events[s->n_events++] = evs[i].ev;
            }
        }
    }

    if (d.n)
        qsort(d.v, d.n, sizeof(*d.v), by_line);
    for (size_t i = 0; i < d.n && !fake_scenario_quiet; i++)
        fprintf(stderr, "fake-nvml: %s:%u: %s\n", path, d.v[i].line, d.v[i].msg);
    fflush(stderr);

    free(d.v);
    free(evs);
    free(lines);
    free(copy);
    return s;
}
