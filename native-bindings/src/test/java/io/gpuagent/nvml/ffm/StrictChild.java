package io.gpuagent.nvml.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.Nvml;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Run in a child JVM by {@link StrictModeTest} with the fake in strict mode: each case misuses NVML the way
 * a real {@code libnvidia-ml.so} punishes with a crash (the strict fake aborts), or uses it correctly
 * through the bindings' guard (exits 0). Raw calls go around the bindings to reach the library directly.
 */
public final class StrictChild {
    public static void main(String[] args) throws Throwable {
        String library = args[1];
        Functions fn = new Functions(NvmlLibrary.open(library));
        switch (args[0]) {
            case "handle-after-shutdown" -> {
                MemorySegment handle = rawInitAndHandle(fn);
                check((int) fn.system.nvmlShutdown.invokeExact());
                rawTemperature(fn, handle);
            }
            case "stale-handle-after-reinit" -> {
                MemorySegment handle = rawInitAndHandle(fn);
                check((int) fn.system.nvmlShutdown.invokeExact());
                check((int) fn.system.nvmlInit_v2.invokeExact());
                rawTemperature(fn, handle);
            }
            case "shutdown-under-call" -> {
                MemorySegment handle = rawInitAndHandle(fn);
                Thread slow = Thread.ofPlatform().start(() -> rawTemperature(fn, handle));
                Thread.sleep(100);
                check((int) fn.system.nvmlShutdown.invokeExact());
                slow.join();
            }
            case "event-set-after-free" -> {
                try (Arena arena = Arena.ofConfined()) {
                    check((int) fn.system.nvmlInit_v2.invokeExact());
                    MemorySegment out = arena.allocate(ADDRESS);
                    check((int) fn.events.nvmlEventSetCreate.invokeExact(out));
                    MemorySegment set = out.get(ADDRESS, 0);
                    check((int) fn.events.nvmlEventSetFree.invokeExact(set));
                    MemorySegment data = arena.allocate(Layouts.EVENT_DATA);
                    int rc = (int) fn.events.nvmlEventSetWait_v2.invokeExact(set, data, 10);
                    System.out.println("wait answered " + rc);
                }
            }
            case "hold" -> {
                check((int) fn.system.nvmlInit_v2.invokeExact());
                System.out.println("held");
                Thread.sleep(60_000);
            }
            case "guarded" -> {
                // The same sequences through the bindings: close waits for the slow call, frees after close
                // are skipped, and a new instance gets new handles.
                Nvml nvml = Nvml.open(library);
                GpuDevice gpu = nvml.device(0);
                EventSet set = nvml.createEventSet();
                GpmSample sample = gpu.gpmSample();
                Thread slow = Thread.ofPlatform().start(gpu::temperature);
                Thread.sleep(100);
                nvml.close();
                slow.join();
                set.close();
                sample.close();
                try (Nvml again = Nvml.open(library)) {
                    System.out.println("temperature after re-init " + again.device(0).temperature());
                }
            }
            case "mig-handle-after-destroy" -> {
                MemorySegment mig = rawMigHandle(fn, rawInitAndHandle(fn));
                destroyGpuInstance7();
                rawMigUuid(fn, mig);
            }
            case "mig-handle-after-shutdown" -> {
                MemorySegment mig = rawMigHandle(fn, rawInitAndHandle(fn));
                check((int) fn.system.nvmlShutdown.invokeExact());
                rawMigUuid(fn, mig);
            }
            case "gpu-instance-after-destroy" -> {
                MemorySegment instance = rawGpuInstance7(fn, rawInitAndHandle(fn));
                destroyGpuInstance7();
                rawGpuInstanceInfo(fn, instance);
            }
            case "gpu-instance-after-shutdown" -> {
                MemorySegment instance = rawGpuInstance7(fn, rawInitAndHandle(fn));
                check((int) fn.system.nvmlShutdown.invokeExact());
                rawGpuInstanceInfo(fn, instance);
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.println("done");
    }

    private static MemorySegment rawInitAndHandle(Functions fn) throws Throwable {
        check((int) fn.system.nvmlInit_v2.invokeExact());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) fn.system.nvmlDeviceGetHandleByIndex_v2.invokeExact(0, out));
            return out.get(ADDRESS, 0);
        }
    }

    /** The MIG device in slot 0 of GPU 0 (GPU instance 7 in {@link StrictModeTest}'s MIG scenario). */
    private static MemorySegment rawMigHandle(Functions fn, MemorySegment gpu) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) fn.mig.nvmlDeviceGetMigDeviceHandleByIndex.invokeExact(gpu, 0, out));
            return out.get(ADDRESS, 0);
        }
    }

    private static MemorySegment rawGpuInstance7(Functions fn, MemorySegment gpu) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) fn.mig.nvmlDeviceGetGpuInstanceById.invokeExact(gpu, 7, out));
            return out.get(ADDRESS, 0);
        }
    }

    private static void rawMigUuid(Functions fn, MemorySegment mig) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Native.UUID_SIZE);
            int rc = (int) fn.identity.nvmlDeviceGetUUID.invokeExact(mig, buffer, Native.UUID_SIZE);
            System.out.println("uuid answered " + rc);
        }
    }

    private static void rawGpuInstanceInfo(Functions fn, MemorySegment instance) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(Layouts.GPU_INSTANCE_INFO);
            int rc = (int) fn.mig.nvmlGpuInstanceGetInfo.invokeExact(instance, info);
            System.out.println("instance info answered " + rc);
        }
    }

    /** Rewrites this child's scenario without GPU instance 7 and waits until the fake answers from it. */
    private static void destroyGpuInstance7() throws Exception {
        Path scenario = Path.of(System.getenv("FAKE_NVML_SCENARIO"));
        Path applied = Path.of(scenario + ".applied");
        Path tmp = Files.createTempFile(scenario.getParent(), "destroy", ".tmp");
        Files.writeString(tmp, Files.readString(scenario) + "gpu.0.mig.7.profile = none\nmarker = destroyed\n");
        Files.move(tmp, scenario, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(applied) || !Files.readString(applied).strip().equals("destroyed")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the fake did not apply " + scenario);
            }
            Thread.sleep(5);
        }
    }

    private static void rawTemperature(Functions fn, MemorySegment handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int rc = (int) fn.thermal.nvmlDeviceGetTemperature.invokeExact(handle, 0, out);
            System.out.println("temperature answered " + rc);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new IllegalStateException("NVML returned " + rc);
        }
    }
}
