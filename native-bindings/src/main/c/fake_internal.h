/*
 * Internal state of the fake NVML driver, shared by its translation units (none of this is exported).
 *
 * Two kinds of state:
 *  - `scenario`: what the scenario file says (defaults + file). Immutable once published; a reload
 *    parses a fresh one and swaps the pointer under the write lock.
 *  - `gpu_live`: what survives reloads: writes made through control calls, removed GPUs, energy
 *    counters. Changed only under the write lock.
 * Readers hold the read lock for the whole body of an API call and never call out while holding it,
 * except into the events and GPM modules (lock order: state -> events, state -> gpm).
 */
#ifndef FAKE_NVML_INTERNAL_H
#define FAKE_NVML_INTERNAL_H

#include <stdint.h>
#include <pthread.h>
#include "nvml_abi.h"

#define API __attribute__((visibility("default")))

#define FAKE_MAX_GPUS 64
#define FAKE_MAX_LINKS NVML_NVLINK_MAX_LINKS
#define FAKE_MAX_PROCS 128
#define FAKE_MAX_FIELD_OVERRIDES 32
#define FAKE_EVENT_QUEUE 1024

/* Every exported function, so scenario keys can name them (latency_ms.<fn>, error.<fn>, unsupported.<fn>). */
#define FAKE_FUNCTIONS(X) \
    X(nvmlInit_v2) X(nvmlInitWithFlags) X(nvmlShutdown) X(nvmlErrorString) X(nvmlSystemGetDriverVersion) \
    X(nvmlSystemGetNVMLVersion) X(nvmlSystemGetCudaDriverVersion_v2) X(nvmlSystemGetCudaDriverVersion) \
    X(nvmlDeviceGetCount_v2) X(nvmlDeviceGetHandleByIndex_v2) X(nvmlDeviceGetHandleByUUID) \
    X(nvmlDeviceGetHandleByPciBusId_v2) X(nvmlDeviceGetIndex) \
    X(nvmlDeviceGetName) X(nvmlDeviceGetUUID) X(nvmlDeviceGetSerial) X(nvmlDeviceGetMinorNumber) \
    X(nvmlDeviceGetPciInfo_v3) X(nvmlDeviceGetArchitecture) X(nvmlDeviceGetCudaComputeCapability) \
    X(nvmlDeviceGetVbiosVersion) X(nvmlDeviceGetBrand) \
    X(nvmlDeviceGetMemoryInfo_v2) X(nvmlDeviceGetMemoryInfo) X(nvmlDeviceGetBAR1MemoryInfo) \
    X(nvmlDeviceGetUtilizationRates) X(nvmlDeviceGetEncoderUtilization) X(nvmlDeviceGetDecoderUtilization) \
    X(nvmlDeviceGetTemperatureV) X(nvmlDeviceGetTemperature) X(nvmlDeviceGetTemperatureThreshold) \
    X(nvmlDeviceGetPowerUsage) X(nvmlDeviceGetPowerManagementLimit) X(nvmlDeviceGetPowerManagementDefaultLimit) \
    X(nvmlDeviceGetEnforcedPowerLimit) X(nvmlDeviceGetPowerManagementLimitConstraints) \
    X(nvmlDeviceGetTotalEnergyConsumption) \
    X(nvmlDeviceGetClockInfo) X(nvmlDeviceGetMaxClockInfo) X(nvmlDeviceGetCurrentClocksEventReasons) \
    X(nvmlDeviceGetCurrentClocksThrottleReasons) X(nvmlDeviceGetSupportedClocksEventReasons) \
    X(nvmlDeviceGetSupportedClocksThrottleReasons) X(nvmlDeviceGetPerformanceState) \
    X(nvmlDeviceGetNumFans) X(nvmlDeviceGetFanSpeed_v2) \
    X(nvmlDeviceGetPcieThroughput) X(nvmlDeviceGetPcieReplayCounter) X(nvmlDeviceGetCurrPcieLinkGeneration) \
    X(nvmlDeviceGetCurrPcieLinkWidth) X(nvmlDeviceGetMaxPcieLinkGeneration) X(nvmlDeviceGetMaxPcieLinkWidth) \
    X(nvmlDeviceGetEccMode) X(nvmlDeviceGetTotalEccErrors) X(nvmlDeviceGetRetiredPages) \
    X(nvmlDeviceGetRetiredPages_v2) X(nvmlDeviceGetRetiredPagesPendingStatus) X(nvmlDeviceGetRemappedRows) \
    X(nvmlDeviceClearEccErrorCounts) \
    X(nvmlDeviceGetNvLinkState) X(nvmlDeviceGetNvLinkRemotePciInfo_v2) X(nvmlDeviceGetNvLinkErrorCounter) \
    X(nvmlDeviceGetTopologyCommonAncestor) X(nvmlDeviceGetP2PStatus) \
    X(nvmlDeviceGetComputeRunningProcesses_v3) X(nvmlDeviceGetGraphicsRunningProcesses_v3) \
    X(nvmlDeviceGetRunningProcessDetailList) \
    X(nvmlDeviceGetFieldValues) \
    X(nvmlDeviceGetMigMode) X(nvmlGpmQueryDeviceSupport) X(nvmlGpmSampleAlloc) X(nvmlGpmSampleFree) \
    X(nvmlGpmSampleGet) X(nvmlGpmMetricsGet) \
    X(nvmlEventSetCreate) X(nvmlDeviceGetSupportedEventTypes) X(nvmlDeviceRegisterEvents) \
    X(nvmlEventSetWait_v2) X(nvmlEventSetFree) \
    X(nvmlDeviceGetPersistenceMode) X(nvmlDeviceSetPersistenceMode) X(nvmlDeviceSetPowerManagementLimit_v2) \
    X(nvmlDeviceSetPowerManagementLimit) X(nvmlDeviceResetApplicationsClocks) X(nvmlDeviceResetGpuLockedClocks) \
    X(nvmlDeviceResetMemoryLockedClocks) X(nvmlDeviceQueryDrainState) X(nvmlDeviceModifyDrainState) \
    X(nvmlDeviceRemoveGpu_v2)

#define FAKE_FN_ENUM(name) FN_##name,
typedef enum { FAKE_FUNCTIONS(FAKE_FN_ENUM) FN_COUNT } fake_fn;
#undef FAKE_FN_ENUM
extern const char *const fake_fn_names[FN_COUNT];

/* Per-function knobs; -1 means "not set here" so a GPU's value can override the global one. */
typedef struct {
    int64_t latency_ms[FN_COUNT];
    int64_t error[FN_COUNT];
    int8_t unsupported[FN_COUNT];
} fn_knobs;

typedef struct {
    unsigned int domain, bus, device;
} pci_addr;

typedef struct {
    unsigned int pid;
    unsigned long long used_mib;
} fake_proc;

typedef struct {
    unsigned int active;
    pci_addr remote;
    unsigned long long crc_flit, crc_data, replay, recovery, ecc_data;
} fake_link;

typedef struct {
    unsigned int count;
    fake_proc p[FAKE_MAX_PROCS];
} proc_list;

enum { CLK_GRAPHICS, CLK_SM, CLK_MEM, CLK_VIDEO, CLK_COUNT };
enum { ECC_SBE_VOL, ECC_DBE_VOL, ECC_SBE_AGG, ECC_DBE_AGG, ECC_COUNT };

typedef struct {
    char name[96], uuid[96], serial[30], vbios[32];
    pci_addr pci;
    unsigned int pci_device_id, pci_subsystem_id, minor, architecture, brand;
    int cc_major, cc_minor;
    unsigned long long memory_total_mib, memory_used_mib, memory_reserved_mib, bar1_total_mib, bar1_used_mib;
    unsigned int util_gpu, util_mem, util_enc, util_dec;
    int temp;
    unsigned int mem_temp, temp_shutdown, temp_slowdown, temp_mem_max, temp_gpu_max;
    unsigned int power_mw, power_limit_mw, power_default_limit_mw, power_enforced_limit_mw, power_min_limit_mw,
        power_max_limit_mw;
    int power_enforced_set;
    unsigned long long energy_mj;
    unsigned int clock[CLK_COUNT], max_clock[CLK_COUNT];
    unsigned long long clock_event_reasons, supported_clock_event_reasons;
    unsigned int pstate, fans, fan_speed;
    unsigned int pcie_tx_kbps, pcie_rx_kbps, pcie_replay, pcie_gen, pcie_width, pcie_gen_max, pcie_width_max;
    unsigned int ecc_mode, ecc_pending;
    unsigned long long ecc[ECC_COUNT];
    unsigned int retired_sbe, retired_dbe, retired_pending;
    unsigned int remap_correctable, remap_uncorrectable, remap_pending, remap_failure;
    unsigned int nvlinks;
    fake_link link[FAKE_MAX_LINKS];
    unsigned long long nvlink_tx_kib, nvlink_rx_kib;
    proc_list compute, graphics;
    unsigned int recovery_action, mig_mode, mig_pending, gpm_supported;
    double gpm[NVML_GPM_METRIC_MAX];
    unsigned char gpm_set[NVML_GPM_METRIC_MAX];
    unsigned int persistence_mode, drain, no_permission, lost;
    unsigned int nvlink_unsupported; /* bit k: nvmlDeviceGetNvLinkErrorCounter answers NOT_SUPPORTED for counter k */
    unsigned long long supported_events;
    unsigned int n_fields;
    struct {
        unsigned int id;
        unsigned long long value;
    } field[FAKE_MAX_FIELD_OVERRIDES];
    unsigned int n_unsupported_fields;
    unsigned int unsupported_field[FAKE_MAX_FIELD_OVERRIDES]; /* ids answering NOT_SUPPORTED on this GPU */
    unsigned int field_error_code[FAKE_MAX_FIELD_OVERRIDES];  /* what each of those ids answers (NOT_SUPPORTED unless field_error.<id>) */
    fn_knobs fn;
} gpu_cfg;

typedef struct {
    unsigned long long n;
    unsigned int gpu;
    unsigned long long type, data;
} fake_event;

typedef struct scenario {
    unsigned int gpus;
    char driver_version[80], nvml_version[80];
    int cuda_version;
    unsigned int init_error, process_stride;
    unsigned int strict;         /* misuse a real driver punishes with a crash aborts the process */
    char holders[256];           /* directory holding <pid> while this process has NVML initialised */
    char marker[80];             /* written to <scenario>.applied once this scenario is in force */
    unsigned int fields_max;     /* field ids above this answer INVALID_ARGUMENT (newer than the driver) */
    unsigned int gpm_metric_max; /* most metrics one nvmlGpmMetricsGet may ask for */
    fn_knobs fn;
    short topology[FAKE_MAX_GPUS][FAKE_MAX_GPUS]; /* -1: default */
    fake_event *events;                           /* sorted by n */
    size_t n_events;
    gpu_cfg gpu[FAKE_MAX_GPUS];
} scenario;

typedef struct {
    int has_persistence, has_power_limit, has_drain;
    unsigned int persistence, power_limit, drain;
    int ecc_cleared[ECC_COUNT];
    int removed;
    double energy_mj;     /* accumulated up to energy_t0_ns */
    uint64_t energy_t0_ns;
} gpu_live;

/* scenario.c */
scenario *scenario_parse(const char *path, const char *text, size_t len);
void scenario_free(scenario *s);
unsigned int fake_fields_max(const scenario *s);
unsigned int fake_gpm_metric_max(const scenario *s);
int fake_parse_pci(const char *text, pci_addr *out);
void fake_format_pci(const pci_addr *a, char *busId, size_t n);

/* runtime.c: lock, init count, reload watcher, per-call checks. */
struct nvmlDevice_st {
    unsigned char unused;
};
/* Two banks: handles of one init generation (first nvmlInit to last nvmlShutdown) point into one bank, the
 * next generation's into the other, so strict mode can tell a stale handle from a live one. */
extern struct nvmlDevice_st fake_devices[2][FAKE_MAX_GPUS];
nvmlDevice_t fake_handle(unsigned int slot);
extern gpu_live fake_live[FAKE_MAX_GPUS];

typedef struct {
    const scenario *s;
    const gpu_cfg *g; /* the call's GPU, when it has one */
    gpu_live *live;
    unsigned int slot;
    int locked;
} call_ctx;

int fake_initialized(void);
int fake_strict(void);
/* Strict mode: what a real driver would crash on ends the process here, naming the call. */
__attribute__((noreturn)) void fake_strict_abort(fake_fn fn, const char *what);
nvmlReturn_t fake_init(fake_fn fn);
nvmlReturn_t fake_shutdown(void);
void fake_ensure_loaded(void);
/* Checks init and takes the state lock (write lock when `write`). */
nvmlReturn_t fake_enter(call_ctx *c, int write);
/* Takes the read lock without requiring init (nvmlSystemGetNVMLVersion). */
nvmlReturn_t fake_enter_uninitialized(call_ctx *c);
/* Applies latency (sleeping unlocked), then GPU_IS_LOST (slot >= 0 and check_lost), error.<fn> and
 * unsupported.<fn>. On failure the lock is released and the code returned. */
nvmlReturn_t fake_knobs(call_ctx *c, fake_fn fn, int slot, int check_lost);
/* enter + handle check + knobs: the prologue of every call that takes an nvmlDevice_t. */
nvmlReturn_t fake_enter_device(call_ctx *c, fake_fn fn, nvmlDevice_t dev, int write);
nvmlReturn_t fake_leave(call_ctx *c, nvmlReturn_t rc);
int fake_slot_of(fake_fn fn, nvmlDevice_t dev); /* -1 when not one of ours; strict: aborts on a stale handle */
int fake_slot_present(const scenario *s, unsigned int slot);
int fake_visible_slot(const scenario *s, unsigned int index); /* index -> slot, -1 if none */
unsigned int fake_visible_count(const scenario *s);
unsigned int fake_visible_index(const scenario *s, unsigned int slot);
uint64_t fake_now_ns(void);
long long fake_epoch_us(void);
void fake_sleep_ms(int64_t ms);

/* effective values: file value unless a control call changed it since */
unsigned int fake_persistence(const call_ctx *c);
unsigned int fake_power_limit(const call_ctx *c);
unsigned int fake_enforced_limit(const call_ctx *c);
unsigned int fake_drain(const gpu_cfg *g, const gpu_live *l);
unsigned long long fake_ecc(const call_ctx *c, int which);
unsigned long long fake_energy_mj(const call_ctx *c);

/* events.c */
void fake_events_enqueue(unsigned int slot, unsigned long long type, unsigned long long data);
void fake_events_shutdown(void);
int fake_events_waiting(void); /* threads blocked in nvmlEventSetWait_v2 now */
int fake_event_fired(unsigned long long n);
void fake_event_mark_fired(unsigned long long n);

/* gpm.c */
void fake_gpm_shutdown(void);

/* shared helpers for API files */
nvmlReturn_t fake_copy_string(char *dst, unsigned int length, const char *src);
void fake_fill_pci(nvmlPciInfo_t *pci, const pci_addr *a, unsigned int device_id, unsigned int subsystem_id);

/* Prologue/epilogue for device calls: every return after DEVICE_BEGIN must go through DONE. */
#define DEVICE_BEGIN(fn, dev, write)                                                 \
    call_ctx c_;                                                                     \
    do {                                                                             \
        nvmlReturn_t r_ = fake_enter_device(&c_, FN_##fn, (dev), (write));           \
        if (r_ != NVML_SUCCESS)                                                      \
            return r_;                                                               \
    } while (0);                                                                     \
    const gpu_cfg *G __attribute__((unused)) = c_.g
#define DONE(rc) return fake_leave(&c_, (rc))

/* Init check plus the global latency/unsupported/error knobs for fn, for calls that take no device. */
nvmlReturn_t fake_global_checks(fake_fn fn);

#endif
