/*
 * Prints sizeof/alignof/offsetof of every DCGM struct the Java bindings (io.gpuagent.dcgm.ffm.DcgmLayouts) lay out,
 * in the format of src/test/resources/golden/dcgm_layout_4.6.0.txt, as the C compiler computes them against NVIDIA's
 * DCGM headers. Only the members the bindings read or write are printed (nested ones as a.b); the Java side pads the
 * rest, so sizeof and these offsets pin it.
 * Build: cc -std=gnu11 -I<dir with dcgm_agent.h> dcgm_layout.c -o dcgm_layout
 * (src/main/c/dcgm/include is DCGM 4.6.0, src/main/c/dcgm/include-4.0 is 4.0.0.)
 */
#include <stddef.h>
#include <stdio.h>
#include <dcgm_agent.h>

#define S(T) printf("struct %s sizeof=%zu alignof=%zu\n", #T, sizeof(T), _Alignof(T))
#define F(T, m) printf("   %-28s off=%zu size=%zu\n", #m, offsetof(T, m), sizeof(((T *)0)->m))
#define V(name) printf("version macro %s = 0x%08X\n", #name, (unsigned) (name))

int main(void) {
    S(dcgmStartEmbeddedV2Params_v1);
    F(dcgmStartEmbeddedV2Params_v1, version); F(dcgmStartEmbeddedV2Params_v1, opMode);
    F(dcgmStartEmbeddedV2Params_v1, dcgmHandle); F(dcgmStartEmbeddedV2Params_v1, logFile);
    F(dcgmStartEmbeddedV2Params_v1, severity); F(dcgmStartEmbeddedV2Params_v1, denyListCount);
    F(dcgmStartEmbeddedV2Params_v1, denyList);

    S(dcgmConnectV2Params_v2);
    F(dcgmConnectV2Params_v2, version); F(dcgmConnectV2Params_v2, persistAfterDisconnect);
    F(dcgmConnectV2Params_v2, timeoutMs); F(dcgmConnectV2Params_v2, addressIsUnixSocket);
#ifdef dcgmConnectV3Params_version1
    S(dcgmConnectV3Params_v1);
    F(dcgmConnectV3Params_v1, version); F(dcgmConnectV3Params_v1, persistAfterDisconnect);
    F(dcgmConnectV3Params_v1, timeoutMs);
#endif

    S(dcgmVersionInfo_v2);
    F(dcgmVersionInfo_v2, version); F(dcgmVersionInfo_v2, rawBuildInfoString);

    S(dcgmDeviceAttributes_v3);
    F(dcgmDeviceAttributes_v3, version); F(dcgmDeviceAttributes_v3, identifiers);
    F(dcgmDeviceAttributes_v3, identifiers.brandName); F(dcgmDeviceAttributes_v3, identifiers.deviceName);
    F(dcgmDeviceAttributes_v3, identifiers.pciBusId); F(dcgmDeviceAttributes_v3, identifiers.serial);
    F(dcgmDeviceAttributes_v3, identifiers.uuid); F(dcgmDeviceAttributes_v3, identifiers.vbios);
    F(dcgmDeviceAttributes_v3, identifiers.pciDeviceId); F(dcgmDeviceAttributes_v3, identifiers.driverVersion);

    S(dcgmGroupEntityPair_t);
    F(dcgmGroupEntityPair_t, entityGroupId); F(dcgmGroupEntityPair_t, entityId);

    S(dcgmMigHierarchyInfo_v2);
    F(dcgmMigHierarchyInfo_v2, entity); F(dcgmMigHierarchyInfo_v2, parent); F(dcgmMigHierarchyInfo_v2, info);
    F(dcgmMigHierarchyInfo_v2, info.gpuUuid); F(dcgmMigHierarchyInfo_v2, info.nvmlGpuIndex);
    F(dcgmMigHierarchyInfo_v2, info.nvmlInstanceId); F(dcgmMigHierarchyInfo_v2, info.nvmlComputeInstanceId);
    F(dcgmMigHierarchyInfo_v2, info.nvmlMigProfileId); F(dcgmMigHierarchyInfo_v2, info.nvmlProfileSlices);
    S(dcgmMigHierarchy_v2);
    F(dcgmMigHierarchy_v2, version); F(dcgmMigHierarchy_v2, count); F(dcgmMigHierarchy_v2, entityList);

    S(dcgmFieldValue_v2);
    F(dcgmFieldValue_v2, version); F(dcgmFieldValue_v2, entityGroupId); F(dcgmFieldValue_v2, entityId);
    F(dcgmFieldValue_v2, fieldId); F(dcgmFieldValue_v2, fieldType); F(dcgmFieldValue_v2, status);
    F(dcgmFieldValue_v2, ts); F(dcgmFieldValue_v2, value);

    S(dcgmHealthSetParams_v2);
    F(dcgmHealthSetParams_v2, version); F(dcgmHealthSetParams_v2, groupId); F(dcgmHealthSetParams_v2, systems);
    F(dcgmHealthSetParams_v2, updateInterval); F(dcgmHealthSetParams_v2, maxKeepAge);

    S(dcgmIncidentInfo_t);
    F(dcgmIncidentInfo_t, system); F(dcgmIncidentInfo_t, health); F(dcgmIncidentInfo_t, error);
    F(dcgmIncidentInfo_t, error.msg); F(dcgmIncidentInfo_t, error.code); F(dcgmIncidentInfo_t, entityInfo);
    S(dcgmHealthResponse_v5);
    F(dcgmHealthResponse_v5, version); F(dcgmHealthResponse_v5, overallHealth);
    F(dcgmHealthResponse_v5, incidentCount); F(dcgmHealthResponse_v5, incidents);

    S(dcgmPolicyConditionParams_t);
    F(dcgmPolicyConditionParams_t, tag); F(dcgmPolicyConditionParams_t, val);
    S(dcgmPolicy_v1);
    F(dcgmPolicy_v1, version); F(dcgmPolicy_v1, condition); F(dcgmPolicy_v1, mode); F(dcgmPolicy_v1, isolation);
    F(dcgmPolicy_v1, action); F(dcgmPolicy_v1, validation); F(dcgmPolicy_v1, response); F(dcgmPolicy_v1, parms);

    S(dcgmPolicyCallbackResponse_v2);
    F(dcgmPolicyCallbackResponse_v2, version); F(dcgmPolicyCallbackResponse_v2, condition);
    F(dcgmPolicyCallbackResponse_v2, val); F(dcgmPolicyCallbackResponse_v2, val.dbe.timestamp);
    F(dcgmPolicyCallbackResponse_v2, val.dbe.location); F(dcgmPolicyCallbackResponse_v2, val.dbe.numerrors);
    F(dcgmPolicyCallbackResponse_v2, val.xid.errnum); F(dcgmPolicyCallbackResponse_v2, val.thermal.thermalViolation);
    F(dcgmPolicyCallbackResponse_v2, gpuId);

#ifdef dcgmRunDiag_version10
    S(dcgmRunDiag_v10);
    F(dcgmRunDiag_v10, version); F(dcgmRunDiag_v10, flags); F(dcgmRunDiag_v10, groupId); F(dcgmRunDiag_v10, validate);
#endif
    S(dcgmRunDiag_v9);
    F(dcgmRunDiag_v9, version); F(dcgmRunDiag_v9, flags); F(dcgmRunDiag_v9, groupId); F(dcgmRunDiag_v9, validate);

    S(dcgmDiagEntity_v1);
    F(dcgmDiagEntity_v1, entity); F(dcgmDiagEntity_v1, serialNum); F(dcgmDiagEntity_v1, skuDeviceId);
    S(dcgmDiagError_v1);
    F(dcgmDiagError_v1, entity); F(dcgmDiagError_v1, code); F(dcgmDiagError_v1, category);
    F(dcgmDiagError_v1, severity); F(dcgmDiagError_v1, msg); F(dcgmDiagError_v1, testId);
    S(dcgmDiagEntityResult_v1);
    F(dcgmDiagEntityResult_v1, entity); F(dcgmDiagEntityResult_v1, result); F(dcgmDiagEntityResult_v1, testId);
    S(dcgmDiagTestRun_v1);
    F(dcgmDiagTestRun_v1, name); F(dcgmDiagTestRun_v1, pluginName); F(dcgmDiagTestRun_v1, result);
    F(dcgmDiagTestRun_v1, numErrors); F(dcgmDiagTestRun_v1, numResults); F(dcgmDiagTestRun_v1, errorIndices);
    F(dcgmDiagTestRun_v1, resultIndices);
    S(dcgmDiagResponse_v11);
    F(dcgmDiagResponse_v11, version); F(dcgmDiagResponse_v11, numTests); F(dcgmDiagResponse_v11, numErrors);
    F(dcgmDiagResponse_v11, numEntities); F(dcgmDiagResponse_v11, numResults); F(dcgmDiagResponse_v11, tests);
    F(dcgmDiagResponse_v11, entities); F(dcgmDiagResponse_v11, errors); F(dcgmDiagResponse_v11, results);
    F(dcgmDiagResponse_v11, dcgmVersion); F(dcgmDiagResponse_v11, driverVersion);
#ifdef dcgmDiagResponse_version12
    S(dcgmDiagTestRun_v2);
    F(dcgmDiagTestRun_v2, name); F(dcgmDiagTestRun_v2, pluginName); F(dcgmDiagTestRun_v2, result);
    F(dcgmDiagTestRun_v2, numErrors); F(dcgmDiagTestRun_v2, numResults); F(dcgmDiagTestRun_v2, errorIndices);
    F(dcgmDiagTestRun_v2, resultIndices);
    S(dcgmDiagResponse_v12);
    F(dcgmDiagResponse_v12, version); F(dcgmDiagResponse_v12, numTests); F(dcgmDiagResponse_v12, numErrors);
    F(dcgmDiagResponse_v12, numEntities); F(dcgmDiagResponse_v12, numResults); F(dcgmDiagResponse_v12, tests);
    F(dcgmDiagResponse_v12, entities); F(dcgmDiagResponse_v12, errors); F(dcgmDiagResponse_v12, results);
    F(dcgmDiagResponse_v12, dcgmVersion); F(dcgmDiagResponse_v12, driverVersion);
#endif

    V(dcgmStartEmbeddedV2Params_version1);
    V(dcgmConnectV2Params_version2);
#ifdef dcgmConnectV3Params_version1
    V(dcgmConnectV3Params_version1);
#endif
    V(dcgmVersionInfo_version2);
    V(dcgmDeviceAttributes_version3);
    V(dcgmMigHierarchy_version2);
    V(dcgmFieldValue_version2);
    V(dcgmHealthSetParams_version2);
    V(dcgmHealthResponse_version5);
    V(dcgmPolicy_version1);
    V(dcgmPolicyCallbackResponse_version2);
    V(dcgmRunDiag_version9);
#ifdef dcgmRunDiag_version10
    V(dcgmRunDiag_version10);
#endif
    V(dcgmDiagResponse_version11);
#ifdef dcgmDiagResponse_version12
    V(dcgmDiagResponse_version12);
#endif
    return 0;
}
