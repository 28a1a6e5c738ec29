package io.gpuagent.dcgm;

import io.gpuagent.dcgm.ffm.FfmDcgm;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * NVIDIA DCGM ({@code libdcgm.so.4}) through {@code java.lang.foreign}: an embedded host engine in this process or a
 * connection to a remote {@code nv-hostengine}. Group and field group ids are DCGM's integers ({@code uintptr_t}).
 * Every call throws {@link DcgmException} on failure, and UNINITIALIZED once {@link #close()} has begun; close waits
 * for calls in flight. Calls must run on platform threads (a native call pins a virtual thread's carrier).
 */
public interface Dcgm extends AutoCloseable {

    /** {@code DCGM_GROUP_ALL_GPUS}: every GPU, without creating a group. */
    long ALL_GPUS = 0x7fffffff;

    /** dcgmInit + dcgmStartEmbedded_v2 (auto mode) on {@code library} (a path, or a soname dlopen searches). */
    static Dcgm embedded(String library) {
        return FfmDcgm.embedded(library);
    }

    /**
     * dcgmInit + a connection to a host engine: {@code tcp://host:port} or {@code unix:///path} through
     * {@code dcgmConnect_v3} where the library has it (4.5+), else {@code dcgmConnect_v2} (a plain {@code host:port},
     * {@code host}, or a unix socket path given as {@code unix:///path}).
     */
    static Dcgm remote(String library, String address, Duration connectTimeout) {
        return FfmDcgm.remote(library, address, connectTimeout);
    }

    /** Whether this is an embedded host engine (else a remote connection). */
    boolean embedded();

    DcgmVersion version();

    /** DCGM GPU ids of the GPUs DCGM supports. */
    List<Integer> supportedGpus();

    GpuAttributes attributes(int gpuId);

    /** The GPU and compute instances of every GPU in MIG mode. */
    List<MigEntity> migHierarchy();

    /** A group of these entities; returns its id. */
    long createGroup(String name, List<Entity> entities);

    void destroyGroup(long groupId);

    long createFieldGroup(String name, int[] fieldIds);

    void destroyFieldGroup(long fieldGroupId);

    /** Has DCGM sample the field group on the group's entities every {@code updateEvery}, keeping {@code keepAge}. */
    void watchFields(long groupId, long fieldGroupId, Duration updateEvery, Duration keepAge, int keepSamples);

    void unwatchFields(long groupId, long fieldGroupId);

    /** The latest sample of each field of each entity (entity-major); no callback involved. */
    List<FieldValue> latestValues(List<Entity> entities, int[] fieldIds);

    /** Enables these {@link HealthSystems} watches on the group. */
    void setHealthWatches(long groupId, int systems, Duration updateEvery, Duration keepAge);

    HealthReport healthCheck(long groupId);

    /** dcgmPolicySet: the conditions the group's policy watches (XID, DBE, ... with DCGM's default thresholds). */
    void setPolicy(long groupId, Set<PolicyCondition> conditions);

    /** dcgmPolicyRegister_v2: violations of these conditions on the group go to a queue of {@code capacity}. */
    PolicyRegistration registerPolicy(long groupId, Set<PolicyCondition> conditions, int capacity);

    /** Runs a diagnostic on the group and waits for it (r1: seconds; r3/r4: many minutes). */
    DiagReport runDiagnostic(long groupId, DiagLevel level);

    /**
     * The same through {@code dcgmActionValidate_v2} ({@code dcgmRunDiag_v10} from DCGM 4.1, {@code _v9} before), the
     * call {@code dcgmi diag} makes: {@code validate} is the level.
     */
    DiagReport validate(long groupId, DiagLevel level);

    /**
     * Asks a running diagnostic to stop; the caller waiting in {@link #runDiagnostic} gets NVVS_KILLED. DCGM 4.3 added
     * it: FUNCTION_NOT_FOUND on an older library.
     */
    void stopDiagnostic();

    /** Unregisters what is still registered, stops the engine or disconnects, then dcgmShutdown. */
    @Override
    void close();
}
