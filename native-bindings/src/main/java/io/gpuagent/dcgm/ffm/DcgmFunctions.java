package io.gpuagent.dcgm.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.gpuagent.dcgm.DcgmException;
import io.gpuagent.dcgm.DcgmReturn;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The downcall handles of one dlopened {@code libdcgm.so.4}, bound once. {@code dcgmHandle_t}, {@code dcgmGpuGrp_t}
 * and {@code dcgmFieldGrp_t} are {@code uintptr_t}: JAVA_LONG, never pointers. Optional symbols are null when absent
 * ({@code dcgmConnect_v3} arrived in 4.5). No handle is {@code critical}: any DCGM call may block on the host engine.
 */
final class DcgmFunctions {

    /** A symbol this table binds, with its descriptor. */
    record Bound(String name, boolean optional, FunctionDescriptor descriptor) {
    }

    /** {@code fpRecvUpdates}: {@code int (*)(dcgmPolicyCallbackResponse_t *, uint64_t)}, the one upcall. */
    static final FunctionDescriptor POLICY_CALLBACK = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor I_VOID = FunctionDescriptor.of(JAVA_INT);
    private static final FunctionDescriptor I_P = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor I_H = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);
    private static final FunctionDescriptor I_HP = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS);
    private static final FunctionDescriptor I_HL = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor I_HLP = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS);
    private static final FunctionDescriptor I_HLL = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor I_PPP = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);

    final String library;
    private final SymbolLookup lookup;
    private final List<Bound> bound = new ArrayList<>();

    final MethodHandle dcgmInit;
    final MethodHandle dcgmShutdown;
    final MethodHandle dcgmStartEmbedded_v2;
    final MethodHandle dcgmStopEmbedded;
    final MethodHandle dcgmConnect_v2;
    final MethodHandle dcgmConnect_v3;
    final MethodHandle dcgmDisconnect;
    final MethodHandle dcgmVersionInfo;
    final MethodHandle errorString;
    final MethodHandle dcgmGetAllSupportedDevices;
    final MethodHandle dcgmGetDeviceAttributes;
    final MethodHandle dcgmGetGpuInstanceHierarchy;
    final MethodHandle dcgmGroupCreate;
    final MethodHandle dcgmGroupDestroy;
    final MethodHandle dcgmGroupAddEntity;
    final MethodHandle dcgmFieldGroupCreate;
    final MethodHandle dcgmFieldGroupDestroy;
    final MethodHandle dcgmWatchFields;
    final MethodHandle dcgmUnwatchFields;
    final MethodHandle dcgmEntitiesGetLatestValues;
    final MethodHandle dcgmHealthSet_v2;
    final MethodHandle dcgmHealthCheck;
    final MethodHandle dcgmPolicySet;
    final MethodHandle dcgmPolicyRegister_v2;
    final MethodHandle dcgmPolicyUnregister;
    final MethodHandle dcgmRunDiagnostic;
    final MethodHandle dcgmActionValidate_v2;
    final MethodHandle dcgmStopDiagnostic;

    DcgmFunctions(String library) {
        this.library = library;
        try {
            lookup = library.contains("/")
                    ? SymbolLookup.libraryLookup(Path.of(library).toAbsolutePath(), Arena.global())
                    : SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new DcgmException(DcgmReturn.LIBRARY_NOT_FOUND.code(), "dlopen", "cannot load " + library + " ("
                    + e.getMessage() + "); install datacenter-gpu-manager-4, or set the DCGM library path");
        }
        dcgmInit = required("dcgmInit", I_VOID);
        dcgmShutdown = required("dcgmShutdown", I_VOID);
        dcgmStartEmbedded_v2 = required("dcgmStartEmbedded_v2", I_P);
        dcgmStopEmbedded = required("dcgmStopEmbedded", I_H);
        dcgmConnect_v2 = required("dcgmConnect_v2", I_PPP);
        dcgmConnect_v3 = optional("dcgmConnect_v3", I_PPP);
        dcgmDisconnect = required("dcgmDisconnect", I_H);
        dcgmVersionInfo = required("dcgmVersionInfo", I_P);
        errorString = required("errorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        dcgmGetAllSupportedDevices = required("dcgmGetAllSupportedDevices",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        dcgmGetDeviceAttributes = required("dcgmGetDeviceAttributes",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS));
        dcgmGetGpuInstanceHierarchy = required("dcgmGetGpuInstanceHierarchy", I_HP);
        dcgmGroupCreate = required("dcgmGroupCreate",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
        dcgmGroupDestroy = required("dcgmGroupDestroy", I_HL);
        dcgmGroupAddEntity = required("dcgmGroupAddEntity",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT));
        dcgmFieldGroupCreate = required("dcgmFieldGroupCreate",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        dcgmFieldGroupDestroy = required("dcgmFieldGroupDestroy", I_HL);
        dcgmWatchFields = required("dcgmWatchFields",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_INT));
        dcgmUnwatchFields = required("dcgmUnwatchFields", I_HLL);
        dcgmEntitiesGetLatestValues = required("dcgmEntitiesGetLatestValues",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        dcgmHealthSet_v2 = required("dcgmHealthSet_v2", I_HP);
        dcgmHealthCheck = required("dcgmHealthCheck", I_HLP);
        dcgmPolicySet = required("dcgmPolicySet",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG));
        dcgmPolicyRegister_v2 = required("dcgmPolicyRegister_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        dcgmPolicyUnregister = required("dcgmPolicyUnregister",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        dcgmRunDiagnostic = required("dcgmRunDiagnostic",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
        dcgmActionValidate_v2 = required("dcgmActionValidate_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        dcgmStopDiagnostic = optional("dcgmStopDiagnostic", I_H);
    }

    private MethodHandle required(String name, FunctionDescriptor d) {
        bound.add(new Bound(name, false, d));
        return lookup.find(name).map(a -> LINKER.downcallHandle(a, d))
                .orElseThrow(() -> new DcgmException(DcgmReturn.FUNCTION_NOT_FOUND.code(), name,
                        library + " does not export " + name + "; gpu-agent needs DCGM 4.0 or later"));
    }

    private MethodHandle optional(String name, FunctionDescriptor d) {
        bound.add(new Bound(name, true, d));
        return lookup.find(name).map(a -> LINKER.downcallHandle(a, d)).orElse(null);
    }

    /** Every symbol bound, in order: the coverage table in native-bindings/README.md lists them, the native-image
     * registration (DcgmForeignConfigTest) their descriptors. */
    List<Bound> bound() {
        return Collections.unmodifiableList(bound);
    }
}
