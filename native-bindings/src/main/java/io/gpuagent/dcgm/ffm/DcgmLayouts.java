package io.gpuagent.dcgm.ffm;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.MemoryLayout.unionLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every DCGM struct the bindings pass, with explicit padding; the members they do not read are padding, and sizeof
 * plus the members' offsets are checked against NVIDIA's headers (tools/dcgm_layout.c, goldens for DCGM 4.0.0 and
 * 4.6.0, DcgmLayoutCheckTest). Version words are computed from these sizes as DCGM's MAKE_DCGM_VERSION does.
 */
public final class DcgmLayouts {
    private DcgmLayouts() {
    }

    static final int MAX_STR = 256; // DCGM_MAX_STR_LENGTH

    private static MemoryLayout chars(int n, String name) {
        return sequenceLayout(n, JAVA_BYTE).withName(name);
    }

    private static MemoryLayout u32(String name) {
        return JAVA_INT.withName(name);
    }

    static final StructLayout ENTITY_PAIR = structLayout(u32("entityGroupId"), u32("entityId"));

    static final StructLayout START_EMBEDDED_V1 = structLayout(u32("version"), u32("opMode"),
            JAVA_LONG.withName("dcgmHandle"), ADDRESS.withName("logFile"), u32("severity"), u32("denyListCount"),
            sequenceLayout(10, JAVA_INT).withName("denyList"));

    static final StructLayout CONNECT_V2 = structLayout(u32("version"), u32("persistAfterDisconnect"), u32("timeoutMs"),
            u32("addressIsUnixSocket"));

    static final StructLayout CONNECT_V3 = structLayout(u32("version"), u32("persistAfterDisconnect"), u32("timeoutMs"));

    static final StructLayout VERSION_INFO_V2 = structLayout(u32("version"), chars(512, "rawBuildInfoString"));

    static final StructLayout DEVICE_IDENTIFIERS_V1 = structLayout(u32("version"), chars(MAX_STR, "brandName"),
            chars(MAX_STR, "deviceName"), chars(MAX_STR, "pciBusId"), chars(MAX_STR, "serial"), chars(MAX_STR, "uuid"),
            chars(MAX_STR, "vbios"), chars(MAX_STR, "inforomImageVersion"), u32("pciDeviceId"), u32("pciSubSystemId"),
            chars(MAX_STR, "driverVersion"), u32("virtualizationMode"));

    /** Clock sets, thermals and power limits before the identifiers are not read: padding. */
    static final StructLayout DEVICE_ATTRIBUTES_V3 = structLayout(u32("version"), paddingLayout(3116),
            DEVICE_IDENTIFIERS_V1.withName("identifiers"), paddingLayout(36));

    static final StructLayout MIG_HIERARCHY_INFO_V2 = structLayout(ENTITY_PAIR.withName("entity"),
            ENTITY_PAIR.withName("parent"),
            structLayout(chars(128, "gpuUuid"), u32("nvmlGpuIndex"), u32("nvmlInstanceId"), u32("nvmlComputeInstanceId"),
                    u32("nvmlMigProfileId"), u32("nvmlProfileSlices")).withName("info"));

    static final int MAX_HIERARCHY_INFO = 32 * 14; // DCGM_MAX_HIERARCHY_INFO

    static final StructLayout MIG_HIERARCHY_V2 = structLayout(u32("version"), u32("count"),
            sequenceLayout(MAX_HIERARCHY_INFO, MIG_HIERARCHY_INFO_V2).withName("entityList"));

    static final StructLayout FIELD_VALUE_V2 = structLayout(u32("version"), u32("entityGroupId"), u32("entityId"),
            JAVA_SHORT.withName("fieldId"), JAVA_SHORT.withName("fieldType"), JAVA_INT.withName("status"),
            u32("unused"), JAVA_LONG.withName("ts"),
            unionLayout(JAVA_LONG.withName("i64"), JAVA_DOUBLE.withName("dbl"), chars(MAX_STR, "str"),
                    chars(4096, "blob")).withName("value"));

    static final StructLayout HEALTH_SET_PARAMS_V2 = structLayout(u32("version"), paddingLayout(4),
            JAVA_LONG.withName("groupId"), u32("systems"), paddingLayout(4), JAVA_LONG.withName("updateInterval"),
            JAVA_DOUBLE.withName("maxKeepAge"));

    static final StructLayout INCIDENT_INFO = structLayout(u32("system"), u32("health"),
            structLayout(chars(1024, "msg"), u32("code")).withName("error"), ENTITY_PAIR.withName("entityInfo"));

    static final int MAX_INCIDENTS = 1024; // DCGM_HEALTH_WATCH_MAX_INCIDENTS_V2

    static final StructLayout HEALTH_RESPONSE_V5 = structLayout(u32("version"), u32("overallHealth"),
            u32("incidentCount"), sequenceLayout(MAX_INCIDENTS, INCIDENT_INFO).withName("incidents"));

    static final StructLayout POLICY_CONDITION_PARAMS = structLayout(u32("tag"), paddingLayout(4),
            unionLayout(JAVA_INT.withName("boolean"), JAVA_LONG.withName("llval")).withName("val"));

    static final StructLayout POLICY_V1 = structLayout(u32("version"), u32("condition"), u32("mode"), u32("isolation"),
            u32("action"), u32("validation"), u32("response"), paddingLayout(4),
            sequenceLayout(7, POLICY_CONDITION_PARAMS).withName("parms"));

    private static StructLayout stamped(MemoryLayout... rest) {
        MemoryLayout[] members = new MemoryLayout[rest.length + 1];
        members[0] = JAVA_LONG.withName("timestamp");
        System.arraycopy(rest, 0, members, 1, rest.length);
        return structLayout(members);
    }

    static final StructLayout POLICY_CALLBACK_RESPONSE_V2 = structLayout(u32("version"), u32("condition"),
            unionLayout(
                    stamped(u32("location"), u32("numerrors")).withName("dbe"),
                    stamped(u32("counter"), paddingLayout(4)).withName("pci"),
                    stamped(u32("sbepages"), u32("dbepages")).withName("mpr"),
                    stamped(u32("thermalViolation"), paddingLayout(4)).withName("thermal"),
                    stamped(u32("powerViolation"), paddingLayout(4)).withName("power"),
                    stamped(JAVA_SHORT.withName("fieldId"), paddingLayout(2), u32("counter")).withName("nvlink"),
                    stamped(u32("errnum"), paddingLayout(4)).withName("xid")).withName("val"),
            u32("gpuId"), paddingLayout(4));

    private static StructLayout runDiag(long size) {
        return structLayout(u32("version"), u32("flags"), u32("debugLevel"), paddingLayout(4),
                JAVA_LONG.withName("groupId"), u32("validate"), paddingLayout(size - 28));
    }

    static final StructLayout RUN_DIAG_V9 = runDiag(118760);
    static final StructLayout RUN_DIAG_V10 = runDiag(119272);

    static final StructLayout DIAG_ENTITY_V1 = structLayout(ENTITY_PAIR.withName("entity"), chars(MAX_STR, "serialNum"),
            chars(5, "skuDeviceId"), paddingLayout(3));

    static final StructLayout DIAG_ERROR_V1 = structLayout(ENTITY_PAIR.withName("entity"), u32("code"), u32("category"),
            u32("severity"), chars(512, "msg"), u32("testId"));

    static final StructLayout DIAG_INFO_V1 = structLayout(ENTITY_PAIR.withName("entity"), chars(512, "msg"),
            u32("testId"));

    static final StructLayout DIAG_ENTITY_RESULT_V1 = structLayout(ENTITY_PAIR.withName("entity"), u32("result"),
            u32("testId"));

    static final int DIAG_TESTS_MAX = 20;
    static final int DIAG_ENTITIES_MAX = 1024;
    static final int DIAG_ERRORS_MAX = 32;
    static final int DIAG_RESULTS_PER_TEST = 1024;

    /** dcgmDiagTestRun_v1 (16 info indices) and _v2 (128): the only difference between response v11 and v12. */
    private static StructLayout testRun(int infoIndices) {
        return structLayout(chars(32, "name"), chars(32, "pluginName"), u32("result"), JAVA_BYTE.withName("numErrors"),
                JAVA_BYTE.withName("numInfo"), JAVA_BYTE.withName("categoryIndex"), JAVA_BYTE.withName("_unused"),
                JAVA_SHORT.withName("numResults"), chars(DIAG_ERRORS_MAX, "errorIndices"),
                chars(infoIndices, "infoIndices"),
                sequenceLayout(DIAG_RESULTS_PER_TEST, JAVA_SHORT).withName("resultIndices"), paddingLayout(2),
                structLayout(u32("version"), chars(2048, "data")).withName("auxData"));
    }

    static final StructLayout DIAG_TEST_RUN_V1 = testRun(16);
    static final StructLayout DIAG_TEST_RUN_V2 = testRun(128);

    private static StructLayout diagResponse(StructLayout testRun, int infos, long unused) {
        return structLayout(u32("version"), JAVA_BYTE.withName("numTests"), JAVA_BYTE.withName("numErrors"),
                JAVA_BYTE.withName("numInfo"), JAVA_BYTE.withName("numCategories"), JAVA_SHORT.withName("numEntities"),
                JAVA_SHORT.withName("numResults"), sequenceLayout(DIAG_TESTS_MAX, testRun).withName("tests"),
                sequenceLayout(DIAG_ENTITIES_MAX, DIAG_ENTITY_V1).withName("entities"),
                sequenceLayout(DIAG_ERRORS_MAX, DIAG_ERROR_V1).withName("errors"),
                sequenceLayout(infos, DIAG_INFO_V1).withName("info"),
                sequenceLayout((long) DIAG_TESTS_MAX * DIAG_ENTITIES_MAX, DIAG_ENTITY_RESULT_V1).withName("results"),
                chars(5 * 20, "categories"), chars(12, "dcgmVersion"), chars(MAX_STR, "driverVersion"),
                paddingLayout(unused));
    }

    static final StructLayout DIAG_RESPONSE_V11 = diagResponse(DIAG_TEST_RUN_V1, 16, 682880);
    static final StructLayout DIAG_RESPONSE_V12 = diagResponse(DIAG_TEST_RUN_V2, 128, 621952);

    /** MAKE_DCGM_VERSION: sizeof | version << 24. */
    static int version(MemoryLayout layout, int n) {
        return (int) (layout.byteSize() | ((long) n << 24));
    }

    public static final int START_EMBEDDED_V1_VERSION = version(START_EMBEDDED_V1, 1);
    public static final int CONNECT_V2_VERSION = version(CONNECT_V2, 2);
    public static final int CONNECT_V3_VERSION = version(CONNECT_V3, 1);
    public static final int VERSION_INFO_V2_VERSION = version(VERSION_INFO_V2, 2);
    public static final int DEVICE_ATTRIBUTES_V3_VERSION = version(DEVICE_ATTRIBUTES_V3, 3);
    public static final int MIG_HIERARCHY_V2_VERSION = version(MIG_HIERARCHY_V2, 2);
    public static final int FIELD_VALUE_V2_VERSION = version(FIELD_VALUE_V2, 2);
    public static final int HEALTH_SET_PARAMS_V2_VERSION = version(HEALTH_SET_PARAMS_V2, 2);
    public static final int HEALTH_RESPONSE_V5_VERSION = version(HEALTH_RESPONSE_V5, 5);
    public static final int POLICY_V1_VERSION = version(POLICY_V1, 1);
    public static final int POLICY_CALLBACK_RESPONSE_V2_VERSION = version(POLICY_CALLBACK_RESPONSE_V2, 2);
    public static final int RUN_DIAG_V9_VERSION = version(RUN_DIAG_V9, 9);
    public static final int RUN_DIAG_V10_VERSION = version(RUN_DIAG_V10, 10);
    public static final int DIAG_RESPONSE_V11_VERSION = version(DIAG_RESPONSE_V11, 11);
    public static final int DIAG_RESPONSE_V12_VERSION = version(DIAG_RESPONSE_V12, 12);

    /** Every struct by its C name: what the layout check compares with the goldens. */
    public static Map<String, MemoryLayout> all() {
        Map<String, MemoryLayout> m = new LinkedHashMap<>();
        m.put("dcgmStartEmbeddedV2Params_v1", START_EMBEDDED_V1);
        m.put("dcgmConnectV2Params_v2", CONNECT_V2);
        m.put("dcgmConnectV3Params_v1", CONNECT_V3);
        m.put("dcgmVersionInfo_v2", VERSION_INFO_V2);
        m.put("dcgmDeviceAttributes_v3", DEVICE_ATTRIBUTES_V3);
        m.put("dcgmGroupEntityPair_t", ENTITY_PAIR);
        m.put("dcgmMigHierarchyInfo_v2", MIG_HIERARCHY_INFO_V2);
        m.put("dcgmMigHierarchy_v2", MIG_HIERARCHY_V2);
        m.put("dcgmFieldValue_v2", FIELD_VALUE_V2);
        m.put("dcgmHealthSetParams_v2", HEALTH_SET_PARAMS_V2);
        m.put("dcgmIncidentInfo_t", INCIDENT_INFO);
        m.put("dcgmHealthResponse_v5", HEALTH_RESPONSE_V5);
        m.put("dcgmPolicyConditionParams_t", POLICY_CONDITION_PARAMS);
        m.put("dcgmPolicy_v1", POLICY_V1);
        m.put("dcgmPolicyCallbackResponse_v2", POLICY_CALLBACK_RESPONSE_V2);
        m.put("dcgmRunDiag_v9", RUN_DIAG_V9);
        m.put("dcgmRunDiag_v10", RUN_DIAG_V10);
        m.put("dcgmDiagEntity_v1", DIAG_ENTITY_V1);
        m.put("dcgmDiagError_v1", DIAG_ERROR_V1);
        m.put("dcgmDiagEntityResult_v1", DIAG_ENTITY_RESULT_V1);
        m.put("dcgmDiagTestRun_v1", DIAG_TEST_RUN_V1);
        m.put("dcgmDiagResponse_v11", DIAG_RESPONSE_V11);
        m.put("dcgmDiagTestRun_v2", DIAG_TEST_RUN_V2);
        m.put("dcgmDiagResponse_v12", DIAG_RESPONSE_V12);
        return m;
    }
}
