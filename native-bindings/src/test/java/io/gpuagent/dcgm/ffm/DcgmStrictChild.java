package io.gpuagent.dcgm.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.dcgm.Entity;
import io.gpuagent.dcgm.PolicyCondition;
import io.gpuagent.dcgm.PolicyRegistration;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

/**
 * Run in a child JVM by {@link DcgmStrictModeTest} with the fake DCGM strict: each case misuses DCGM the way a real
 * libdcgm punishes (the strict fake aborts naming the call), or uses it through the bindings (exits 0).
 */
public final class DcgmStrictChild {
    public static void main(String[] args) throws Throwable {
        String library = args[1];
        if (args[0].equals("bindings-clean")) {
            bindingsClean(library);
            return;
        }
        DcgmFunctions fn = new DcgmFunctions(library);
        try (Arena arena = Arena.ofConfined()) {
            check((int) fn.dcgmInit.invokeExact());
            MemorySegment params = arena.allocate(DcgmLayouts.START_EMBEDDED_V1);
            params.set(JAVA_INT, 0, DcgmLayouts.START_EMBEDDED_V1_VERSION);
            params.set(JAVA_INT, 4, 1);
            check((int) fn.dcgmStartEmbedded_v2.invokeExact(params));
            long handle = params.get(JAVA_LONG, 8);
            MemorySegment out = arena.allocate(JAVA_LONG);
            switch (args[0]) {
                case "group-after-destroy" -> {
                    check((int) fn.dcgmGroupCreate.invokeExact(handle, 1, arena.allocateFrom("g"), out));
                    long group = out.get(JAVA_LONG, 0);
                    check((int) fn.dcgmGroupDestroy.invokeExact(handle, group));
                    System.out.println("answered " + (int) fn.dcgmGroupAddEntity.invokeExact(handle, group, 1, 0));
                }
                case "field-group-after-destroy" -> {
                    MemorySegment ids = arena.allocate(JAVA_SHORT, 1);
                    ids.set(JAVA_SHORT, 0, (short) 1002);
                    check((int) fn.dcgmFieldGroupCreate.invokeExact(handle, 1, ids, arena.allocateFrom("f"), out));
                    long fieldGroup = out.get(JAVA_LONG, 0);
                    check((int) fn.dcgmFieldGroupDestroy.invokeExact(handle, fieldGroup));
                    System.out.println("answered " + (int) fn.dcgmWatchFields.invokeExact(handle, 0x7fffffffL, fieldGroup,
                            1_000_000L, 60.0, 0));
                }
                case "handle-after-shutdown" -> {
                    check((int) fn.dcgmStopEmbedded.invokeExact(handle));
                    check((int) fn.dcgmShutdown.invokeExact());
                    System.out.println("answered " + (int) fn.dcgmGetAllSupportedDevices.invokeExact(handle,
                            arena.allocate(JAVA_INT, 32), arena.allocate(JAVA_INT)));
                }
                case "handle-after-stop" -> {
                    check((int) fn.dcgmStopEmbedded.invokeExact(handle));
                    System.out.println("answered " + (int) fn.dcgmGetAllSupportedDevices.invokeExact(handle,
                            arena.allocate(JAVA_INT, 32), arena.allocate(JAVA_INT)));
                }
                case "callback-left-registered" -> {
                    check((int) fn.dcgmGroupCreate.invokeExact(handle, 0, arena.allocateFrom("g"), out));
                    long group = out.get(JAVA_LONG, 0);
                    check((int) fn.dcgmPolicyRegister_v2.invokeExact(handle, group, 0x40, PolicyUpcalls.stub(), 1L));
                    System.out.println("answered " + (int) fn.dcgmShutdown.invokeExact());
                }
                default -> throw new IllegalArgumentException(args[0]);
            }
        }
    }

    /** Everything through the bindings, a 1000-violation burst included, then close: strict mode has nothing to say. */
    private static void bindingsClean(String library) throws Exception {
        Path scenario = Path.of(System.getenv("FAKE_NVML_SCENARIO"));
        try (Dcgm dcgm = Dcgm.embedded(library)) {
            long group = dcgm.createGroup("g", List.of(Entity.gpu(0), Entity.gpu(1)));
            long fields = dcgm.createFieldGroup("f", new int[] {1002, 1005});
            dcgm.watchFields(group, fields, Duration.ofSeconds(1), Duration.ofMinutes(1), 0);
            dcgm.latestValues(List.of(Entity.gpu(0)), new int[] {1002});
            dcgm.setPolicy(group, EnumSet.of(PolicyCondition.XID));
            PolicyRegistration reg = dcgm.registerPolicy(group, EnumSet.of(PolicyCondition.XID), 1000);
            Path tmp = Files.createTempFile(scenario.getParent(), "child", ".tmp");
            Files.writeString(tmp, Files.readString(scenario) + "dcgm.policy.1 = 1 xid 79 x1000\n");
            Files.move(tmp, scenario, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            int got = 0;
            while (got < 1000 && reg.poll(Duration.ofSeconds(10)).isPresent()) {
                got++;
            }
            dcgm.runDiagnostic(group, io.gpuagent.dcgm.DiagLevel.R1);
            dcgm.healthCheck(group);
            System.out.println("violations " + got + ", dropped " + reg.dropped());
            // Group, field group, watch and the registration are left to close, as an agent stopping would.
        }
        System.out.println("clean");
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new IllegalStateException("DCGM answered " + rc);
        }
    }
}
