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
#define FAKE_MAX_GI 8      /* GPU instances per GPU: A100/H100/H200 have 8 memory slices */
#define FAKE_MAX_GI_ID 14  /* GPU instance ids 0..14 (the driver numbers the memory-slice tree: 0, 1-2, 3-6, 7-14) */
#define FAKE_MAX_CI 7      /* compute instances per GPU instance (7 compute slices at most) */
#define FAKE_MAX_MIG 7     /* MIG devices per GPU: nvmlDeviceGetMaxMigDeviceCount in MIG mode */
#define FAKE_MIG_EPOCHS 4  /* handle banks per GPU for successive MIG topologies (see fake_live.mig_epoch) */
#define FAKE_MAX_MIG_PROCS 32
#define FAKE_MAX_MIG_GPM 32
#define FAKE_NO_INSTANCE 0xFFFFFFFFu /* gpuInstanceId / computeInstanceId of what is not MIG-attributed */

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
    X(nvmlDeviceGetGpuFabricInfoV) X(nvmlDeviceGetGpuFabricInfo) \
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
    X(nvmlDeviceRemoveGpu_v2) \
    X(nvmlDeviceIsMigDeviceHandle) X(nvmlDeviceGetMaxMigDeviceCount) X(nvmlDeviceGetMigDeviceHandleByIndex) \
    X(nvmlDeviceGetDeviceHandleFromMigDeviceHandle) X(nvmlDeviceGetGpuInstanceId) X(nvmlDeviceGetComputeInstanceId) \
    X(nvmlDeviceGetAttributes_v2) X(nvmlDeviceGetGpuInstanceProfileInfo) X(nvmlDeviceGetGpuInstanceProfileInfoV) \
    X(nvmlDeviceGetGpuInstances) X(nvmlDeviceGetGpuInstanceById) X(nvmlGpuInstanceGetInfo) \
    X(nvmlGpuInstanceGetComputeInstances) X(nvmlComputeInstanceGetInfo_v2) X(nvmlGpmMigSampleGet)

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

/* One GPU instance profile of a product's MIG table (mig.c; sources in native-bindings/README.md). */
typedef struct {
    unsigned int index;      /* NVML_GPU_INSTANCE_PROFILE_*: what nvmlDeviceGetGpuInstanceProfileInfo(V) takes */
    unsigned int id;         /* the profile id (nvidia-smi's "ID": 19, 20, 15, 14, 9, 5, 0) */
    const char *name;        /* short name, "1g.10gb"; NVML's name is "MIG " + this */
    unsigned int slices;     /* compute slices (sliceCount) */
    unsigned int instances;  /* instanceCount */
    unsigned int sm, ce, dec, enc, jpeg, ofa;
    unsigned long long memory_mib;
    unsigned int mem_slices; /* placement size, in memory slices */
    unsigned int starts;     /* bit s set: placement start s is allowed (nvidia-smi mig -lgipp) */
} mig_profile;

typedef struct {
    const char *key;           /* gpu.<i>.mig_profiles value */
    unsigned int sm_per_slice; /* SMs of a 1-slice compute instance inside a larger GPU instance */
    unsigned int n;
    mig_profile p[8];
} mig_product;

typedef struct {
    unsigned int slices, start; /* compute slices, first compute slice within the GPU instance */
    unsigned int profile;       /* NVML_COMPUTE_INSTANCE_PROFILE_* of that size */
} fake_ci;

typedef struct {
    unsigned int pid, ci;
    unsigned long long used_mib;
} fake_mig_proc;

typedef struct {
    unsigned int id;
    unsigned int line;             /* first line naming this GPU instance (reports name it) */
    char profile_name[32];         /* as written; resolved after parsing */
    unsigned int profile_line;
    const mig_profile *profile;    /* resolved; NULL until then */
    int start_set;
    unsigned int start;            /* memory slice */
    int total_set;
    unsigned long long memory_total_mib, memory_used_mib;
    unsigned int n_ci_req, ci_req[FAKE_MAX_CI], ci_line; /* compute_instances as written */
    unsigned int n_ci;
    fake_ci ci[FAKE_MAX_CI];
    unsigned int n_uuid, uuid_line;
    char uuid[FAKE_MAX_CI][96];    /* one per compute instance (= MIG device) */
    unsigned int n_procs, procs_line;
    fake_mig_proc procs[FAKE_MAX_MIG_PROCS];
    unsigned int n_gpm;
    struct {
        unsigned int id;
        double value;
    } gpm[FAKE_MAX_MIG_GPM];
} fake_gi;

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
    /* nvmlDeviceGetGpuFabricInfo(V): state (0..3), status (an nvmlReturn_t), clique, health mask and summary */
    unsigned int fabric_state, fabric_status, fabric_clique, fabric_health_mask, fabric_health_summary;
    char fabric_cluster_uuid[40];
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
    /* MIG: the product table (NULL: no MIG), GPU instances sorted by id once validated, and the MIG devices
     * (one per compute instance) in the order nvmlDeviceGetMigDeviceHandleByIndex numbers them. */
    char mig_profiles[24];
    const mig_product *mig_product;
    unsigned int n_gi;
    fake_gi gi[FAKE_MAX_GI];
    unsigned int n_mig;
    struct {
        unsigned char gi, ci; /* positions in gi[] and gi[].ci[] */
    } mig[FAKE_MAX_MIG];
    unsigned int mig_mode_line, mig_pending_line, mig_profiles_line, compute_processes_line, graphics_processes_line;
} gpu_cfg;

typedef struct {
    unsigned long long n;
    unsigned int gpu;
    unsigned long long type, data;
    unsigned int gpu_instance, compute_instance; /* FAKE_NO_INSTANCE unless the line says gi= / ci= */
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
    unsigned int mig_epoch; /* bumped when a reload changes this GPU's MIG topology: older MIG handles are stale */
    double energy_mj;     /* accumulated up to energy_t0_ns */
    uint64_t energy_t0_ns;
} gpu_live;

/* mig.c: product tables, the scenario's MIG keys and their validation, MIG handles. */
const mig_product *fake_mig_product_named(const char *key);
const mig_product *fake_mig_product_for(const gpu_cfg *g); /* gpu.<i>.mig_profiles, else by name */
const mig_profile *fake_mig_profile(const mig_product *p, const char *name);
void fake_mig_gi_defaults(fake_gi *gi, unsigned int id);
/* gpu.<i>.mig.<key>: `key` is what follows "mig."; 0, or -1 with the reason in err. */
int fake_mig_set_key(gpu_cfg *g, const char *key, const char *val, unsigned int line, char *err, size_t errn);
typedef void (*fake_report_fn)(void *ctx, unsigned int line, const char *msg);
/* After parsing: resolves and checks one GPU's MIG topology, dropping (and reporting) what the driver would refuse. */
void fake_mig_validate(gpu_cfg *g, unsigned int slot, fake_report_fn report, void *ctx);
int fake_mig_same_topology(const gpu_cfg *a, const gpu_cfg *b);
void fake_mig_default_uuid(char *out, size_t n, unsigned int slot, unsigned int gi, unsigned int ci);
void fake_mig_device_name(const gpu_cfg *g, unsigned int mig, char *out, size_t n);
const fake_gi *fake_mig_gi_by_id(const gpu_cfg *g, unsigned int id);
unsigned int fake_mig_ci_sm(const gpu_cfg *g, const fake_gi *gi, const fake_ci *ci);
int fake_mig_ci_profile_supported(const fake_gi *gi, unsigned int profile); /* NVML_COMPUTE_INSTANCE_PROFILE_* */

/* scenario.c */
scenario *scenario_parse(const char *path, const char *text, size_t len);
/* 1: scenario_parse reports nothing (the fake DCGM parses the same file; the fake NVML reports its lines). */
extern int fake_scenario_quiet;
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
    int mig;          /* the call's MIG device (index into g->mig), -1 for a GPU handle */
    int locked;
} call_ctx;

/* MIG handles: addresses in per-generation, per-GPU, per-topology tables, so a handle of a destroyed instance
 * or of an earlier init generation is told from a live one (strict mode aborts on it). */
struct nvmlGpuInstance_st {
    unsigned char unused;
};
struct nvmlComputeInstance_st {
    unsigned char unused;
};
extern struct nvmlDevice_st fake_mig_devices[2][FAKE_MAX_GPUS][FAKE_MIG_EPOCHS][FAKE_MAX_MIG];
extern struct nvmlGpuInstance_st fake_gpu_instances[2][FAKE_MAX_GPUS][FAKE_MIG_EPOCHS][FAKE_MAX_GI];
extern struct nvmlComputeInstance_st fake_compute_instances[2][FAKE_MAX_GPUS][FAKE_MIG_EPOCHS][FAKE_MAX_GI][FAKE_MAX_CI];
unsigned int fake_bank(void); /* the handle bank of this init generation */
nvmlDevice_t fake_mig_handle(unsigned int slot, unsigned int mig);
nvmlGpuInstance_t fake_gi_handle(unsigned int slot, unsigned int gi);
nvmlComputeInstance_t fake_ci_handle(unsigned int slot, unsigned int gi, unsigned int ci);
/* Which device calls answer for a MIG device handle; any other answers NOT_SUPPORTED for one. */
int fake_fn_serves_mig(fake_fn fn);
/* enter + GPU/compute instance handle check + the parent GPU's knobs; *gi / *ci get the positions. */
nvmlReturn_t fake_enter_gpu_instance(call_ctx *c, fake_fn fn, nvmlGpuInstance_t handle, unsigned int *gi);
nvmlReturn_t fake_enter_compute_instance(call_ctx *c, fake_fn fn, nvmlComputeInstance_t handle, unsigned int *gi,
                                         unsigned int *ci);

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
/* Any device handle (GPU or MIG): the GPU slot, and in *mig the MIG device (-1 for a GPU handle); -1 when not one
 * of ours or a MIG device that no longer exists (strict: aborts). Caller holds the state lock. */
int fake_device_of(const scenario *s, fake_fn fn, nvmlDevice_t dev, int *mig);
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
void fake_events_enqueue(unsigned int slot, unsigned long long type, unsigned long long data,
                         unsigned int gpu_instance, unsigned int compute_instance);
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
