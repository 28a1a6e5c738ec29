/*
 * Prints sizeof/alignof/offsetof of every NVML struct the Java bindings lay out, in the format of
 * src/test/resources/golden/layout_13.3.txt, as the C compiler computes them against a real nvml.h.
 * The Java side (LayoutCheck) prints the same lines from its MemoryLayouts and compares.
 * Build: cc -std=gnu11 -Wno-deprecated-declarations -I<dir with nvml.h> nvml_layout.c -o nvml_layout
 * Structs newer than the header in hand are skipped by the #ifdefs on their version macros.
 */
#include <stddef.h>
#include <stdio.h>
#include <nvml.h>

#define S(T) printf("struct %s sizeof=%zu alignof=%zu\n", #T, sizeof(T), _Alignof(T))
#define F(T, m) printf("   %-28s off=%zu size=%zu\n", #m, offsetof(T, m), sizeof(((T *)0)->m))

int main(void) {
    S(nvmlPciInfo_t);
    F(nvmlPciInfo_t, busIdLegacy); F(nvmlPciInfo_t, domain); F(nvmlPciInfo_t, bus); F(nvmlPciInfo_t, device);
    F(nvmlPciInfo_t, pciDeviceId); F(nvmlPciInfo_t, pciSubSystemId); F(nvmlPciInfo_t, busId);

    S(nvmlMemory_t);
    F(nvmlMemory_t, total); F(nvmlMemory_t, free); F(nvmlMemory_t, used);
#ifdef nvmlMemory_v2
    S(nvmlMemory_v2_t);
    F(nvmlMemory_v2_t, version); F(nvmlMemory_v2_t, total); F(nvmlMemory_v2_t, reserved);
    F(nvmlMemory_v2_t, free); F(nvmlMemory_v2_t, used);
#endif
    S(nvmlBAR1Memory_t);
    F(nvmlBAR1Memory_t, bar1Total); F(nvmlBAR1Memory_t, bar1Free); F(nvmlBAR1Memory_t, bar1Used);

    S(nvmlUtilization_t);
    F(nvmlUtilization_t, gpu); F(nvmlUtilization_t, memory);

    S(nvmlRowRemapperHistogramValues_t);
    F(nvmlRowRemapperHistogramValues_t, max); F(nvmlRowRemapperHistogramValues_t, high);
    F(nvmlRowRemapperHistogramValues_t, partial); F(nvmlRowRemapperHistogramValues_t, low);
    F(nvmlRowRemapperHistogramValues_t, none);

    S(nvmlProcessInfo_v1_t);
    F(nvmlProcessInfo_v1_t, pid); F(nvmlProcessInfo_v1_t, usedGpuMemory);
    S(nvmlProcessInfo_t);
    F(nvmlProcessInfo_t, pid); F(nvmlProcessInfo_t, usedGpuMemory);
    F(nvmlProcessInfo_t, gpuInstanceId); F(nvmlProcessInfo_t, computeInstanceId);
#ifdef nvmlProcessDetailList_v1
    S(nvmlProcessDetail_v1_t);
    F(nvmlProcessDetail_v1_t, pid); F(nvmlProcessDetail_v1_t, usedGpuMemory);
    F(nvmlProcessDetail_v1_t, gpuInstanceId); F(nvmlProcessDetail_v1_t, computeInstanceId);
    F(nvmlProcessDetail_v1_t, usedGpuCcProtectedMemory);
#endif

    S(nvmlValue_t);
    F(nvmlValue_t, dVal); F(nvmlValue_t, uiVal); F(nvmlValue_t, ulVal); F(nvmlValue_t, ullVal); F(nvmlValue_t, sllVal);

    S(nvmlFieldValue_t);
    F(nvmlFieldValue_t, fieldId); F(nvmlFieldValue_t, scopeId); F(nvmlFieldValue_t, timestamp);
    F(nvmlFieldValue_t, latencyUsec); F(nvmlFieldValue_t, valueType); F(nvmlFieldValue_t, nvmlReturn);
    F(nvmlFieldValue_t, value);

    S(nvmlEventData_t);
    F(nvmlEventData_t, device); F(nvmlEventData_t, eventType); F(nvmlEventData_t, eventData);
    F(nvmlEventData_t, gpuInstanceId); F(nvmlEventData_t, computeInstanceId);

    S(nvmlGpmMetric_t);
    F(nvmlGpmMetric_t, metricId); F(nvmlGpmMetric_t, nvmlReturn); F(nvmlGpmMetric_t, value);
    F(nvmlGpmMetric_t, metricInfo); F(nvmlGpmMetric_t, metricInfo.shortName);
    F(nvmlGpmMetric_t, metricInfo.longName); F(nvmlGpmMetric_t, metricInfo.unit);
    S(nvmlGpmMetricsGet_t);
    F(nvmlGpmMetricsGet_t, version); F(nvmlGpmMetricsGet_t, numMetrics); F(nvmlGpmMetricsGet_t, sample1);
    F(nvmlGpmMetricsGet_t, sample2); F(nvmlGpmMetricsGet_t, metrics);
    S(nvmlGpmSupport_t);
    F(nvmlGpmSupport_t, version); F(nvmlGpmSupport_t, isSupportedDevice);

#ifdef nvmlGpuFabricInfo_v3
    S(nvmlGpuFabricInfo_t);
    F(nvmlGpuFabricInfo_t, clusterUuid); F(nvmlGpuFabricInfo_t, status); F(nvmlGpuFabricInfo_t, cliqueId);
    F(nvmlGpuFabricInfo_t, state);
    S(nvmlGpuFabricInfo_v3_t);
    F(nvmlGpuFabricInfo_v3_t, version); F(nvmlGpuFabricInfo_v3_t, clusterUuid); F(nvmlGpuFabricInfo_v3_t, status);
    F(nvmlGpuFabricInfo_v3_t, cliqueId); F(nvmlGpuFabricInfo_v3_t, state); F(nvmlGpuFabricInfo_v3_t, healthMask);
    F(nvmlGpuFabricInfo_v3_t, healthSummary);
#endif
#ifdef nvmlTemperature_v1
    S(nvmlTemperature_v1_t);
    F(nvmlTemperature_v1_t, version); F(nvmlTemperature_v1_t, sensorType); F(nvmlTemperature_v1_t, temperature);
#endif
#ifdef nvmlPowerValue_v2
    S(nvmlPowerValue_v2_t);
    F(nvmlPowerValue_v2_t, version); F(nvmlPowerValue_v2_t, powerScope); F(nvmlPowerValue_v2_t, powerValueMw);
#endif
    S(nvmlGpuInstancePlacement_t);
    F(nvmlGpuInstancePlacement_t, start); F(nvmlGpuInstancePlacement_t, size);
    S(nvmlGpuInstanceProfileInfo_t);
    F(nvmlGpuInstanceProfileInfo_t, id); F(nvmlGpuInstanceProfileInfo_t, isP2pSupported);
    F(nvmlGpuInstanceProfileInfo_t, sliceCount); F(nvmlGpuInstanceProfileInfo_t, instanceCount);
    F(nvmlGpuInstanceProfileInfo_t, multiprocessorCount); F(nvmlGpuInstanceProfileInfo_t, copyEngineCount);
    F(nvmlGpuInstanceProfileInfo_t, decoderCount); F(nvmlGpuInstanceProfileInfo_t, encoderCount);
    F(nvmlGpuInstanceProfileInfo_t, jpegCount); F(nvmlGpuInstanceProfileInfo_t, ofaCount);
    F(nvmlGpuInstanceProfileInfo_t, memorySizeMB);
#ifdef nvmlGpuInstanceProfileInfo_v2
    S(nvmlGpuInstanceProfileInfo_v2_t);
    F(nvmlGpuInstanceProfileInfo_v2_t, version); F(nvmlGpuInstanceProfileInfo_v2_t, id);
    F(nvmlGpuInstanceProfileInfo_v2_t, isP2pSupported); F(nvmlGpuInstanceProfileInfo_v2_t, sliceCount);
    F(nvmlGpuInstanceProfileInfo_v2_t, instanceCount); F(nvmlGpuInstanceProfileInfo_v2_t, multiprocessorCount);
    F(nvmlGpuInstanceProfileInfo_v2_t, copyEngineCount); F(nvmlGpuInstanceProfileInfo_v2_t, decoderCount);
    F(nvmlGpuInstanceProfileInfo_v2_t, encoderCount); F(nvmlGpuInstanceProfileInfo_v2_t, jpegCount);
    F(nvmlGpuInstanceProfileInfo_v2_t, ofaCount); F(nvmlGpuInstanceProfileInfo_v2_t, memorySizeMB);
    F(nvmlGpuInstanceProfileInfo_v2_t, name);
#endif
    S(nvmlGpuInstanceInfo_t);
    F(nvmlGpuInstanceInfo_t, device); F(nvmlGpuInstanceInfo_t, id); F(nvmlGpuInstanceInfo_t, profileId);
    F(nvmlGpuInstanceInfo_t, placement);
    S(nvmlComputeInstanceInfo_t);
    F(nvmlComputeInstanceInfo_t, device); F(nvmlComputeInstanceInfo_t, gpuInstance); F(nvmlComputeInstanceInfo_t, id);
    F(nvmlComputeInstanceInfo_t, profileId); F(nvmlComputeInstanceInfo_t, placement);
    S(nvmlDeviceAttributes_t);
    F(nvmlDeviceAttributes_t, multiprocessorCount); F(nvmlDeviceAttributes_t, sharedCopyEngineCount);
    F(nvmlDeviceAttributes_t, sharedDecoderCount); F(nvmlDeviceAttributes_t, sharedEncoderCount);
    F(nvmlDeviceAttributes_t, sharedJpegCount); F(nvmlDeviceAttributes_t, sharedOfaCount);
    F(nvmlDeviceAttributes_t, gpuInstanceSliceCount); F(nvmlDeviceAttributes_t, computeInstanceSliceCount);
    F(nvmlDeviceAttributes_t, memorySizeMB);

    printf("version macro nvmlMemory_v2 = 0x%08X\n", (unsigned) nvmlMemory_v2);
#ifdef nvmlGpuInstanceProfileInfo_v2
    printf("version macro nvmlGpuInstanceProfileInfo_v2 = 0x%08X\n", (unsigned) nvmlGpuInstanceProfileInfo_v2);
#endif
#ifdef nvmlGpuFabricInfo_v3
    printf("version macro nvmlGpuFabricInfo_v3 = 0x%08X (sizeof=%zu)\n", (unsigned) nvmlGpuFabricInfo_v3,
           sizeof(nvmlGpuFabricInfo_v3_t));
#endif
#ifdef nvmlTemperature_v1
    printf("version macro nvmlTemperature_v1 = 0x%08X\n", (unsigned) nvmlTemperature_v1);
#endif
#ifdef nvmlPowerValue_v2
    printf("version macro nvmlPowerValue_v2 = 0x%08X\n", (unsigned) nvmlPowerValue_v2);
#endif
#ifdef nvmlProcessDetailList_v1
    printf("version macro nvmlProcessDetailList_v1 = 0x%08X\n", (unsigned) nvmlProcessDetailList_v1);
#endif
    printf("NVML_GPM_METRIC_MAX=%d\n", (int) NVML_GPM_METRIC_MAX);
    return 0;
}
