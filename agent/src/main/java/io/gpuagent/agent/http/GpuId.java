package io.gpuagent.agent.http;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.journal.EventFilter;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Snapshot;
import jakarta.ws.rs.WebApplicationException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A GPU or a MIG device named in a path or a query parameter, in forms chosen so that no two strings name the
 * same device the same way:
 * <ul>
 * <li>a GPU by its index in canonical decimal ({@code 0} to {@code 9999}: no sign, no leading zero, no
 * whitespace, ASCII digits only) or its UUID exactly as the driver writes it ({@code GPU-} and a lower-case
 * 8-4-4-4-12 hex UUID);</li>
 * <li>a MIG device by its address, the GPU's index and its GPU instance id ({@code 0/2}), and a compute instance
 * id other than 0 ({@code 0/2/1}; compute instance 0 is {@code 0/2}, never {@code 0/2/0}), each part in
 * canonical decimal, as {@code MigInstance.address()} writes it; or by its {@code MIG-} UUID.</li>
 * </ul>
 * In a path the address's parts are path segments ({@code /v1/gpus/0/2}); in a query parameter it is written
 * whole ({@code ?gpu=0/2}). Anything else is a 400 naming these forms.
 *
 * @param index           the GPU's index (GPU index form, and the address form's GPU), else null
 * @param uuid            {@code GPU-...} or {@code MIG-...} (UUID forms), else null
 * @param gpuInstance     the address form's GPU instance id, else null
 * @param computeInstance the address form's compute instance id (0 when the address has none), else null
 */
public record GpuId(Integer index, String uuid, Integer gpuInstance, Integer computeInstance) {

    static final String FORMS = "a GPU is named by its index in plain decimal (0, 1, ... 9999; no sign, no leading "
            + "zero) or its UUID as the driver writes it (GPU-8a4e6f10-0000-4c2b-9d3e-5f7a1b2c3d4e, lower-case); a MIG "
            + "device by <gpu index>/<GPU instance id> (0/2), <gpu index>/<GPU instance id>/<compute instance id> for a "
            + "compute instance other than 0 (0/2/1), or its MIG- UUID; list them with GET /v1/gpus";
    /** The largest GPU instance or compute instance id in an address: NVML's ids are far smaller. */
    private static final int INSTANCE_DIGITS = 4;
    private static final Pattern UUID = Pattern.compile("(GPU|MIG)-" + IdForms.UUID);

    /** One id as a query parameter ({@code ?gpu=}) or a single path segment carries it: every form. */
    public static GpuId parse(String raw) {
        if (raw == null || raw.isEmpty()) {
            throw new WebApplicationException(Problem.badRequest("a GPU is required: " + FORMS));
        }
        Long index = IdForms.number(raw, 4);
        if (index != null) {
            return new GpuId(index.intValue(), null, null, null);
        }
        if (UUID.matcher(raw).matches()) {
            return new GpuId(null, raw, null, null);
        }
        String[] parts = raw.split("/", -1);
        if (parts.length == 2 || parts.length == 3) {
            return address(raw, parts[0], parts[1], parts.length == 3 ? parts[2] : null);
        }
        throw notAnId(raw);
    }

    /**
     * A MIG device's address as path segments ({@code /v1/gpus/{id}/{gi}[/{ci}]}): {@code ci} null when the path
     * has none. {@code gpu} must be the GPU's index (a UUID with an instance id would be a second spelling).
     */
    public static GpuId parse(String gpu, String gi, String ci) {
        String raw = gpu + "/" + gi + (ci == null ? "" : "/" + ci);
        return address(raw, gpu, gi, ci);
    }

    private static GpuId address(String raw, String gpu, String gi, String ci) {
        Long index = IdForms.number(gpu, 4);
        Long gpuInstance = IdForms.number(gi, INSTANCE_DIGITS);
        Long computeInstance = ci == null ? Long.valueOf(0) : IdForms.number(ci, INSTANCE_DIGITS);
        if (index == null || gpuInstance == null || computeInstance == null) {
            throw notAnId(raw);
        }
        if (ci != null && computeInstance == 0) {
            throw new WebApplicationException(Problem.badRequest("'" + IdForms.abbreviate(raw) + "' is not a MIG "
                    + "device id: compute instance 0 is written without it, " + gpu + "/" + gi + "; " + FORMS));
        }
        return new GpuId(index.intValue(), null, gpuInstance.intValue(), computeInstance.intValue());
    }

    private static WebApplicationException notAnId(String raw) {
        return new WebApplicationException(Problem.badRequest("'" + IdForms.abbreviate(raw) + "' is not a GPU or MIG "
                + "device id: " + FORMS));
    }

    /** Whether this names a MIG device (by address or {@code MIG-} UUID) rather than a whole GPU. */
    public boolean mig() {
        return gpuInstance != null || uuid != null && uuid.startsWith("MIG-");
    }

    /**
     * For the endpoints that act on whole GPUs only ({@code what}, e.g. "cordon, drain and reset"): a 400 when this
     * names a MIG device.
     */
    public GpuId requireGpu(String what) {
        if (mig()) {
            throw new WebApplicationException(Problem.badRequest(this + " is a MIG device; " + what + " act on a whole "
                    + "GPU: name its GPU by index or GPU- UUID (GET /v1/gpus/" + this + " shows it as gpu and parentUuid)"));
        }
        return this;
    }

    /**
     * Whether a record of index {@code gpuIndex} and UUID {@code recordUuid} (a GPU's, or a MIG device's for a
     * record of one) is this device's: by UUID for the UUID forms, by index for a GPU's index; never for an
     * address, which a record without the MIG device's address cannot be matched against.
     */
    public boolean matches(int gpuIndex, String recordUuid) {
        if (gpuInstance != null) {
            return false;
        }
        return index != null ? index == gpuIndex : uuid.equals(recordUuid);
    }

    /** The whole GPU this names; empty for a MIG device's forms (see {@link #findMig}). */
    public Optional<GpuSample> find(Snapshot snapshot) {
        if (mig()) {
            return Optional.empty();
        }
        return index != null ? snapshot.gpu(index) : snapshot.gpu(uuid);
    }

    /** The MIG device this names in the snapshot; empty for a GPU's forms or when there is none. */
    public Optional<MigSample> findMig(Snapshot snapshot) {
        if (uuid != null && uuid.startsWith("MIG-")) {
            for (GpuSample g : snapshot.gpus()) {
                MigSample m = g.migDevice(uuid);
                if (m != null) {
                    return Optional.of(m);
                }
            }
            return Optional.empty();
        }
        if (gpuInstance == null) {
            return Optional.empty();
        }
        return snapshot.gpu(index).flatMap(g -> g.migDevices().stream()
                .filter(m -> m.info().gpuInstanceId() == gpuInstance && m.info().computeInstanceId() == computeInstance)
                .findFirst());
    }

    /** The judged GPU this names among {@code gpus}; empty for a MIG device's forms or when there is none. */
    public Optional<GpuHealth> findHealth(List<GpuHealth> gpus) {
        return gpus.stream().filter(g -> !mig() && matches(g.index(), g.uuid())).findFirst();
    }

    /** The judged MIG device this names among {@code gpus}' MIG devices; empty for a GPU's forms or none. */
    public Optional<MigHealth> findMigHealth(List<GpuHealth> gpus) {
        if (!mig()) {
            return Optional.empty();
        }
        return gpus.stream().flatMap(g -> g.migDevices().stream())
                .filter(m -> uuid != null ? uuid.equals(m.uuid()) : m.gpu() == index && m.gpuInstanceId() == gpuInstance
                        && m.computeInstanceId() == computeInstance)
                .findFirst();
    }

    /** The event-log filter for this id: a GPU's events include its MIG devices'. */
    public EventFilter events() {
        if (gpuInstance != null) {
            return new EventFilter(index, null, null, toString());
        }
        if (uuid != null && uuid.startsWith("MIG-")) {
            return new EventFilter(null, null, uuid, null);
        }
        return EventFilter.of(index, uuid);
    }

    public WebApplicationException notFound() {
        String what = mig() ? "MIG device " : "GPU ";
        return new WebApplicationException(Problem.notFound("no " + what + this + " on this host; list GPUs and their "
                + "MIG devices with GET /v1/gpus"));
    }

    /** The id as it was accepted: its one spelling. */
    @Override
    public String toString() {
        if (gpuInstance != null) {
            return index + "/" + gpuInstance + (computeInstance == 0 ? "" : "/" + computeInstance);
        }
        return index != null ? String.valueOf(index) : uuid;
    }
}
