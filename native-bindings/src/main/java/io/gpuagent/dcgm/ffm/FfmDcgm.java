package io.gpuagent.dcgm.ffm;

import io.gpuagent.ffm.CallGuard;
import static io.gpuagent.dcgm.ffm.DcgmLayouts.*;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.dcgm.DcgmException;
import io.gpuagent.dcgm.DcgmReturn;
import io.gpuagent.dcgm.DcgmVersion;
import io.gpuagent.dcgm.DiagLevel;
import io.gpuagent.dcgm.DiagReport;
import io.gpuagent.dcgm.DiagResult;
import io.gpuagent.dcgm.Entity;
import io.gpuagent.dcgm.EntityGroup;
import io.gpuagent.dcgm.FieldData;
import io.gpuagent.dcgm.FieldValue;
import io.gpuagent.dcgm.GpuAttributes;
import io.gpuagent.dcgm.HealthIncident;
import io.gpuagent.dcgm.HealthReport;
import io.gpuagent.dcgm.HealthResult;
import io.gpuagent.dcgm.MigEntity;
import io.gpuagent.dcgm.PolicyCondition;
import io.gpuagent.dcgm.PolicyRegistration;
import io.gpuagent.dcgm.PolicyViolation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link Dcgm} over one dlopened {@code libdcgm.so.4} (or the fake). The same lifecycle guard as the NVML bindings:
 * every call holds a shared lock for its native part and {@link #close()} takes it exclusively, so
 * {@code dcgmShutdown} never runs under a call in flight; after close, calls fail with UNINITIALIZED without reaching
 * the library. The health (1 MB) and diagnostic (1.4 MB) responses are allocated once, at first use, and reused under
 * their own locks. No {@link MemorySegment} leaves this package.
 */
public final class FfmDcgm implements Dcgm {

    private static final int OPERATION_MODE_AUTO = 1;
    private static final long INT64_BLANK = 0x7ffffffffffffff0L;
    private static final double FP64_BLANK = 140737488355328.0;

    private final DcgmFunctions fn;
    private final long handle;
    private final boolean embedded;
    private final DcgmVersion version;
    private final CallGuard guard = new CallGuard("DCGM");
    private final Arena buffers = Arena.ofShared();
    private final ReentrantLock healthLock = new ReentrantLock();
    private final ReentrantLock diagLock = new ReentrantLock();
    private MemorySegment healthResponse; // guarded by healthLock
    private MemorySegment diagResponse;   // guarded by diagLock
    private final Set<Registration> registrations = ConcurrentHashMap.newKeySet();

    private FfmDcgm(DcgmFunctions fn, long handle, boolean embedded, DcgmVersion version) {
        this.fn = fn;
        this.handle = handle;
        this.embedded = embedded;
        this.version = version;
    }

    /** See {@link Dcgm#embedded(String)}. */
    public static Dcgm embedded(String library) {
        DcgmFunctions fn = new DcgmFunctions(library);
        DcgmVersion version = init(fn);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = struct(arena, START_EMBEDDED_V1, START_EMBEDDED_V1_VERSION);
            params.set(JAVA_INT, off(START_EMBEDDED_V1, "opMode"), OPERATION_MODE_AUTO);
            params.set(ADDRESS, off(START_EMBEDDED_V1, "logFile"), MemorySegment.NULL);
            int rc = (int) fn.dcgmStartEmbedded_v2.invokeExact(params);
            if (rc != 0) {
                shutdownQuietly(fn);
                throw new DcgmException(rc, "dcgmStartEmbedded_v2", describe(fn, rc));
            }
            return new FfmDcgm(fn, params.get(JAVA_LONG, off(START_EMBEDDED_V1, "dcgmHandle")), true, version);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** See {@link Dcgm#remote(String, String, Duration)}. */
    public static Dcgm remote(String library, String address, Duration connectTimeout) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("the DCGM host engine address is empty; set it to host:port,"
                    + " tcp://host:port or unix:///path");
        }
        DcgmFunctions fn = new DcgmFunctions(library);
        DcgmVersion version = init(fn);
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis()));
        boolean scheme = address.startsWith("tcp://") || address.startsWith("unix://");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            int rc;
            String function;
            if (scheme && fn.dcgmConnect_v3 != null) {
                function = "dcgmConnect_v3";
                MemorySegment params = struct(arena, CONNECT_V3, CONNECT_V3_VERSION);
                params.set(JAVA_INT, off(CONNECT_V3, "timeoutMs"), timeoutMs);
                rc = (int) fn.dcgmConnect_v3.invokeExact(arena.allocateFrom(address), params, out);
            } else {
                function = "dcgmConnect_v2";
                boolean unix = address.startsWith("unix://");
                String plain = unix ? address.substring(7) : address.startsWith("tcp://") ? address.substring(6) : address;
                MemorySegment params = struct(arena, CONNECT_V2, CONNECT_V2_VERSION);
                params.set(JAVA_INT, off(CONNECT_V2, "timeoutMs"), timeoutMs);
                params.set(JAVA_INT, off(CONNECT_V2, "addressIsUnixSocket"), unix ? 1 : 0);
                rc = (int) fn.dcgmConnect_v2.invokeExact(arena.allocateFrom(plain), params, out);
            }
            if (rc != 0) {
                shutdownQuietly(fn);
                throw new DcgmException(rc, function, describe(fn, rc) + " (host engine " + address + ")");
            }
            return new FfmDcgm(fn, out.get(JAVA_LONG, 0), false, version);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static DcgmVersion init(DcgmFunctions fn) {
        try {
            int rc = (int) fn.dcgmInit.invokeExact();
            if (rc != 0) {
                throw new DcgmException(rc, "dcgmInit", describe(fn, rc));
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment info = struct(arena, VERSION_INFO_V2, VERSION_INFO_V2_VERSION);
                rc = (int) fn.dcgmVersionInfo.invokeExact(info);
                if (rc != 0) {
                    shutdownQuietly(fn);
                    throw new DcgmException(rc, "dcgmVersionInfo", describe(fn, rc));
                }
                return DcgmVersion.parse(cString(info, off(VERSION_INFO_V2, "rawBuildInfoString"), 512));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void shutdownQuietly(DcgmFunctions fn) {
        try {
            int ignored = (int) fn.dcgmShutdown.invokeExact();
        } catch (Throwable ignored) {
            // the failure being reported matters more
        }
    }

    private static String describe(DcgmFunctions fn, int rc) {
        try {
            MemorySegment s = (MemorySegment) fn.errorString.invokeExact(rc);
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "";
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Holds DCGM open for one call; UNINITIALIZED once close has begun. */
    private CallGuard.Held hold(String function) {
        return guard.hold(function, f -> new DcgmException(DcgmReturn.UNINITIALIZED.code(), f, "this Dcgm was closed"));
    }

    private void check(int rc, String function) {
        if (rc != 0) {
            throw new DcgmException(rc, function, describe(fn, rc));
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** A zero-filled struct with its version word written. */
    private static MemorySegment struct(Arena arena, MemoryLayout layout, int version) {
        MemorySegment s = arena.allocate(layout); // zero-filled
        s.set(JAVA_INT, 0, version);
        return s;
    }

    private static long off(MemoryLayout layout, String... path) {
        PathElement[] elements = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = groupElement(path[i]);
        }
        return layout.byteOffset(elements);
    }

    private static String cString(MemorySegment s, long offset, long max) {
        MemorySegment slice = s.asSlice(offset, max);
        long n = 0;
        while (n < max && slice.get(JAVA_BYTE, n) != 0) {
            n++;
        }
        return new String(slice.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------------------

    @Override
    public boolean embedded() {
        return embedded;
    }

    @Override
    public DcgmVersion version() {
        return version;
    }

    @Override
    public List<Integer> supportedGpus() {
        try (var h = hold("dcgmGetAllSupportedDevices"); Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocate(JAVA_INT, 32); // DCGM_MAX_NUM_DEVICES
            MemorySegment count = arena.allocate(JAVA_INT);
            check((int) fn.dcgmGetAllSupportedDevices.invokeExact(handle, ids, count), "dcgmGetAllSupportedDevices");
            int n = Math.min(32, count.get(JAVA_INT, 0));
            List<Integer> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(ids.getAtIndex(JAVA_INT, i));
            }
            return List.copyOf(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public GpuAttributes attributes(int gpuId) {
        try (var h = hold("dcgmGetDeviceAttributes"); Arena arena = Arena.ofConfined()) {
            MemorySegment a = struct(arena, DEVICE_ATTRIBUTES_V3, DEVICE_ATTRIBUTES_V3_VERSION);
            check((int) fn.dcgmGetDeviceAttributes.invokeExact(handle, gpuId, a), "dcgmGetDeviceAttributes");
            return new GpuAttributes(gpuId, id(a, "uuid"), id(a, "deviceName"), id(a, "pciBusId"), id(a, "serial"),
                    id(a, "driverVersion"));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static String id(MemorySegment attributes, String member) {
        return cString(attributes, off(DEVICE_ATTRIBUTES_V3, "identifiers", member), MAX_STR);
    }

    @Override
    public List<MigEntity> migHierarchy() {
        try (var h = hold("dcgmGetGpuInstanceHierarchy"); Arena arena = Arena.ofConfined()) {
            MemorySegment m = struct(arena, MIG_HIERARCHY_V2, MIG_HIERARCHY_V2_VERSION);
            check((int) fn.dcgmGetGpuInstanceHierarchy.invokeExact(handle, m), "dcgmGetGpuInstanceHierarchy");
            int n = Math.min(MAX_HIERARCHY_INFO, m.get(JAVA_INT, off(MIG_HIERARCHY_V2, "count")));
            long base = off(MIG_HIERARCHY_V2, "entityList");
            long info = off(MIG_HIERARCHY_INFO_V2, "info");
            List<MigEntity> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                MemorySegment e = m.asSlice(base + i * MIG_HIERARCHY_INFO_V2.byteSize(), MIG_HIERARCHY_INFO_V2);
                out.add(new MigEntity(entity(e, 0), entity(e, 8), cString(e, info, 128),
                        e.get(JAVA_INT, off(MIG_HIERARCHY_INFO_V2, "info", "nvmlGpuIndex")),
                        e.get(JAVA_INT, off(MIG_HIERARCHY_INFO_V2, "info", "nvmlInstanceId")),
                        e.get(JAVA_INT, off(MIG_HIERARCHY_INFO_V2, "info", "nvmlComputeInstanceId")),
                        e.get(JAVA_INT, off(MIG_HIERARCHY_INFO_V2, "info", "nvmlMigProfileId")),
                        e.get(JAVA_INT, off(MIG_HIERARCHY_INFO_V2, "info", "nvmlProfileSlices"))));
            }
            return List.copyOf(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static Entity entity(MemorySegment s, long offset) {
        return new Entity(EntityGroup.of(s.get(JAVA_INT, offset)), s.get(JAVA_INT, offset + 4));
    }

    @Override
    public long createGroup(String name, List<Entity> entities) {
        long group;
        try (var h = hold("dcgmGroupCreate"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) fn.dcgmGroupCreate.invokeExact(handle, 1 /* DCGM_GROUP_EMPTY */, arena.allocateFrom(name), out),
                    "dcgmGroupCreate");
            group = out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        try (var h = hold("dcgmGroupAddEntity")) {
            for (Entity e : entities) {
                check((int) fn.dcgmGroupAddEntity.invokeExact(handle, group, e.group().code(), e.id()), "dcgmGroupAddEntity");
            }
            return group;
        } catch (Throwable t) {
            try {
                destroyGroup(group);
            } catch (RuntimeException ignored) {
                // the add's failure is the one to report
            }
            throw rethrow(t);
        }
    }

    @Override
    public void destroyGroup(long groupId) {
        try (var h = hold("dcgmGroupDestroy")) {
            check((int) fn.dcgmGroupDestroy.invokeExact(handle, groupId), "dcgmGroupDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public long createFieldGroup(String name, int[] fieldIds) {
        try (var h = hold("dcgmFieldGroupCreate"); Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocate(JAVA_SHORT, fieldIds.length);
            for (int i = 0; i < fieldIds.length; i++) {
                if (fieldIds[i] <= 0 || fieldIds[i] > 0xFFFF) {
                    throw new IllegalArgumentException("DCGM field id out of range: " + fieldIds[i]);
                }
                ids.setAtIndex(JAVA_SHORT, i, (short) fieldIds[i]);
            }
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) fn.dcgmFieldGroupCreate.invokeExact(handle, fieldIds.length, ids, arena.allocateFrom(name), out),
                    "dcgmFieldGroupCreate");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void destroyFieldGroup(long fieldGroupId) {
        try (var h = hold("dcgmFieldGroupDestroy")) {
            check((int) fn.dcgmFieldGroupDestroy.invokeExact(handle, fieldGroupId), "dcgmFieldGroupDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void watchFields(long groupId, long fieldGroupId, Duration updateEvery, Duration keepAge, int keepSamples) {
        long micros = Math.max(1, updateEvery.toNanos() / 1000);
        double age = keepAge.toNanos() / 1e9;
        try (var h = hold("dcgmWatchFields")) {
            check((int) fn.dcgmWatchFields.invokeExact(handle, groupId, fieldGroupId, micros, age, keepSamples),
                    "dcgmWatchFields");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void unwatchFields(long groupId, long fieldGroupId) {
        try (var h = hold("dcgmUnwatchFields")) {
            check((int) fn.dcgmUnwatchFields.invokeExact(handle, groupId, fieldGroupId), "dcgmUnwatchFields");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final long FV_ENTITY_GROUP = off(FIELD_VALUE_V2, "entityGroupId");
    private static final long FV_ENTITY = off(FIELD_VALUE_V2, "entityId");
    private static final long FV_FIELD = off(FIELD_VALUE_V2, "fieldId");
    private static final long FV_TYPE = off(FIELD_VALUE_V2, "fieldType");
    private static final long FV_STATUS = off(FIELD_VALUE_V2, "status");
    private static final long FV_TS = off(FIELD_VALUE_V2, "ts");
    private static final long FV_VALUE = off(FIELD_VALUE_V2, "value");

    @Override
    public List<FieldValue> latestValues(List<Entity> entities, int[] fieldIds) {
        if (entities.isEmpty() || fieldIds.length == 0) {
            return List.of();
        }
        try (var h = hold("dcgmEntitiesGetLatestValues"); Arena arena = Arena.ofConfined()) {
            MemorySegment pairs = arena.allocate(ENTITY_PAIR, entities.size());
            for (int i = 0; i < entities.size(); i++) {
                pairs.set(JAVA_INT, i * 8L, entities.get(i).group().code());
                pairs.set(JAVA_INT, i * 8L + 4, entities.get(i).id());
            }
            MemorySegment fields = arena.allocate(JAVA_SHORT, fieldIds.length);
            for (int i = 0; i < fieldIds.length; i++) {
                fields.setAtIndex(JAVA_SHORT, i, (short) fieldIds[i]);
            }
            int n = entities.size() * fieldIds.length;
            MemorySegment values = arena.allocate(FIELD_VALUE_V2, n);
            for (int i = 0; i < n; i++) {
                values.set(JAVA_INT, i * FIELD_VALUE_V2.byteSize(), FIELD_VALUE_V2_VERSION);
            }
            check((int) fn.dcgmEntitiesGetLatestValues.invokeExact(handle, pairs, entities.size(), fields,
                    fieldIds.length, 0, values), "dcgmEntitiesGetLatestValues");
            List<FieldValue> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(fieldValue(values.asSlice(i * FIELD_VALUE_V2.byteSize(), FIELD_VALUE_V2)));
            }
            return out;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static FieldValue fieldValue(MemorySegment v) {
        Entity e = new Entity(EntityGroup.of(v.get(JAVA_INT, FV_ENTITY_GROUP)), v.get(JAVA_INT, FV_ENTITY));
        int field = Short.toUnsignedInt(v.get(JAVA_SHORT, FV_FIELD));
        char type = (char) Short.toUnsignedInt(v.get(JAVA_SHORT, FV_TYPE));
        int status = v.get(JAVA_INT, FV_STATUS);
        FieldData data = switch (type) {
            case 'i', 't' -> {
                long x = v.get(JAVA_LONG, FV_VALUE);
                yield x >= INT64_BLANK ? new FieldData.Blank(type) : new FieldData.Int(x);
            }
            case 'd' -> {
                double x = v.get(JAVA_DOUBLE, FV_VALUE);
                yield x >= FP64_BLANK ? new FieldData.Blank(type) : new FieldData.Dbl(x);
            }
            case 's' -> {
                String x = cString(v, FV_VALUE, MAX_STR);
                yield x.startsWith("<<<") ? new FieldData.Blank(type) : new FieldData.Str(x);
            }
            default -> new FieldData.Blank(type);
        };
        if (status != 0) {
            data = new FieldData.Blank(type);
        }
        return new FieldValue(e, field, status, v.get(JAVA_LONG, FV_TS), data);
    }

    @Override
    public void setHealthWatches(long groupId, int systems, Duration updateEvery, Duration keepAge) {
        try (var h = hold("dcgmHealthSet_v2"); Arena arena = Arena.ofConfined()) {
            MemorySegment p = struct(arena, HEALTH_SET_PARAMS_V2, HEALTH_SET_PARAMS_V2_VERSION);
            p.set(JAVA_LONG, off(HEALTH_SET_PARAMS_V2, "groupId"), groupId);
            p.set(JAVA_INT, off(HEALTH_SET_PARAMS_V2, "systems"), systems);
            p.set(JAVA_LONG, off(HEALTH_SET_PARAMS_V2, "updateInterval"), Math.max(1, updateEvery.toNanos() / 1000));
            p.set(JAVA_DOUBLE, off(HEALTH_SET_PARAMS_V2, "maxKeepAge"), keepAge.toNanos() / 1e9);
            check((int) fn.dcgmHealthSet_v2.invokeExact(handle, p), "dcgmHealthSet_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public HealthReport healthCheck(long groupId) {
        try (var h = hold("dcgmHealthCheck")) {
            healthLock.lock();
            try {
                if (healthResponse == null) {
                    healthResponse = buffers.allocate(HEALTH_RESPONSE_V5);
                }
                MemorySegment r = healthResponse;
                r.fill((byte) 0);
                r.set(JAVA_INT, 0, HEALTH_RESPONSE_V5_VERSION);
                check((int) fn.dcgmHealthCheck.invokeExact(handle, groupId, r), "dcgmHealthCheck");
                int n = Math.min(MAX_INCIDENTS, r.get(JAVA_INT, off(HEALTH_RESPONSE_V5, "incidentCount")));
                long base = off(HEALTH_RESPONSE_V5, "incidents");
                List<HealthIncident> incidents = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    MemorySegment x = r.asSlice(base + i * INCIDENT_INFO.byteSize(), INCIDENT_INFO);
                    incidents.add(new HealthIncident(entity(x, off(INCIDENT_INFO, "entityInfo")),
                            x.get(JAVA_INT, off(INCIDENT_INFO, "system")),
                            HealthResult.of(x.get(JAVA_INT, off(INCIDENT_INFO, "health"))),
                            x.get(JAVA_INT, off(INCIDENT_INFO, "error", "code")),
                            cString(x, off(INCIDENT_INFO, "error", "msg"), 1024)));
                }
                return new HealthReport(HealthResult.of(r.get(JAVA_INT, off(HEALTH_RESPONSE_V5, "overallHealth"))),
                        incidents);
            } finally {
                healthLock.unlock();
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void setPolicy(long groupId, Set<PolicyCondition> conditions) {
        try (var h = hold("dcgmPolicySet"); Arena arena = Arena.ofConfined()) {
            MemorySegment p = struct(arena, POLICY_V1, POLICY_V1_VERSION);
            p.set(JAVA_INT, off(POLICY_V1, "condition"), PolicyCondition.mask(conditions));
            long parms = off(POLICY_V1, "parms");
            // Boolean conditions on (tag BOOL = 0, val 1); numeric ones keep DCGM's threshold 0 = any (tag LLONG = 1).
            for (PolicyCondition c : conditions) {
                long at = parms + Integer.numberOfTrailingZeros(c.bit()) * POLICY_CONDITION_PARAMS.byteSize();
                boolean bool = c == PolicyCondition.DBE || c == PolicyCondition.PCI || c == PolicyCondition.NVLINK;
                p.set(JAVA_INT, at, bool ? 0 : 1);
                p.set(JAVA_LONG, at + 8, bool ? 1 : 0);
            }
            check((int) fn.dcgmPolicySet.invokeExact(handle, groupId, p, 0L), "dcgmPolicySet");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public PolicyRegistration registerPolicy(long groupId, Set<PolicyCondition> conditions, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("policy queue capacity must be at least 1: " + capacity);
        }
        int mask = PolicyCondition.mask(conditions);
        Registration r = new Registration(groupId, mask, capacity);
        try (var h = hold("dcgmPolicyRegister_v2")) {
            int rc = (int) fn.dcgmPolicyRegister_v2.invokeExact(handle, groupId, mask, PolicyUpcalls.stub(), r.key);
            if (rc != 0) {
                PolicyUpcalls.unregister(r.key);
                throw new DcgmException(rc, "dcgmPolicyRegister_v2", describe(fn, rc));
            }
            registrations.add(r);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** One registration: its key in {@link PolicyUpcalls}, its bounded queue and its drop count. */
    private final class Registration implements PolicyRegistration, PolicyUpcalls.Sink {
        final long groupId;
        final int mask;
        final long key;
        final BlockingQueue<PolicyViolation> queue;
        final AtomicLong dropped = new AtomicLong();
        private boolean unregistered; // guarded by this

        Registration(long groupId, int mask, int capacity) {
            this.groupId = groupId;
            this.mask = mask;
            this.queue = new ArrayBlockingQueue<>(capacity);
            this.key = PolicyUpcalls.register(this);
        }

        @Override
        public void offer(PolicyViolation violation) {
            if (!queue.offer(violation)) {
                dropped.incrementAndGet();
            }
        }

        @Override
        public Optional<PolicyViolation> poll(Duration timeout) throws InterruptedException {
            return Optional.ofNullable(queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS));
        }

        @Override
        public List<PolicyViolation> drain() {
            List<PolicyViolation> out = new ArrayList<>();
            queue.drainTo(out);
            return out;
        }

        @Override
        public long dropped() {
            return dropped.get();
        }

        @Override
        public void close() {
            synchronized (this) {
                if (unregistered) {
                    return;
                }
                unregistered = true;
            }
            // First out of the registry: a callback already on its way finds nothing and is dropped.
            PolicyUpcalls.unregister(key);
            registrations.remove(this);
            if (!guard.closed()) {
                try (var h = hold("dcgmPolicyUnregister")) {
                    check((int) fn.dcgmPolicyUnregister.invokeExact(handle, groupId, mask), "dcgmPolicyUnregister");
                } catch (Throwable t) {
                    throw rethrow(t);
                }
            }
        }
    }

    @Override
    public DiagReport runDiagnostic(long groupId, DiagLevel level) {
        return diagnostic("dcgmRunDiagnostic", r -> (int) fn.dcgmRunDiagnostic.invokeExact(handle, groupId, level.code(), r));
    }

    @Override
    public DiagReport validate(long groupId, DiagLevel level) {
        return diagnostic("dcgmActionValidate_v2", r -> {
            boolean v10 = version.atLeast(4, 1);
            MemoryLayout layout = v10 ? RUN_DIAG_V10 : RUN_DIAG_V9;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment run = struct(arena, layout, v10 ? RUN_DIAG_V10_VERSION : RUN_DIAG_V9_VERSION);
                run.set(JAVA_LONG, off(layout, "groupId"), groupId);
                run.set(JAVA_INT, off(layout, "validate"), level.validation());
                return (int) fn.dcgmActionValidate_v2.invokeExact(handle, run, r);
            }
        });
    }

    /** One native diagnostic call filling the response. */
    @FunctionalInterface
    private interface DiagCall {
        int call(MemorySegment response) throws Throwable;
    }

    /** Runs {@code call} on the reused response buffer, versioned for this library (v12 from 4.2, else v11). */
    private DiagReport diagnostic(String function, DiagCall call) {
        try (var h = hold(function)) {
            diagLock.lock();
            try {
                boolean v12 = version.atLeast(4, 2);
                MemoryLayout layout = v12 ? DIAG_RESPONSE_V12 : DIAG_RESPONSE_V11;
                if (diagResponse == null) {
                    diagResponse = buffers.allocate(Math.max(DIAG_RESPONSE_V11.byteSize(), DIAG_RESPONSE_V12.byteSize()), 8);
                }
                MemorySegment r = diagResponse;
                r.fill((byte) 0);
                r.set(JAVA_INT, 0, v12 ? DIAG_RESPONSE_V12_VERSION : DIAG_RESPONSE_V11_VERSION);
                check(call.call(r), function);
                return diagReport(r, layout, v12 ? DIAG_TEST_RUN_V2 : DIAG_TEST_RUN_V1);
            } finally {
                diagLock.unlock();
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static DiagReport diagReport(MemorySegment r, MemoryLayout layout, MemoryLayout testRun) {
        int tests = Byte.toUnsignedInt(r.get(JAVA_BYTE, off(layout, "numTests")));
        int errorCount = Byte.toUnsignedInt(r.get(JAVA_BYTE, off(layout, "numErrors")));
        int resultCount = Short.toUnsignedInt(r.get(JAVA_SHORT, off(layout, "numResults")));
        long testsAt = off(layout, "tests");
        long errorsAt = off(layout, "errors");
        long resultsAt = off(layout, "results");
        List<DiagReport.Test> out = new ArrayList<>();
        for (int t = 0; t < Math.min(tests, DIAG_TESTS_MAX); t++) {
            MemorySegment run = r.asSlice(testsAt + t * testRun.byteSize(), testRun);
            List<DiagReport.EntityResult> results = new ArrayList<>();
            int nr = Short.toUnsignedInt(run.get(JAVA_SHORT, off(testRun, "numResults")));
            for (int k = 0; k < Math.min(nr, DIAG_RESULTS_PER_TEST); k++) {
                int idx = Short.toUnsignedInt(run.get(JAVA_SHORT,
                        testRun.byteOffset(groupElement("resultIndices"), sequenceElement(k))));
                if (idx < resultCount) {
                    MemorySegment x = r.asSlice(resultsAt + idx * DIAG_ENTITY_RESULT_V1.byteSize(), DIAG_ENTITY_RESULT_V1);
                    results.add(new DiagReport.EntityResult(entity(x, 0),
                            DiagResult.of(x.get(JAVA_INT, off(DIAG_ENTITY_RESULT_V1, "result")))));
                }
            }
            List<DiagReport.Error> errors = new ArrayList<>();
            int ne = Byte.toUnsignedInt(run.get(JAVA_BYTE, off(testRun, "numErrors")));
            for (int k = 0; k < Math.min(ne, DIAG_ERRORS_MAX); k++) {
                int idx = Byte.toUnsignedInt(run.get(JAVA_BYTE, off(testRun, "errorIndices") + k));
                if (idx < errorCount) {
                    MemorySegment x = r.asSlice(errorsAt + idx * DIAG_ERROR_V1.byteSize(), DIAG_ERROR_V1);
                    errors.add(new DiagReport.Error(entity(x, 0), x.get(JAVA_INT, off(DIAG_ERROR_V1, "code")),
                            x.get(JAVA_INT, off(DIAG_ERROR_V1, "category")),
                            x.get(JAVA_INT, off(DIAG_ERROR_V1, "severity")),
                            cString(x, off(DIAG_ERROR_V1, "msg"), 512)));
                }
            }
            out.add(new DiagReport.Test(cString(run, 0, 32), DiagResult.of(run.get(JAVA_INT, off(testRun, "result"))),
                    results, errors));
        }
        return new DiagReport(cString(r, off(layout, "dcgmVersion"), 12), out);
    }

    @Override
    public void stopDiagnostic() {
        if (fn.dcgmStopDiagnostic == null) {
            throw new DcgmException(DcgmReturn.FUNCTION_NOT_FOUND.code(), "dcgmStopDiagnostic",
                    fn.library + " does not export it");
        }
        try (var h = hold("dcgmStopDiagnostic")) {
            check((int) fn.dcgmStopDiagnostic.invokeExact(handle), "dcgmStopDiagnostic");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Unregisters every policy callback still registered (DCGM would otherwise call into a stopped engine), stops the
     * embedded engine or disconnects, then {@code dcgmShutdown}, once, after the calls in flight have returned. A
     * call still in flight after {@value CallGuard#CLOSE_WAIT_MS} ms keeps DCGM up rather than freeing it under that call.
     */
    @Override
    public void close() {
        try {
            guard.shutDown(() -> new DcgmException(DcgmReturn.IN_USE.code(), "dcgmShutdown", "a DCGM call is still in "
                    + "flight after " + CallGuard.CLOSE_WAIT_MS + " ms; DCGM stays up rather than shut down under it"),
                    () -> {
                        try {
                            for (Registration r : List.copyOf(registrations)) {
                                PolicyUpcalls.unregister(r.key);
                                int ignored = (int) fn.dcgmPolicyUnregister.invokeExact(handle, r.groupId, r.mask);
                            }
                            registrations.clear();
                            MethodHandle stop = embedded ? fn.dcgmStopEmbedded : fn.dcgmDisconnect;
                            int rc = (int) stop.invokeExact(handle);
                            int shut = (int) fn.dcgmShutdown.invokeExact();
                            if (rc != 0 && rc != DcgmReturn.CONNECTION_NOT_VALID.code()) {
                                throw new DcgmException(rc, embedded ? "dcgmStopEmbedded" : "dcgmDisconnect",
                                        describe(fn, rc));
                            }
                            check(shut, "dcgmShutdown");
                        } finally {
                            buffers.close();
                        }
                    });
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public String toString() {
        return "Dcgm[" + fn.library + (embedded ? ", embedded" : ", remote") + (guard.closed() ? ", closed]" : "]");
    }
}
