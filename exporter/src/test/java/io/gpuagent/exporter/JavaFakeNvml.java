package io.gpuagent.exporter;

import io.gpuagent.nvml.ClockType;
import io.gpuagent.nvml.EngineUtilization;
import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.FieldValue;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.PciInfo;
import io.gpuagent.nvml.PcieLink;
import io.gpuagent.nvml.RecoveryAction;
import io.gpuagent.nvml.Utilization;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A small Java stand-in for {@link Nvml} for the sampler's logic tests (deterministic hangs and failures);
 * the end-to-end tests use the C fake driver through FFM. Each GPU answers plausible H100 values; a test
 * overrides a method's answer with {@link FakeGpu#answer}, makes it fail with {@link FakeGpu#fail}, or
 * blocks it with {@link FakeGpu#block}.
 */
final class JavaFakeNvml implements Nvml {
    final List<FakeGpu> gpus = new ArrayList<>();
    volatile int count;

    JavaFakeNvml(int n) {
        for (int i = 0; i < n; i++) {
            gpus.add(new FakeGpu(i));
        }
        count = n;
    }

    @Override
    public String driverVersion() {
        return "550.54.15";
    }

    @Override
    public String nvmlVersion() {
        return "12.550.54.15";
    }

    @Override
    public int cudaDriverVersion() {
        return 12040;
    }

    @Override
    public int deviceCount() {
        return count;
    }

    @Override
    public GpuDevice device(int index) {
        if (index >= count) {
            throw new NvmlException(NvmlReturn.INVALID_ARGUMENT.code(), "nvmlDeviceGetHandleByIndex_v2");
        }
        return gpus.get(index).device;
    }

    @Override
    public GpuDevice deviceByUuid(String uuid) {
        throw new UnsupportedOperationException();
    }

    @Override
    public GpuDevice deviceByPciBusId(String pciBusId) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<GpuDevice> devices() {
        return gpus.stream().limit(count).map(g -> g.device).toList();
    }

    @Override
    public EventSet createEventSet() {
        throw new UnsupportedOperationException();
    }

    @Override
    public String errorString(int code) {
        return NvmlReturn.of(code).name();
    }

    @Override
    public boolean drainState(PciInfo pci) {
        return false;
    }

    @Override
    public void modifyDrainState(PciInfo pci, boolean drain) {
    }

    @Override
    public void removeGpu(PciInfo pci) {
    }

    @Override
    public void close() {
    }

    static final class FakeGpu implements InvocationHandler {
        final int index;
        final GpuDevice device;
        final Map<String, Function<Object[], Object>> answers = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        final Map<Integer, Long> fields = new ConcurrentHashMap<>();
        final Map<Integer, Integer> fieldErrors = new ConcurrentHashMap<>();
        volatile boolean lost;
        volatile String blockedMethod;
        volatile CountDownLatch release;

        FakeGpu(int index) {
            this.index = index;
            this.device = (GpuDevice) Proxy.newProxyInstance(GpuDevice.class.getClassLoader(),
                    new Class<?>[] {GpuDevice.class}, this);
            fields.put(82, 30L + index); // memory temp
            fields.put(83, 1_000_000L * (index + 1)); // energy mJ
            fields.put(94, 0L); // pcie replay
            fields.put(142, 0L);
            fields.put(143, 0L);
            fields.put(144, 0L);
            fields.put(145, 0L);
            fields.put(138, 100L);
            fields.put(139, 200L);
            fields.put(190, 700_000L);
        }

        FakeGpu answer(String method, Object value) {
            answers.put(method, args -> value);
            return this;
        }

        FakeGpu fail(String method, NvmlReturn code) {
            answers.put(method, args -> {
                throw new NvmlException(code.code(), "nvml" + Character.toUpperCase(method.charAt(0)) + method.substring(1));
            });
            return this;
        }

        /** Makes {@code method} block until the returned latch is counted down. */
        CountDownLatch block(String method) {
            CountDownLatch latch = new CountDownLatch(1);
            release = latch;
            blockedMethod = method;
            return latch;
        }

        int calls(String method) {
            AtomicInteger n = calls.get(method);
            return n == null ? 0 : n.get();
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "FakeGpu" + index;
                case "index":
                    return index;
                default:
                    break;
            }
            calls.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
            if (lost) {
                throw new NvmlException(NvmlReturn.GPU_IS_LOST.code(), "nvml" + name);
            }
            if (name.equals(blockedMethod)) {
                release.await();
            }
            Function<Object[], Object> a = answers.get(name);
            if (a != null) {
                return a.apply(args);
            }
            return defaults(name, args);
        }

        private Object defaults(String name, Object[] args) {
            return switch (name) {
                case "name" -> "NVIDIA H100 80GB HBM3";
                case "uuid" -> "GPU-00000000-0000-0000-0000-00000000000" + index;
                case "serial" -> "165322000" + index + "0";
                case "vbiosVersion" -> "96.00.99.00.01";
                case "minorNumber" -> index;
                case "pciInfo" -> new PciInfo("0000:1" + index + ":00.0", 0, 0x10 + index, 0, 0x233010DE, 0x16C110DE,
                        "00000000:1" + index + ":00.0");
                case "temperature" -> 40 + index;
                case "temperatureThreshold" -> 90;
                case "clockMhz" -> ((ClockType) args[0]) == ClockType.MEM ? 2619 : 1980;
                case "maxClockMhz" -> 1980;
                case "utilizationRates" -> new Utilization(10 + index, 5);
                case "encoderUtilization", "decoderUtilization" -> new EngineUtilization(0, 167000);
                case "memoryInfo" -> new MemoryInfo(81559L << 20, 534L << 20, (81559L - 534 - 1024) << 20, 1024L << 20, true);
                case "powerUsageMw" -> 100_000L + index;
                case "enforcedPowerLimitMw", "powerLimitMw", "powerDefaultLimitMw" -> 700_000L;
                case "clockEventReasons" -> 1L;
                case "supportedClockEventReasons" -> 0x1ffL;
                case "performanceState" -> 0;
                case "fanCount" -> 0;
                case "fanSpeedPercent" -> 30;
                case "pcieThroughputKBps" -> 1024L;
                case "pcieReplayCounter" -> 0L;
                case "pcieLink" -> new PcieLink(5, 16, 5, 16);
                case "nvLinkCount" -> 2;
                case "nvLinkActive" -> true;
                case "nvLinkErrorCounter" -> 0L;
                case "computeProcesses", "graphicsProcesses" -> List.of();
                case "fieldValues" -> fieldValues(args);
                case "recoveryAction" -> RecoveryAction.NONE;
                case "gpmSupported" -> false;
                default -> throw new NvmlException(NvmlReturn.NOT_SUPPORTED.code(), "nvml" + name);
            };
        }

        @SuppressWarnings("unchecked")
        private List<FieldValue> fieldValues(Object[] args) {
            List<FieldRequest> requests = (List<FieldRequest>) args[0];
            List<FieldValue> out = new ArrayList<>();
            for (FieldRequest r : requests) {
                Integer err = fieldErrors.get(r.fieldId());
                Long v = fields.get(r.fieldId());
                int code = err != null ? err : v == null ? NvmlReturn.NOT_SUPPORTED.code() : 0;
                out.add(new FieldValue(r.fieldId(), r.scopeId(), code, FieldValue.TYPE_UNSIGNED_LONG_LONG,
                        v == null ? 0 : v, 0));
            }
            return out;
        }
    }
}
