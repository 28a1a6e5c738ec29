/*
 * The slice of NVML's ABI the fake driver implements, declared from docs/nvml.md and the layouts of
 * NVIDIA's headers (src/test/resources/golden/layout_13.3.txt) instead of NVIDIA's header, so the fake builds on machines without one.
 * Type and member names match nvml.h, so tools/nvml_layout.c compiles against this file too (through a
 * one-line nvml.h that includes it); every size and offset is pinned below to the values gcc computes
 * from the 13.3 header.
 */
#ifndef FAKE_NVML_ABI_H
#define FAKE_NVML_ABI_H

#include <stddef.h>

typedef enum nvmlReturn_enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_ALREADY_INITIALIZED = 5,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_INSUFFICIENT_POWER = 8,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_IRQ_ISSUE = 11,
    NVML_ERROR_LIBRARY_NOT_FOUND = 12,
    NVML_ERROR_FUNCTION_NOT_FOUND = 13,
    NVML_ERROR_CORRUPTED_INFOROM = 14,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_RESET_REQUIRED = 16,
    NVML_ERROR_OPERATING_SYSTEM = 17,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
    NVML_ERROR_IN_USE = 19,
    NVML_ERROR_MEMORY = 20,
    NVML_ERROR_NO_DATA = 21,
    NVML_ERROR_VGPU_ECC_NOT_SUPPORTED = 22,
    NVML_ERROR_INSUFFICIENT_RESOURCES = 23,
    NVML_ERROR_FREQ_NOT_SUPPORTED = 24,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    NVML_ERROR_DEPRECATED = 26,
    NVML_ERROR_NOT_READY = 27,
    NVML_ERROR_GPU_NOT_FOUND = 28,
    NVML_ERROR_INVALID_STATE = 29,
    NVML_ERROR_RESET_TYPE_NOT_SUPPORTED = 30,
    NVML_ERROR_UNKNOWN = 999
} nvmlReturn_t;

/* Every NVML enum is passed as a 4-byte int; plain typedefs keep that explicit. */
typedef unsigned int nvmlEnableState_t;      /* DISABLED 0, ENABLED 1 */
typedef unsigned int nvmlBrandType_t;
typedef unsigned int nvmlDeviceArchitecture_t;
typedef unsigned int nvmlTemperatureSensors_t;
typedef unsigned int nvmlTemperatureThresholds_t;
typedef unsigned int nvmlClockType_t;
typedef unsigned int nvmlPstates_t;
typedef unsigned int nvmlPcieUtilCounter_t;
typedef unsigned int nvmlMemoryErrorType_t;
typedef unsigned int nvmlEccCounterType_t;
typedef unsigned int nvmlPageRetirementCause_t;
typedef unsigned int nvmlNvLinkErrorCounter_t;
typedef unsigned int nvmlGpuTopologyLevel_t;
typedef enum {
    NVML_P2P_CAPS_INDEX_READ = 0,
    NVML_P2P_CAPS_INDEX_WRITE,
    NVML_P2P_CAPS_INDEX_NVLINK,
    NVML_P2P_CAPS_INDEX_ATOMICS,
    NVML_P2P_CAPS_INDEX_PROP,
    NVML_P2P_CAPS_INDEX_UNKNOWN
} nvmlGpuP2PCapsIndex_t;
typedef enum {
    NVML_P2P_STATUS_OK = 0,
    NVML_P2P_STATUS_CHIPSET_NOT_SUPPORED,
    NVML_P2P_STATUS_GPU_NOT_SUPPORTED,
    NVML_P2P_STATUS_IOH_TOPOLOGY_NOT_SUPPORTED,
    NVML_P2P_STATUS_DISABLED_BY_REGKEY,
    NVML_P2P_STATUS_NOT_SUPPORTED,
    NVML_P2P_STATUS_UNKNOWN
} nvmlGpuP2PStatus_t;
typedef unsigned int nvmlValueType_t;
typedef unsigned int nvmlDetachGpuState_t;
typedef unsigned int nvmlPcieLinkState_t;
typedef unsigned int nvmlGpmMetricId_t;
typedef unsigned char nvmlPowerScopeType_t;

typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlEventSet_st *nvmlEventSet_t;
typedef struct nvmlGpmSample_st *nvmlGpmSample_t;
typedef struct nvmlGpuInstance_st *nvmlGpuInstance_t;
typedef struct nvmlComputeInstance_st *nvmlComputeInstance_t;

#define NVML_STRUCT_VERSION(data, ver) (unsigned int)(sizeof(nvml##data##_v##ver##_t) | ((ver) << 24U))

#define NVML_INIT_FLAG_NO_GPUS 1
#define NVML_INIT_FLAG_NO_ATTACH 2

#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE 16
#define NVML_NVLINK_MAX_LINKS 36
#define NVML_GPM_METRIC_MAX 333
#define NVML_GPM_METRICS_GET_VERSION 1
#define NVML_GPM_SUPPORT_VERSION 1
#define NVML_VALUE_NOT_AVAILABLE (-1)
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96

/* MIG (the 13.3 header's values; the 11.8 header stops GPU instance profiles at 1_SLICE_REV1, COUNT 8,
 * and compute instance profiles at 6_SLICE, COUNT 7). */
#define NVML_DEVICE_MIG_DISABLE 0x0
#define NVML_DEVICE_MIG_ENABLE 0x1
#define NVML_GPU_INSTANCE_PROFILE_1_SLICE 0x0
#define NVML_GPU_INSTANCE_PROFILE_2_SLICE 0x1
#define NVML_GPU_INSTANCE_PROFILE_3_SLICE 0x2
#define NVML_GPU_INSTANCE_PROFILE_4_SLICE 0x3
#define NVML_GPU_INSTANCE_PROFILE_7_SLICE 0x4
#define NVML_GPU_INSTANCE_PROFILE_8_SLICE 0x5
#define NVML_GPU_INSTANCE_PROFILE_6_SLICE 0x6
#define NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV1 0x7
#define NVML_GPU_INSTANCE_PROFILE_2_SLICE_REV1 0x8
#define NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV2 0x9
#define NVML_GPU_INSTANCE_PROFILE_COUNT 0x12
#define NVML_GPU_INSTANCE_PROFILE_CAPS_P2P 0x1
#define NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE 0x0
#define NVML_COMPUTE_INSTANCE_PROFILE_2_SLICE 0x1
#define NVML_COMPUTE_INSTANCE_PROFILE_3_SLICE 0x2
#define NVML_COMPUTE_INSTANCE_PROFILE_4_SLICE 0x3
#define NVML_COMPUTE_INSTANCE_PROFILE_7_SLICE 0x4
#define NVML_COMPUTE_INSTANCE_PROFILE_8_SLICE 0x5
#define NVML_COMPUTE_INSTANCE_PROFILE_6_SLICE 0x6
#define NVML_COMPUTE_INSTANCE_PROFILE_COUNT 0x9

typedef struct nvmlPciInfo_st {
    char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
} nvmlPciInfo_t;

typedef struct nvmlMemory_st {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

typedef struct nvmlMemory_v2_st {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;
#define nvmlMemory_v2 NVML_STRUCT_VERSION(Memory, 2)

typedef struct nvmlBAR1Memory_st {
    unsigned long long bar1Total;
    unsigned long long bar1Free;
    unsigned long long bar1Used;
} nvmlBAR1Memory_t;

typedef struct nvmlUtilization_st {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

typedef struct nvmlProcessInfo_v1_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

/* What _v3 writes on current drivers (24 bytes). */
typedef struct nvmlProcessInfo_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;
typedef nvmlProcessInfo_t nvmlProcessInfo_v2_t;

/* The 32-byte entry: GetRunningProcessDetailList, and what 535.43-535.86 wrote from _v3. */
typedef struct nvmlProcessDetail_v1_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
} nvmlProcessDetail_v1_t;

typedef struct nvmlProcessDetailList_v1_st {
    unsigned int version;
    unsigned int mode;
    unsigned int numProcArrayEntries;
    nvmlProcessDetail_v1_t *procArray;
} nvmlProcessDetailList_v1_t;
typedef nvmlProcessDetailList_v1_t nvmlProcessDetailList_t;
#define nvmlProcessDetailList_v1 NVML_STRUCT_VERSION(ProcessDetailList, 1)

typedef union nvmlValue_st {
    double dVal;
    int siVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    signed long long sllVal;
    unsigned short usVal;
} nvmlValue_t;

enum {
    NVML_VALUE_TYPE_DOUBLE = 0,
    NVML_VALUE_TYPE_UNSIGNED_INT = 1,
    NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
    NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
    NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
    NVML_VALUE_TYPE_SIGNED_INT = 5,
    NVML_VALUE_TYPE_UNSIGNED_SHORT = 6
};

typedef struct nvmlFieldValue_st {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    nvmlValueType_t valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct nvmlEventData_st {
    nvmlDevice_t device;
    unsigned long long eventType;
    unsigned long long eventData;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlEventData_t;

typedef struct nvmlGpmMetric_st {
    unsigned int metricId;
    nvmlReturn_t nvmlReturn;
    double value;
    struct {
        char *shortName;
        char *longName;
        char *unit;
    } metricInfo;
} nvmlGpmMetric_t;

/* The array length is the 13.3 header's; the fake reads and writes only numMetrics entries. */
typedef struct nvmlGpmMetricsGet_st {
    unsigned int version;
    unsigned int numMetrics;
    nvmlGpmSample_t sample1;
    nvmlGpmSample_t sample2;
    nvmlGpmMetric_t metrics[NVML_GPM_METRIC_MAX];
} nvmlGpmMetricsGet_t;

typedef struct nvmlGpmSupport_st {
    unsigned int version;
    unsigned int isSupportedDevice;
} nvmlGpmSupport_t;

typedef struct nvmlTemperature_v1_st {
    unsigned int version;
    nvmlTemperatureSensors_t sensorType;
    int temperature;
} nvmlTemperature_v1_t;
typedef nvmlTemperature_v1_t nvmlTemperature_t;
#define nvmlTemperature_v1 NVML_STRUCT_VERSION(Temperature, 1)

/* GPU fabric (NVSwitch systems, 525+; the V form with the health mask 550+, health summary 570+). */
#define NVML_GPU_FABRIC_UUID_LEN 16
typedef unsigned char nvmlGpuFabricState_t;
#define NVML_GPU_FABRIC_STATE_NOT_SUPPORTED 0
#define NVML_GPU_FABRIC_STATE_NOT_STARTED 1
#define NVML_GPU_FABRIC_STATE_IN_PROGRESS 2
#define NVML_GPU_FABRIC_STATE_COMPLETED 3
typedef struct nvmlGpuFabricInfo_st {
    unsigned char clusterUuid[NVML_GPU_FABRIC_UUID_LEN];
    nvmlReturn_t status;
    unsigned int cliqueId;
    nvmlGpuFabricState_t state;
} nvmlGpuFabricInfo_t;
typedef struct nvmlGpuFabricInfo_v2_st {
    unsigned int version;
    unsigned char clusterUuid[NVML_GPU_FABRIC_UUID_LEN];
    nvmlReturn_t status;
    unsigned int cliqueId;
    nvmlGpuFabricState_t state;
    unsigned int healthMask;
} nvmlGpuFabricInfo_v2_t;
typedef struct nvmlGpuFabricInfo_v3_st {
    unsigned int version;
    unsigned char clusterUuid[NVML_GPU_FABRIC_UUID_LEN];
    nvmlReturn_t status;
    unsigned int cliqueId;
    nvmlGpuFabricState_t state;
    unsigned int healthMask;
    unsigned char healthSummary;
} nvmlGpuFabricInfo_v3_t;
typedef nvmlGpuFabricInfo_v3_t nvmlGpuFabricInfoV_t;
#define nvmlGpuFabricInfo_v2 NVML_STRUCT_VERSION(GpuFabricInfo, 2)
#define nvmlGpuFabricInfo_v3 NVML_STRUCT_VERSION(GpuFabricInfo, 3)

typedef struct nvmlPowerValue_v2_st {
    unsigned int version;
    nvmlPowerScopeType_t powerScope;
    unsigned int powerValueMw;
} nvmlPowerValue_v2_t;
#define nvmlPowerValue_v2 NVML_STRUCT_VERSION(PowerValue, 2)

typedef struct nvmlGpuInstancePlacement_st {
    unsigned int start; /* first memory slice */
    unsigned int size;  /* memory slices */
} nvmlGpuInstancePlacement_t;

typedef struct nvmlGpuInstanceProfileInfo_st {
    unsigned int id;
    unsigned int isP2pSupported;
    unsigned int sliceCount;
    unsigned int instanceCount;
    unsigned int multiprocessorCount;
    unsigned int copyEngineCount;
    unsigned int decoderCount;
    unsigned int encoderCount;
    unsigned int jpegCount;
    unsigned int ofaCount;
    unsigned long long memorySizeMB;
} nvmlGpuInstanceProfileInfo_t;

typedef struct nvmlGpuInstanceProfileInfo_v2_st {
    unsigned int version;
    unsigned int id;
    unsigned int isP2pSupported;
    unsigned int sliceCount;
    unsigned int instanceCount;
    unsigned int multiprocessorCount;
    unsigned int copyEngineCount;
    unsigned int decoderCount;
    unsigned int encoderCount;
    unsigned int jpegCount;
    unsigned int ofaCount;
    unsigned long long memorySizeMB;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
} nvmlGpuInstanceProfileInfo_v2_t;
#define nvmlGpuInstanceProfileInfo_v2 NVML_STRUCT_VERSION(GpuInstanceProfileInfo, 2)

/* v3 (12.x headers on) drops isP2pSupported for a capability mask; the V call accepts v2 and v3. */
typedef struct nvmlGpuInstanceProfileInfo_v3_st {
    unsigned int version;
    unsigned int id;
    unsigned int sliceCount;
    unsigned int instanceCount;
    unsigned int multiprocessorCount;
    unsigned int copyEngineCount;
    unsigned int decoderCount;
    unsigned int encoderCount;
    unsigned int jpegCount;
    unsigned int ofaCount;
    unsigned long long memorySizeMB;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    unsigned int capabilities;
} nvmlGpuInstanceProfileInfo_v3_t;
#define nvmlGpuInstanceProfileInfo_v3 NVML_STRUCT_VERSION(GpuInstanceProfileInfo, 3)

typedef struct nvmlGpuInstanceInfo_st {
    nvmlDevice_t device;
    unsigned int id;
    unsigned int profileId;
    nvmlGpuInstancePlacement_t placement;
} nvmlGpuInstanceInfo_t;

typedef struct nvmlComputeInstancePlacement_st {
    unsigned int start; /* first compute slice within the GPU instance */
    unsigned int size;  /* compute slices */
} nvmlComputeInstancePlacement_t;

typedef struct nvmlComputeInstanceInfo_st {
    nvmlDevice_t device;
    nvmlGpuInstance_t gpuInstance;
    unsigned int id;
    unsigned int profileId;
    nvmlComputeInstancePlacement_t placement;
} nvmlComputeInstanceInfo_t;

typedef struct nvmlDeviceAttributes_st {
    unsigned int multiprocessorCount;
    unsigned int sharedCopyEngineCount;
    unsigned int sharedDecoderCount;
    unsigned int sharedEncoderCount;
    unsigned int sharedJpegCount;
    unsigned int sharedOfaCount;
    unsigned int gpuInstanceSliceCount;
    unsigned int computeInstanceSliceCount;
    unsigned long long memorySizeMB;
} nvmlDeviceAttributes_t;

/* Pinned to Appendix C / data/layout_13.3.txt. */
#define PIN_SIZE(T, n) _Static_assert(sizeof(T) == (n), "sizeof " #T)
#define PIN(T, m, off) _Static_assert(offsetof(T, m) == (off), #T "." #m)
_Static_assert(sizeof(nvmlReturn_t) == 4, "nvmlReturn_t is an int");
_Static_assert(sizeof(nvmlDevice_t) == 8 && sizeof(unsigned long) == 8, "LP64");
PIN_SIZE(nvmlPciInfo_t, 68);
PIN(nvmlPciInfo_t, busIdLegacy, 0); PIN(nvmlPciInfo_t, domain, 16); PIN(nvmlPciInfo_t, bus, 20);
PIN(nvmlPciInfo_t, device, 24); PIN(nvmlPciInfo_t, pciDeviceId, 28); PIN(nvmlPciInfo_t, pciSubSystemId, 32);
PIN(nvmlPciInfo_t, busId, 36);
PIN_SIZE(nvmlMemory_t, 24);
PIN(nvmlMemory_t, total, 0); PIN(nvmlMemory_t, free, 8); PIN(nvmlMemory_t, used, 16);
PIN_SIZE(nvmlMemory_v2_t, 40);
PIN(nvmlMemory_v2_t, version, 0); PIN(nvmlMemory_v2_t, total, 8); PIN(nvmlMemory_v2_t, reserved, 16);
PIN(nvmlMemory_v2_t, free, 24); PIN(nvmlMemory_v2_t, used, 32);
_Static_assert(nvmlMemory_v2 == 0x02000028, "nvmlMemory_v2");
PIN_SIZE(nvmlBAR1Memory_t, 24);
PIN(nvmlBAR1Memory_t, bar1Total, 0); PIN(nvmlBAR1Memory_t, bar1Free, 8); PIN(nvmlBAR1Memory_t, bar1Used, 16);
PIN_SIZE(nvmlUtilization_t, 8);
PIN(nvmlUtilization_t, gpu, 0); PIN(nvmlUtilization_t, memory, 4);
PIN_SIZE(nvmlProcessInfo_v1_t, 16);
PIN(nvmlProcessInfo_v1_t, pid, 0); PIN(nvmlProcessInfo_v1_t, usedGpuMemory, 8);
PIN_SIZE(nvmlProcessInfo_t, 24);
PIN(nvmlProcessInfo_t, pid, 0); PIN(nvmlProcessInfo_t, usedGpuMemory, 8); PIN(nvmlProcessInfo_t, gpuInstanceId, 16);
PIN(nvmlProcessInfo_t, computeInstanceId, 20);
PIN_SIZE(nvmlProcessDetail_v1_t, 32);
PIN(nvmlProcessDetail_v1_t, pid, 0); PIN(nvmlProcessDetail_v1_t, usedGpuMemory, 8);
PIN(nvmlProcessDetail_v1_t, gpuInstanceId, 16); PIN(nvmlProcessDetail_v1_t, computeInstanceId, 20);
PIN(nvmlProcessDetail_v1_t, usedGpuCcProtectedMemory, 24);
PIN_SIZE(nvmlProcessDetailList_v1_t, 24);
PIN(nvmlProcessDetailList_v1_t, version, 0); PIN(nvmlProcessDetailList_v1_t, mode, 4);
PIN(nvmlProcessDetailList_v1_t, numProcArrayEntries, 8); PIN(nvmlProcessDetailList_v1_t, procArray, 16);
_Static_assert(nvmlProcessDetailList_v1 == 0x01000018, "nvmlProcessDetailList_v1");
PIN_SIZE(nvmlValue_t, 8);
_Static_assert(_Alignof(nvmlValue_t) == 8, "nvmlValue_t alignment");
PIN_SIZE(nvmlFieldValue_t, 40);
PIN(nvmlFieldValue_t, fieldId, 0); PIN(nvmlFieldValue_t, scopeId, 4); PIN(nvmlFieldValue_t, timestamp, 8);
PIN(nvmlFieldValue_t, latencyUsec, 16); PIN(nvmlFieldValue_t, valueType, 24); PIN(nvmlFieldValue_t, nvmlReturn, 28);
PIN(nvmlFieldValue_t, value, 32);
PIN_SIZE(nvmlEventData_t, 32);
PIN(nvmlEventData_t, device, 0); PIN(nvmlEventData_t, eventType, 8); PIN(nvmlEventData_t, eventData, 16);
PIN(nvmlEventData_t, gpuInstanceId, 24); PIN(nvmlEventData_t, computeInstanceId, 28);
PIN_SIZE(nvmlGpmMetric_t, 40);
PIN(nvmlGpmMetric_t, metricId, 0); PIN(nvmlGpmMetric_t, nvmlReturn, 4); PIN(nvmlGpmMetric_t, value, 8);
PIN(nvmlGpmMetric_t, metricInfo, 16); PIN(nvmlGpmMetric_t, metricInfo.shortName, 16);
PIN(nvmlGpmMetric_t, metricInfo.longName, 24); PIN(nvmlGpmMetric_t, metricInfo.unit, 32);
PIN_SIZE(nvmlGpmMetricsGet_t, 13344);
PIN(nvmlGpmMetricsGet_t, version, 0); PIN(nvmlGpmMetricsGet_t, numMetrics, 4); PIN(nvmlGpmMetricsGet_t, sample1, 8);
PIN(nvmlGpmMetricsGet_t, sample2, 16); PIN(nvmlGpmMetricsGet_t, metrics, 24);
PIN_SIZE(nvmlGpmSupport_t, 8);
PIN(nvmlGpmSupport_t, version, 0); PIN(nvmlGpmSupport_t, isSupportedDevice, 4);
PIN_SIZE(nvmlTemperature_v1_t, 12);
PIN(nvmlTemperature_v1_t, version, 0); PIN(nvmlTemperature_v1_t, sensorType, 4); PIN(nvmlTemperature_v1_t, temperature, 8);
_Static_assert(nvmlTemperature_v1 == 0x0100000C, "nvmlTemperature_v1");
PIN_SIZE(nvmlGpuFabricInfo_t, 28);
PIN(nvmlGpuFabricInfo_t, clusterUuid, 0); PIN(nvmlGpuFabricInfo_t, status, 16); PIN(nvmlGpuFabricInfo_t, cliqueId, 20);
PIN(nvmlGpuFabricInfo_t, state, 24);
PIN_SIZE(nvmlGpuFabricInfo_v3_t, 40);
PIN(nvmlGpuFabricInfo_v3_t, version, 0); PIN(nvmlGpuFabricInfo_v3_t, clusterUuid, 4); PIN(nvmlGpuFabricInfo_v3_t, status, 20);
PIN(nvmlGpuFabricInfo_v3_t, cliqueId, 24); PIN(nvmlGpuFabricInfo_v3_t, state, 28);
PIN(nvmlGpuFabricInfo_v3_t, healthMask, 32); PIN(nvmlGpuFabricInfo_v3_t, healthSummary, 36);
_Static_assert(nvmlGpuFabricInfo_v2 == 0x02000024, "nvmlGpuFabricInfo_v2");
_Static_assert(nvmlGpuFabricInfo_v3 == 0x03000028, "nvmlGpuFabricInfo_v3");
PIN_SIZE(nvmlPowerValue_v2_t, 12);
PIN(nvmlPowerValue_v2_t, version, 0); PIN(nvmlPowerValue_v2_t, powerScope, 4); PIN(nvmlPowerValue_v2_t, powerValueMw, 8);
_Static_assert(nvmlPowerValue_v2 == 0x0200000C, "nvmlPowerValue_v2");
PIN_SIZE(nvmlGpuInstancePlacement_t, 8);
PIN(nvmlGpuInstancePlacement_t, start, 0); PIN(nvmlGpuInstancePlacement_t, size, 4);
PIN_SIZE(nvmlGpuInstanceProfileInfo_t, 48);
PIN(nvmlGpuInstanceProfileInfo_t, id, 0); PIN(nvmlGpuInstanceProfileInfo_t, isP2pSupported, 4);
PIN(nvmlGpuInstanceProfileInfo_t, sliceCount, 8); PIN(nvmlGpuInstanceProfileInfo_t, instanceCount, 12);
PIN(nvmlGpuInstanceProfileInfo_t, multiprocessorCount, 16); PIN(nvmlGpuInstanceProfileInfo_t, copyEngineCount, 20);
PIN(nvmlGpuInstanceProfileInfo_t, decoderCount, 24); PIN(nvmlGpuInstanceProfileInfo_t, encoderCount, 28);
PIN(nvmlGpuInstanceProfileInfo_t, jpegCount, 32); PIN(nvmlGpuInstanceProfileInfo_t, ofaCount, 36);
PIN(nvmlGpuInstanceProfileInfo_t, memorySizeMB, 40);
PIN_SIZE(nvmlGpuInstanceProfileInfo_v2_t, 152);
PIN(nvmlGpuInstanceProfileInfo_v2_t, version, 0); PIN(nvmlGpuInstanceProfileInfo_v2_t, id, 4);
PIN(nvmlGpuInstanceProfileInfo_v2_t, isP2pSupported, 8); PIN(nvmlGpuInstanceProfileInfo_v2_t, sliceCount, 12);
PIN(nvmlGpuInstanceProfileInfo_v2_t, instanceCount, 16); PIN(nvmlGpuInstanceProfileInfo_v2_t, multiprocessorCount, 20);
PIN(nvmlGpuInstanceProfileInfo_v2_t, copyEngineCount, 24); PIN(nvmlGpuInstanceProfileInfo_v2_t, decoderCount, 28);
PIN(nvmlGpuInstanceProfileInfo_v2_t, encoderCount, 32); PIN(nvmlGpuInstanceProfileInfo_v2_t, jpegCount, 36);
PIN(nvmlGpuInstanceProfileInfo_v2_t, ofaCount, 40); PIN(nvmlGpuInstanceProfileInfo_v2_t, memorySizeMB, 48);
PIN(nvmlGpuInstanceProfileInfo_v2_t, name, 56);
_Static_assert(nvmlGpuInstanceProfileInfo_v2 == 0x02000098, "nvmlGpuInstanceProfileInfo_v2");
PIN_SIZE(nvmlGpuInstanceProfileInfo_v3_t, 152);
PIN(nvmlGpuInstanceProfileInfo_v3_t, version, 0); PIN(nvmlGpuInstanceProfileInfo_v3_t, id, 4);
PIN(nvmlGpuInstanceProfileInfo_v3_t, sliceCount, 8); PIN(nvmlGpuInstanceProfileInfo_v3_t, instanceCount, 12);
PIN(nvmlGpuInstanceProfileInfo_v3_t, multiprocessorCount, 16); PIN(nvmlGpuInstanceProfileInfo_v3_t, copyEngineCount, 20);
PIN(nvmlGpuInstanceProfileInfo_v3_t, decoderCount, 24); PIN(nvmlGpuInstanceProfileInfo_v3_t, encoderCount, 28);
PIN(nvmlGpuInstanceProfileInfo_v3_t, jpegCount, 32); PIN(nvmlGpuInstanceProfileInfo_v3_t, ofaCount, 36);
PIN(nvmlGpuInstanceProfileInfo_v3_t, memorySizeMB, 40); PIN(nvmlGpuInstanceProfileInfo_v3_t, name, 48);
PIN(nvmlGpuInstanceProfileInfo_v3_t, capabilities, 144);
_Static_assert(nvmlGpuInstanceProfileInfo_v3 == 0x03000098, "nvmlGpuInstanceProfileInfo_v3");
PIN_SIZE(nvmlGpuInstanceInfo_t, 24);
PIN(nvmlGpuInstanceInfo_t, device, 0); PIN(nvmlGpuInstanceInfo_t, id, 8); PIN(nvmlGpuInstanceInfo_t, profileId, 12);
PIN(nvmlGpuInstanceInfo_t, placement, 16);
PIN_SIZE(nvmlComputeInstancePlacement_t, 8);
PIN_SIZE(nvmlComputeInstanceInfo_t, 32);
PIN(nvmlComputeInstanceInfo_t, device, 0); PIN(nvmlComputeInstanceInfo_t, gpuInstance, 8);
PIN(nvmlComputeInstanceInfo_t, id, 16); PIN(nvmlComputeInstanceInfo_t, profileId, 20);
PIN(nvmlComputeInstanceInfo_t, placement, 24);
PIN_SIZE(nvmlDeviceAttributes_t, 40);
PIN(nvmlDeviceAttributes_t, multiprocessorCount, 0); PIN(nvmlDeviceAttributes_t, sharedCopyEngineCount, 4);
PIN(nvmlDeviceAttributes_t, sharedDecoderCount, 8); PIN(nvmlDeviceAttributes_t, sharedEncoderCount, 12);
PIN(nvmlDeviceAttributes_t, sharedJpegCount, 16); PIN(nvmlDeviceAttributes_t, sharedOfaCount, 20);
PIN(nvmlDeviceAttributes_t, gpuInstanceSliceCount, 24); PIN(nvmlDeviceAttributes_t, computeInstanceSliceCount, 28);
PIN(nvmlDeviceAttributes_t, memorySizeMB, 32);
#undef PIN
#undef PIN_SIZE

/* Event type bits. */
#define nvmlEventTypeSingleBitEccError 0x0000000000000001ULL
#define nvmlEventTypeDoubleBitEccError 0x0000000000000002ULL
#define nvmlEventTypePState 0x0000000000000004ULL
#define nvmlEventTypeXidCriticalError 0x0000000000000008ULL
#define nvmlEventTypeClock 0x0000000000000010ULL
#define nvmlEventTypePowerSourceChange 0x0000000000000080ULL
#define nvmlEventMigConfigChange 0x0000000000000100ULL
#define nvmlEventTypeGpuUnavailableError 0x0000000000004000ULL
#define nvmlEventTypeGpuRecoveryAction 0x0000000000008000ULL

#endif
