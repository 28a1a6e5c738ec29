/*
 * Fake NVML: GPM (GPU Performance Monitoring). A sample records which GPU (and GPU instance) it was taken on
 * and its gpm.<id> values at that moment; nvmlGpmMetricsGet reports the second sample's values (the fake's
 * counters do not move, so "the rate over the interval" is just the configured value).
 * Samples live in a registry so a bogus or freed handle is rejected instead of dereferenced.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_internal.h"

struct nvmlGpmSample_st {
    struct nvmlGpmSample_st *next;
    int taken;
    unsigned int slot;
    unsigned int gpu_instance; /* FAKE_NO_INSTANCE: the whole GPU */
    double value[NVML_GPM_METRIC_MAX];
    unsigned char set[NVML_GPM_METRIC_MAX];
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nvmlGpmSample_st *g_samples;

/* Caller holds g_mu. Strict: a sample that is not live (freed, or never ours) is a use after free. */
static struct nvmlGpmSample_st *find_sample(fake_fn fn, nvmlGpmSample_t sample) {
    for (struct nvmlGpmSample_st *s = g_samples; s; s = s->next)
        if (s == sample)
            return s;
    if (fake_strict())
        fake_strict_abort(fn, "a GPM sample that was freed (nvmlGpmSampleFree or the last nvmlShutdown)");
    return NULL;
}

void fake_gpm_shutdown(void) {
    pthread_mutex_lock(&g_mu);
    while (g_samples) {
        struct nvmlGpmSample_st *s = g_samples;
        g_samples = s->next;
        free(s);
    }
    pthread_mutex_unlock(&g_mu);
}

/* metricInfo for the ids an agent is likely to ask for; others get NULL, which NVML allows. */
static const struct {
    unsigned int id;
    const char *short_name, *long_name, *unit;
} metric_info[] = {
    {1, "gr_util", "graphics engine utilization", "%"},
    {2, "sm_util", "SM utilization", "%"},
    {3, "sm_occupancy", "SM occupancy", "%"},
    {4, "integer_util", "integer pipe utilization", "%"},
    {5, "any_tensor_util", "any tensor pipe utilization", "%"},
    {6, "dfma_tensor_util", "DFMA tensor pipe utilization", "%"},
    {7, "hmma_tensor_util", "HMMA tensor pipe utilization", "%"},
    {8, "dmma_tensor_util", "DMMA tensor pipe utilization", "%"},
    {9, "imma_tensor_util", "IMMA tensor pipe utilization", "%"},
    {10, "dram_bw_util", "DRAM bandwidth utilization", "%"},
    {11, "fp64_util", "FP64 pipe utilization", "%"},
    {12, "fp32_util", "FP32 pipe utilization", "%"},
    {13, "fp16_util", "FP16 pipe utilization", "%"},
    {20, "pcie_tx", "PCIe transmit rate", "MiB/s"},
    {21, "pcie_rx", "PCIe receive rate", "MiB/s"},
    {60, "nvlink_rx", "NVLink total receive rate", "MiB/s"},
    {61, "nvlink_tx", "NVLink total transmit rate", "MiB/s"},
};

static void fill_info(nvmlGpmMetric_t *m) {
    m->metricInfo.shortName = m->metricInfo.longName = m->metricInfo.unit = NULL;
    for (size_t i = 0; i < sizeof(metric_info) / sizeof(metric_info[0]); i++)
        if (metric_info[i].id == m->metricId) {
            m->metricInfo.shortName = (char *) metric_info[i].short_name;
            m->metricInfo.longName = (char *) metric_info[i].long_name;
            m->metricInfo.unit = (char *) metric_info[i].unit;
        }
}

API nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t device, nvmlGpmSupport_t *gpmSupport) {
    DEVICE_BEGIN(nvmlGpmQueryDeviceSupport, device, 0);
    if (!gpmSupport)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (gpmSupport->version != NVML_GPM_SUPPORT_VERSION)
        DONE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    gpmSupport->isSupportedDevice = G->gpm_supported;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *gpmSample) {
    nvmlReturn_t rc = fake_global_checks(FN_nvmlGpmSampleAlloc);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!gpmSample)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct nvmlGpmSample_st *s = calloc(1, sizeof(*s));
    if (!s)
        return NVML_ERROR_MEMORY;
    pthread_mutex_lock(&g_mu);
    s->next = g_samples;
    g_samples = s;
    pthread_mutex_unlock(&g_mu);
    *gpmSample = s;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t gpmSample) {
    nvmlReturn_t rc = fake_global_checks(FN_nvmlGpmSampleFree);
    if (rc != NVML_SUCCESS)
        return rc;
    rc = NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&g_mu);
    for (struct nvmlGpmSample_st **p = &g_samples; *p; p = &(*p)->next)
        if (*p == gpmSample) {
            struct nvmlGpmSample_st *s = *p;
            *p = s->next;
            free(s);
            rc = NVML_SUCCESS;
            break;
        }
    if (rc != NVML_SUCCESS && gpmSample && fake_strict())
        fake_strict_abort(FN_nvmlGpmSampleFree, "a GPM sample freed twice (or freed by the last nvmlShutdown)");
    pthread_mutex_unlock(&g_mu);
    return rc;
}

/* Records the GPU's gpm.<id> values, or a GPU instance's gpu.<i>.mig.<gi>.gpm.<id>. Caller holds g_mu. */
static void record(struct nvmlGpmSample_st *s, const call_ctx *c, const fake_gi *gi) {
    s->taken = 1;
    s->slot = c->slot;
    if (!gi) {
        s->gpu_instance = FAKE_NO_INSTANCE;
        memcpy(s->value, c->g->gpm, sizeof(s->value));
        memcpy(s->set, c->g->gpm_set, sizeof(s->set));
        return;
    }
    s->gpu_instance = gi->id;
    memset(s->set, 0, sizeof(s->set));
    for (unsigned int i = 0; i < gi->n_gpm; i++) {
        s->value[gi->gpm[i].id] = gi->gpm[i].value;
        s->set[gi->gpm[i].id] = 1;
    }
}

/* The header (13.x): "supports the device handle and MIG device handle"; a MIG device samples its GPU instance. */
API nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t device, nvmlGpmSample_t gpmSample) {
    DEVICE_BEGIN(nvmlGpmSampleGet, device, 0);
    if (!G->gpm_supported)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    pthread_mutex_lock(&g_mu);
    struct nvmlGpmSample_st *s = find_sample(FN_nvmlGpmSampleGet, gpmSample);
    if (s)
        record(s, &c_, c_.mig >= 0 ? &G->gi[G->mig[c_.mig].gi] : NULL);
    pthread_mutex_unlock(&g_mu);
    DONE(s ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT);
}

/* A GPU instance by id on its parent GPU. Not in MIG mode: NOT_SUPPORTED; an id without an instance:
 * INVALID_ARGUMENT (the header only says "nonzero"). */
API nvmlReturn_t nvmlGpmMigSampleGet(nvmlDevice_t device, unsigned int gpuInstanceId, nvmlGpmSample_t gpmSample) {
    DEVICE_BEGIN(nvmlGpmMigSampleGet, device, 0);
    if (c_.mig >= 0)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!G->gpm_supported || !G->mig_mode)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    const fake_gi *gi = fake_mig_gi_by_id(G, gpuInstanceId);
    if (!gi)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    pthread_mutex_lock(&g_mu);
    struct nvmlGpmSample_st *s = find_sample(FN_nvmlGpmMigSampleGet, gpmSample);
    if (s)
        record(s, &c_, gi);
    pthread_mutex_unlock(&g_mu);
    DONE(s ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT);
}

API nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *metricsGet) {
    call_ctx c;
    nvmlReturn_t rc = fake_enter(&c, 0);
    if (rc == NVML_ERROR_UNINITIALIZED && fake_strict())
        fake_strict_abort(FN_nvmlGpmMetricsGet, "GPM samples used after the last nvmlShutdown freed them");
    if (rc != NVML_SUCCESS)
        return rc;
    if (!metricsGet)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    if (metricsGet->version != NVML_GPM_METRICS_GET_VERSION)
        return fake_leave(&c, NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    /* The driver's own NVML_GPM_METRIC_MAX bounds one call (98 up to 12.2, 210 in 12.9, 333 in 13.3). */
    if (metricsGet->numMetrics > fake_gpm_metric_max(c.s))
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);

    /* The GPU's knobs apply (lost, latency, ...): the samples say which GPU this is about. */
    pthread_mutex_lock(&g_mu);
    struct nvmlGpmSample_st *s1 = find_sample(FN_nvmlGpmMetricsGet, metricsGet->sample1),
                           *s2 = find_sample(FN_nvmlGpmMetricsGet, metricsGet->sample2);
    int ok = s1 && s2 && s1->taken && s2->taken && s1->slot == s2->slot && s1->gpu_instance == s2->gpu_instance;
    unsigned int slot = ok ? s2->slot : 0;
    pthread_mutex_unlock(&g_mu);
    if (!ok)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    rc = fake_knobs(&c, FN_nvmlGpmMetricsGet, (int) slot, 1);
    if (rc != NVML_SUCCESS)
        return rc;

    pthread_mutex_lock(&g_mu);
    s2 = find_sample(FN_nvmlGpmMetricsGet, metricsGet->sample2); /* may have been freed during a latency_ms sleep */
    if (s2) {
        for (unsigned int i = 0; i < metricsGet->numMetrics; i++) {
            nvmlGpmMetric_t *m = &metricsGet->metrics[i];
            unsigned int id = m->metricId;
            int have = id < NVML_GPM_METRIC_MAX && s2->set[id];
            m->nvmlReturn = have ? NVML_SUCCESS : NVML_ERROR_NOT_SUPPORTED;
            m->value = have ? s2->value[id] : 0.0;
            fill_info(m);
        }
    }
    pthread_mutex_unlock(&g_mu);
    return fake_leave(&c, s2 ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT);
}
