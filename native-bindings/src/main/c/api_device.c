/*
 * Fake NVML: per-device queries (identity, memory, utilization, thermals, power, clocks, fans, PCIe,
 * ECC, NVLink, topology, processes, MIG mode). Each one reads the published scenario under the read
 * lock taken by DEVICE_BEGIN; the values and their meaning are in native-bindings/README.md.
 */
#include <string.h>

#include "fake_internal.h"

#define MIB (1024ULL * 1024ULL)

/* A getter with one out-parameter and no other arguments. */
#define SCALAR_GETTER(fn, T, expr)                      \
    API nvmlReturn_t fn(nvmlDevice_t device, T *out) {  \
        DEVICE_BEGIN(fn, device, 0);                    \
        if (!out)                                       \
            DONE(NVML_ERROR_INVALID_ARGUMENT);          \
        *out = (expr);                                  \
        DONE(NVML_SUCCESS);                             \
    }

#define STRING_GETTER(fn, member)                                               \
    API nvmlReturn_t fn(nvmlDevice_t device, char *buf, unsigned int length) {  \
        DEVICE_BEGIN(fn, device, 0);                                            \
        DONE(fake_copy_string(buf, length, G->member));                         \
    }

/* ---- identity ------------------------------------------------------------------------------------ */

/* A MIG device has its own name ("<GPU name> MIG 1g.10gb") and UUID ("MIG-..."). */
API nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    DEVICE_BEGIN(nvmlDeviceGetName, device, 0);
    char mig[192];
    if (c_.mig >= 0)
        fake_mig_device_name(G, (unsigned int) c_.mig, mig, sizeof(mig));
    DONE(fake_copy_string(name, length, c_.mig >= 0 ? mig : G->name));
}

API nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    DEVICE_BEGIN(nvmlDeviceGetUUID, device, 0);
    DONE(fake_copy_string(uuid, length, c_.mig >= 0 ? G->gi[G->mig[c_.mig].gi].uuid[G->mig[c_.mig].ci] : G->uuid));
}
STRING_GETTER(nvmlDeviceGetSerial, serial)
STRING_GETTER(nvmlDeviceGetVbiosVersion, vbios)
SCALAR_GETTER(nvmlDeviceGetMinorNumber, unsigned int, G->minor)
SCALAR_GETTER(nvmlDeviceGetArchitecture, nvmlDeviceArchitecture_t, G->architecture)
SCALAR_GETTER(nvmlDeviceGetBrand, nvmlBrandType_t, G->brand)

API nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    DEVICE_BEGIN(nvmlDeviceGetPciInfo_v3, device, 0);
    if (!pci)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    fake_fill_pci(pci, &G->pci, G->pci_device_id, G->pci_subsystem_id);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor) {
    DEVICE_BEGIN(nvmlDeviceGetCudaComputeCapability, device, 0);
    if (!major || !minor)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *major = G->cc_major;
    *minor = G->cc_minor;
    DONE(NVML_SUCCESS);
}

/* ---- memory -------------------------------------------------------------------------------------- */

static unsigned long long minus(unsigned long long a, unsigned long long b) {
    return a > b ? a - b : 0;
}

/* What the memory calls report: a MIG device its GPU instance's memory (no reserved part); a GPU in MIG mode the
 * whole GPU, used = its own memory_used_mib plus every instance's. */
static void memory_of(const call_ctx *c, unsigned long long *total, unsigned long long *reserved,
                      unsigned long long *used) {
    const gpu_cfg *g = c->g;
    if (c->mig >= 0) {
        const fake_gi *gi = &g->gi[g->mig[c->mig].gi];
        *total = gi->memory_total_mib * MIB;
        *reserved = 0;
        *used = gi->memory_used_mib * MIB;
        return;
    }
    unsigned long long used_mib = g->memory_used_mib;
    for (unsigned int i = 0; i < g->n_gi; i++)
        used_mib += g->gi[i].memory_used_mib;
    *total = g->memory_total_mib * MIB;
    *reserved = g->memory_reserved_mib * MIB;
    *used = used_mib * MIB;
}

API nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    DEVICE_BEGIN(nvmlDeviceGetMemoryInfo_v2, device, 0);
    if (!memory)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (memory->version != nvmlMemory_v2)
        DONE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    memory_of(&c_, &memory->total, &memory->reserved, &memory->used);
    memory->free = minus(memory->total, memory->reserved + memory->used);
    DONE(NVML_SUCCESS);
}

/* v1 has no `reserved`: the driver counts it as used, so free agrees with v2. */
API nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    DEVICE_BEGIN(nvmlDeviceGetMemoryInfo, device, 0);
    if (!memory)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    unsigned long long reserved;
    memory_of(&c_, &memory->total, &reserved, &memory->used);
    memory->used += reserved;
    memory->free = minus(memory->total, memory->used);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t device, nvmlBAR1Memory_t *bar1Memory) {
    DEVICE_BEGIN(nvmlDeviceGetBAR1MemoryInfo, device, 0);
    if (!bar1Memory)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    bar1Memory->bar1Total = G->bar1_total_mib * MIB;
    bar1Memory->bar1Used = G->bar1_used_mib * MIB;
    bar1Memory->bar1Free = minus(bar1Memory->bar1Total, bar1Memory->bar1Used);
    DONE(NVML_SUCCESS);
}

/* ---- utilization --------------------------------------------------------------------------------- */

API nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    DEVICE_BEGIN(nvmlDeviceGetUtilizationRates, device, 0);
    if (!utilization)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (G->mig_mode)
        DONE(NVML_ERROR_NOT_SUPPORTED); /* as on a real GPU in MIG mode (docs/nvml.md#memory-and-utilization) */
    utilization->gpu = G->util_gpu;
    utilization->memory = G->util_mem;
    DONE(NVML_SUCCESS);
}

#define SAMPLING_PERIOD_US 167000

API nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                                 unsigned int *samplingPeriodUs) {
    DEVICE_BEGIN(nvmlDeviceGetEncoderUtilization, device, 0);
    if (!utilization || !samplingPeriodUs)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *utilization = G->util_enc;
    *samplingPeriodUs = SAMPLING_PERIOD_US;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                                 unsigned int *samplingPeriodUs) {
    DEVICE_BEGIN(nvmlDeviceGetDecoderUtilization, device, 0);
    if (!utilization || !samplingPeriodUs)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *utilization = G->util_dec;
    *samplingPeriodUs = SAMPLING_PERIOD_US;
    DONE(NVML_SUCCESS);
}

/* ---- fabric -------------------------------------------------------------------------------------- */

/* The scenario's cluster UUID (hex digits, dashes ignored) as the 16 bytes NVML hands out. */
static void fabric_uuid(const gpu_cfg *g, unsigned char out[NVML_GPU_FABRIC_UUID_LEN]) {
    memset(out, 0, NVML_GPU_FABRIC_UUID_LEN);
    unsigned int n = 0;
    for (const char *c = g->fabric_cluster_uuid; *c && n < 2 * NVML_GPU_FABRIC_UUID_LEN; c++) {
        int v = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
              : *c >= 'A' && *c <= 'F' ? *c - 'A' + 10 : -1;
        if (v < 0)
            continue;
        out[n / 2] |= (unsigned char) (n % 2 ? v : v << 4);
        n++;
    }
}

#ifndef FAKE_DRIVER_535 /* 550+ (v3 with the health summary: 570+); the 535 build tests the fallback */
API nvmlReturn_t nvmlDeviceGetGpuFabricInfoV(nvmlDevice_t device, nvmlGpuFabricInfoV_t *info) {
    DEVICE_BEGIN(nvmlDeviceGetGpuFabricInfoV, device, 0);
    if (!info)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (info->version != nvmlGpuFabricInfo_v3 && info->version != nvmlGpuFabricInfo_v2)
        DONE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    fabric_uuid(G, info->clusterUuid);
    info->status = (nvmlReturn_t) G->fabric_status;
    info->cliqueId = G->fabric_clique;
    info->state = (nvmlGpuFabricState_t) G->fabric_state;
    info->healthMask = G->fabric_health_mask;
    if (info->version == nvmlGpuFabricInfo_v3)
        info->healthSummary = (unsigned char) G->fabric_health_summary;
    DONE(NVML_SUCCESS);
}
#endif

API nvmlReturn_t nvmlDeviceGetGpuFabricInfo(nvmlDevice_t device, nvmlGpuFabricInfo_t *info) {
    DEVICE_BEGIN(nvmlDeviceGetGpuFabricInfo, device, 0);
    if (!info)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    fabric_uuid(G, info->clusterUuid);
    info->status = (nvmlReturn_t) G->fabric_status;
    info->cliqueId = G->fabric_clique;
    info->state = (nvmlGpuFabricState_t) G->fabric_state;
    DONE(NVML_SUCCESS);
}

/* ---- temperature --------------------------------------------------------------------------------- */

#ifndef FAKE_DRIVER_535 /* 565+ only: the 535 build tests the fallback to nvmlDeviceGetTemperature */
API nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device, nvmlTemperature_t *temperature) {
    DEVICE_BEGIN(nvmlDeviceGetTemperatureV, device, 0);
    if (!temperature)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (temperature->version != nvmlTemperature_v1)
        DONE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    if (temperature->sensorType != 0)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    temperature->temperature = G->temp;
    DONE(NVML_SUCCESS);
}
#endif

API nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType,
                                          unsigned int *temp) {
    DEVICE_BEGIN(nvmlDeviceGetTemperature, device, 0);
    if (!temp || sensorType != 0)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *temp = (unsigned int) G->temp;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device, nvmlTemperatureThresholds_t thresholdType,
                                                   unsigned int *temp) {
    DEVICE_BEGIN(nvmlDeviceGetTemperatureThreshold, device, 0);
    if (!temp)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    switch (thresholdType) {
    case 0: *temp = G->temp_shutdown; break;
    case 1: *temp = G->temp_slowdown; break;
    case 2: *temp = G->temp_mem_max; break;
    case 3: *temp = G->temp_gpu_max; break;
    case 4: case 5: case 6: case 7: DONE(NVML_ERROR_NOT_SUPPORTED); /* acoustic / GPS: not on an H100 */
    default: DONE(NVML_ERROR_INVALID_ARGUMENT);
    }
    DONE(NVML_SUCCESS);
}

/* ---- power --------------------------------------------------------------------------------------- */

SCALAR_GETTER(nvmlDeviceGetPowerUsage, unsigned int, G->power_mw)
SCALAR_GETTER(nvmlDeviceGetPowerManagementLimit, unsigned int, fake_power_limit(&c_))
SCALAR_GETTER(nvmlDeviceGetPowerManagementDefaultLimit, unsigned int, G->power_default_limit_mw)
SCALAR_GETTER(nvmlDeviceGetEnforcedPowerLimit, unsigned int, fake_enforced_limit(&c_))
SCALAR_GETTER(nvmlDeviceGetTotalEnergyConsumption, unsigned long long, fake_energy_mj(&c_))

API nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int *minLimit,
                                                              unsigned int *maxLimit) {
    DEVICE_BEGIN(nvmlDeviceGetPowerManagementLimitConstraints, device, 0);
    if (!minLimit || !maxLimit)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *minLimit = G->power_min_limit_mw;
    *maxLimit = G->power_max_limit_mw;
    DONE(NVML_SUCCESS);
}

/* ---- clocks -------------------------------------------------------------------------------------- */

API nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *clock) {
    DEVICE_BEGIN(nvmlDeviceGetClockInfo, device, 0);
    if (!clock || type >= CLK_COUNT)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *clock = G->clock[type];
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *clock) {
    DEVICE_BEGIN(nvmlDeviceGetMaxClockInfo, device, 0);
    if (!clock || type >= CLK_COUNT)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *clock = G->max_clock[type];
    DONE(NVML_SUCCESS);
}

SCALAR_GETTER(nvmlDeviceGetCurrentClocksEventReasons, unsigned long long, G->clock_event_reasons)
SCALAR_GETTER(nvmlDeviceGetCurrentClocksThrottleReasons, unsigned long long, G->clock_event_reasons)
SCALAR_GETTER(nvmlDeviceGetSupportedClocksEventReasons, unsigned long long, G->supported_clock_event_reasons)
SCALAR_GETTER(nvmlDeviceGetSupportedClocksThrottleReasons, unsigned long long, G->supported_clock_event_reasons)
SCALAR_GETTER(nvmlDeviceGetPerformanceState, nvmlPstates_t, G->pstate)

/* ---- fans ---------------------------------------------------------------------------------------- */

/* The header: NOT_SUPPORTED "if the device does not have a fan" (SXM boards). */
API nvmlReturn_t nvmlDeviceGetNumFans(nvmlDevice_t device, unsigned int *numFans) {
    DEVICE_BEGIN(nvmlDeviceGetNumFans, device, 0);
    if (!numFans)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (G->fans == 0)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    *numFans = G->fans;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetFanSpeed_v2(nvmlDevice_t device, unsigned int fan, unsigned int *speed) {
    DEVICE_BEGIN(nvmlDeviceGetFanSpeed_v2, device, 0);
    if (G->fans == 0)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    if (!speed || fan >= G->fans)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *speed = G->fan_speed;
    DONE(NVML_SUCCESS);
}

/* ---- PCIe ---------------------------------------------------------------------------------------- */

API nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, nvmlPcieUtilCounter_t counter, unsigned int *value) {
    DEVICE_BEGIN(nvmlDeviceGetPcieThroughput, device, 0);
    if (!value || counter > 1)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *value = counter == 0 ? G->pcie_tx_kbps : G->pcie_rx_kbps;
    DONE(NVML_SUCCESS);
}

SCALAR_GETTER(nvmlDeviceGetPcieReplayCounter, unsigned int, G->pcie_replay)
SCALAR_GETTER(nvmlDeviceGetCurrPcieLinkGeneration, unsigned int, G->pcie_gen)
SCALAR_GETTER(nvmlDeviceGetCurrPcieLinkWidth, unsigned int, G->pcie_width)
SCALAR_GETTER(nvmlDeviceGetMaxPcieLinkGeneration, unsigned int, G->pcie_gen_max)
SCALAR_GETTER(nvmlDeviceGetMaxPcieLinkWidth, unsigned int, G->pcie_width_max)

/* ---- ECC and memory health ----------------------------------------------------------------------- */

API nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, nvmlEnableState_t *current, nvmlEnableState_t *pending) {
    DEVICE_BEGIN(nvmlDeviceGetEccMode, device, 0);
    if (!current || !pending)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *current = G->ecc_mode;
    *pending = G->ecc_pending;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, nvmlMemoryErrorType_t errorType,
                                             nvmlEccCounterType_t counterType, unsigned long long *eccCounts) {
    DEVICE_BEGIN(nvmlDeviceGetTotalEccErrors, device, 0);
    if (!eccCounts || errorType > 1 || counterType > 1)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!G->ecc_mode)
        DONE(NVML_ERROR_NOT_SUPPORTED); /* counts need ECC enabled (docs/nvml.md#ecc-and-memory-repair) */
    /* ECC_SBE_VOL, ECC_DBE_VOL, ECC_SBE_AGG, ECC_DBE_AGG */
    *eccCounts = fake_ecc(&c_, (int) (counterType * 2 + errorType));
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceClearEccErrorCounts(nvmlDevice_t device, nvmlEccCounterType_t counterType) {
    DEVICE_BEGIN(nvmlDeviceClearEccErrorCounts, device, 1);
    if (counterType > 1)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!G->ecc_mode)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    c_.live->ecc_cleared[counterType * 2] = 1;
    c_.live->ecc_cleared[counterType * 2 + 1] = 1;
    DONE(NVML_SUCCESS);
}

/* Synthetic but stable page addresses: a real one is a frame-buffer page, 4 KiB aligned. */
static nvmlReturn_t retired_pages(call_ctx *c, nvmlPageRetirementCause_t cause, unsigned int *pageCount,
                                  unsigned long long *addresses, unsigned long long *timestamps, int with_ts) {
    if (!pageCount || cause > 1)
        return NVML_ERROR_INVALID_ARGUMENT;
    unsigned int n = cause == 0 ? c->g->retired_sbe : c->g->retired_dbe;
    if (n == 0) {
        *pageCount = 0;
        return NVML_SUCCESS;
    }
    if (*pageCount < n || !addresses || (with_ts && !timestamps)) {
        *pageCount = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned int i = 0; i < n; i++) {
        addresses[i] = 0x7f000000ULL + ((unsigned long long) cause << 24) + (unsigned long long) i * 0x1000ULL;
        if (with_ts)
            timestamps[i] = 1700000000ULL + i; /* seconds since the epoch, fixed so repeated reads agree */
    }
    *pageCount = n;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, nvmlPageRetirementCause_t cause,
                                           unsigned int *pageCount, unsigned long long *addresses) {
    DEVICE_BEGIN(nvmlDeviceGetRetiredPages, device, 0);
    DONE(retired_pages(&c_, cause, pageCount, addresses, NULL, 0));
}

API nvmlReturn_t nvmlDeviceGetRetiredPages_v2(nvmlDevice_t device, nvmlPageRetirementCause_t cause,
                                              unsigned int *pageCount, unsigned long long *addresses,
                                              unsigned long long *timestamps) {
    DEVICE_BEGIN(nvmlDeviceGetRetiredPages_v2, device, 0);
    DONE(retired_pages(&c_, cause, pageCount, addresses, timestamps, 1));
}

SCALAR_GETTER(nvmlDeviceGetRetiredPagesPendingStatus, nvmlEnableState_t, G->retired_pending)

API nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrRows, unsigned int *uncRows,
                                           unsigned int *isPending, unsigned int *failureOccurred) {
    DEVICE_BEGIN(nvmlDeviceGetRemappedRows, device, 0);
    if (!corrRows || !uncRows || !isPending || !failureOccurred)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (G->mig_mode)
        DONE(NVML_ERROR_NOT_SUPPORTED); /* as on a real GPU in MIG mode (docs/nvml.md#ecc-and-memory-repair) */
    *corrRows = G->remap_correctable;
    *uncRows = G->remap_uncorrectable;
    *isPending = G->remap_pending;
    *failureOccurred = G->remap_failure;
    DONE(NVML_SUCCESS);
}

/* ---- NVLink -------------------------------------------------------------------------------------- */

#define NVSWITCH_PCI_DEVICE_ID 0x22A310DE

API nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link, nvmlEnableState_t *isActive) {
    DEVICE_BEGIN(nvmlDeviceGetNvLinkState, device, 0);
    if (!isActive || link >= G->nvlinks)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *isActive = G->link[link].active;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned int link, nvmlPciInfo_t *pci) {
    DEVICE_BEGIN(nvmlDeviceGetNvLinkRemotePciInfo_v2, device, 0);
    if (!pci || link >= G->nvlinks)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    fake_fill_pci(pci, &G->link[link].remote, NVSWITCH_PCI_DEVICE_ID, 0);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetNvLinkErrorCounter(nvmlDevice_t device, unsigned int link,
                                                 nvmlNvLinkErrorCounter_t counter, unsigned long long *counterValue) {
    DEVICE_BEGIN(nvmlDeviceGetNvLinkErrorCounter, device, 0);
    if (!counterValue || link >= G->nvlinks)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    const fake_link *l = &G->link[link];
    if ((unsigned int) counter < 32 && (G->nvlink_unsupported >> (unsigned int) counter) & 1u)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    switch (counter) {
    case 0: *counterValue = l->replay; break;
    case 1: *counterValue = l->recovery; break;
    case 2: *counterValue = l->crc_flit; break;
    case 3: *counterValue = l->crc_data; break;
    case 4: *counterValue = l->ecc_data; break;
    default: DONE(NVML_ERROR_INVALID_ARGUMENT);
    }
    DONE(NVML_SUCCESS);
}

/* ---- topology ------------------------------------------------------------------------------------ */

API nvmlReturn_t nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t device1, nvmlDevice_t device2,
                                                     nvmlGpuTopologyLevel_t *pathInfo) {
    DEVICE_BEGIN(nvmlDeviceGetTopologyCommonAncestor, device1, 0);
    int other = fake_slot_of(FN_nvmlDeviceGetTopologyCommonAncestor, device2);
    if (!pathInfo || other < 0)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!fake_slot_present(c_.s, (unsigned int) other) || c_.s->gpu[other].lost)
        DONE(NVML_ERROR_GPU_IS_LOST);
    unsigned int a = c_.slot, b = (unsigned int) other;
    short level = c_.s->topology[a][b];
    if (level < 0) /* INTERNAL, MULTIPLE (same PCIe switch tree of four), SYSTEM */
        level = a == b ? 0 : a / 4 == b / 4 ? 20 : 50;
    *pathInfo = (nvmlGpuTopologyLevel_t) level;
    DONE(NVML_SUCCESS);
}

/* NVLink peer-to-peer: OK when the two GPUs share an active NVLink, directly (a link of one ends at the other's
 * bus id) or through the same NVSwitch (an active link of each ends at the same bus id that is no GPU's);
 * NOT_SUPPORTED otherwise. The other capabilities (read, write, atomics, prop) are always OK. */
static int same_pci(const pci_addr *a, const pci_addr *b) {
    return a->domain == b->domain && a->bus == b->bus && a->device == b->device;
}

static int is_gpu_pci(const scenario *s, const pci_addr *p) {
    for (unsigned int i = 0; i < s->gpus; i++)
        if (same_pci(&s->gpu[i].pci, p))
            return 1;
    return 0;
}

static int nvlink_peers(const scenario *s, unsigned int a, unsigned int b) {
    const gpu_cfg *ga = &s->gpu[a], *gb = &s->gpu[b];
    for (unsigned int la = 0; la < ga->nvlinks; la++) {
        if (!ga->link[la].active)
            continue;
        if (same_pci(&ga->link[la].remote, &gb->pci))
            return 1;
        if (is_gpu_pci(s, &ga->link[la].remote))
            continue;
        for (unsigned int lb = 0; lb < gb->nvlinks; lb++)
            if (gb->link[lb].active && same_pci(&gb->link[lb].remote, &ga->link[la].remote))
                return 1;
    }
    for (unsigned int lb = 0; lb < gb->nvlinks; lb++)
        if (gb->link[lb].active && same_pci(&gb->link[lb].remote, &ga->pci))
            return 1;
    return 0;
}

API nvmlReturn_t nvmlDeviceGetP2PStatus(nvmlDevice_t device1, nvmlDevice_t device2, nvmlGpuP2PCapsIndex_t p2pIndex,
                                        nvmlGpuP2PStatus_t *p2pStatus) {
    DEVICE_BEGIN(nvmlDeviceGetP2PStatus, device1, 0);
    int other = fake_slot_of(FN_nvmlDeviceGetP2PStatus, device2);
    if (!p2pStatus || other < 0 || p2pIndex > NVML_P2P_CAPS_INDEX_UNKNOWN)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!fake_slot_present(c_.s, (unsigned int) other) || c_.s->gpu[other].lost)
        DONE(NVML_ERROR_GPU_IS_LOST);
    if (p2pIndex == NVML_P2P_CAPS_INDEX_UNKNOWN)
        *p2pStatus = NVML_P2P_STATUS_UNKNOWN;
    else if (p2pIndex != NVML_P2P_CAPS_INDEX_NVLINK || c_.slot == (unsigned int) other)
        *p2pStatus = NVML_P2P_STATUS_OK;
    else
        *p2pStatus = nvlink_peers(c_.s, c_.slot, (unsigned int) other) ? NVML_P2P_STATUS_OK : NVML_P2P_STATUS_NOT_SUPPORTED;
    DONE(NVML_SUCCESS);
}

/* ---- processes ----------------------------------------------------------------------------------- */

/* A process as the driver lists it; outside MIG its instance ids are FAKE_NO_INSTANCE. */
typedef struct {
    unsigned int pid, gi, ci;
    unsigned long long used_mib;
} listed_proc;

/* Writes `stride` bytes per entry: a prefix of the 32-byte nvmlProcessDetail_v1_t, which is exactly the
 * 16-byte v1, the 24-byte v2/v3 and the 32-byte 535.43-535.86 layouts. */
static nvmlReturn_t write_processes(const listed_proc *p, unsigned int n, unsigned int *count, void *infos,
                                    unsigned int stride) {
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (n == 0) {
        *count = 0;
        return NVML_SUCCESS;
    }
    if (*count < n || !infos) {
        *count = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned int i = 0; i < n; i++) {
        nvmlProcessDetail_v1_t d;
        memset(&d, 0, sizeof(d));
        d.pid = p[i].pid;
        d.usedGpuMemory = p[i].used_mib * MIB;
        d.gpuInstanceId = p[i].gi;
        d.computeInstanceId = p[i].ci;
        memcpy((char *) infos + (size_t) i * stride, &d, stride);
    }
    *count = n;
    return NVML_SUCCESS;
}

/* Compute processes the call's handle sees: a MIG device those of its compute instance; a GPU in MIG mode every
 * instance's (with their ids); else the GPU's own. Graphics processes: none in MIG mode. Returns the count. */
static unsigned int list_processes(const call_ctx *c, int graphics, listed_proc *out, unsigned int max) {
    const gpu_cfg *g = c->g;
    unsigned int n = 0;
    if (c->mig < 0 && !g->mig_mode) {
        const proc_list *l = graphics ? &g->graphics : &g->compute;
        for (unsigned int i = 0; i < l->count && n < max; i++)
            out[n++] = (listed_proc){l->p[i].pid, FAKE_NO_INSTANCE, FAKE_NO_INSTANCE, l->p[i].used_mib};
        return n;
    }
    if (graphics)
        return 0;
    for (unsigned int i = 0; i < g->n_gi; i++) {
        const fake_gi *gi = &g->gi[i];
        for (unsigned int k = 0; k < gi->n_procs && n < max; k++) {
            const fake_mig_proc *p = &gi->procs[k];
            if (c->mig >= 0 && (g->mig[c->mig].gi != i || g->mig[c->mig].ci != p->ci))
                continue;
            out[n++] = (listed_proc){p->pid, gi->id, p->ci, p->used_mib};
        }
    }
    return n;
}

#define MAX_LISTED (2 * FAKE_MAX_PROCS + FAKE_MAX_GI * FAKE_MAX_MIG_PROCS)

API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                         nvmlProcessInfo_t *infos) {
    DEVICE_BEGIN(nvmlDeviceGetComputeRunningProcesses_v3, device, 0);
    listed_proc all[MAX_LISTED];
    unsigned int n = list_processes(&c_, 0, all, MAX_LISTED);
    DONE(write_processes(all, n, infoCount, infos, c_.s->process_stride));
}

API nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                          nvmlProcessInfo_t *infos) {
    DEVICE_BEGIN(nvmlDeviceGetGraphicsRunningProcesses_v3, device, 0);
    listed_proc all[MAX_LISTED];
    unsigned int n = list_processes(&c_, 1, all, MAX_LISTED);
    DONE(write_processes(all, n, infoCount, infos, c_.s->process_stride));
}

API nvmlReturn_t nvmlDeviceGetRunningProcessDetailList(nvmlDevice_t device, nvmlProcessDetailList_t *plist) {
    DEVICE_BEGIN(nvmlDeviceGetRunningProcessDetailList, device, 0);
    if (!plist)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (plist->version != nvmlProcessDetailList_v1)
        DONE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    listed_proc all[2 * MAX_LISTED];
    unsigned int n = 0;
    switch (plist->mode) {
    case 0: /* compute */
    case 3: /* all */
        n = list_processes(&c_, 0, all, MAX_LISTED);
        if (plist->mode == 0)
            break;
        /* fall through */
    case 1: /* graphics */
        n += list_processes(&c_, 1, all + n, MAX_LISTED);
        break;
    case 2: /* MPS: the fake runs no MPS server */
        break;
    default:
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    }
    DONE(write_processes(all, n, &plist->numProcArrayEntries, plist->procArray, sizeof(nvmlProcessDetail_v1_t)));
}

/* ---- MIG mode (the rest of MIG is in api_mig.c) --------------------------------------------------- */

API nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode) {
    DEVICE_BEGIN(nvmlDeviceGetMigMode, device, 0);
    if (!currentMode || !pendingMode)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!G->mig_product)
        DONE(NVML_ERROR_NOT_SUPPORTED); /* the header: "if device doesn't support MIG mode" */
    *currentMode = G->mig_mode;
    *pendingMode = G->mig_pending;
    DONE(NVML_SUCCESS);
}
