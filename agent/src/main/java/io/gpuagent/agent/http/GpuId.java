package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Snapshot;
import jakarta.ws.rs.WebApplicationException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A GPU named in a path or a query parameter, in one of exactly two forms so that no two strings name the same
 * GPU: its index in canonical decimal ({@code 0} to {@code 9999}: no sign, no leading zero, no whitespace, ASCII
 * digits only) or its UUID exactly as the driver writes it ({@code GPU-} or {@code MIG-} and a lower-case
 * 8-4-4-4-12 hex UUID). Anything else is a 400 naming these forms.
 */
public record GpuId(Integer index, String uuid) {

    static final String FORMS = "a GPU is named by its index in plain decimal (0, 1, ... 9999; no sign, no leading "
            + "zero) or its UUID as the driver writes it (GPU-8a4e6f10-0000-4c2b-9d3e-5f7a1b2c3d4e, lower-case); "
            + "list GPUs with GET /v1/gpus";
    private static final Pattern UUID = Pattern.compile("(GPU|MIG)-" + IdForms.UUID);

    public static GpuId parse(String raw) {
        if (raw == null || raw.isEmpty()) {
            throw new WebApplicationException(Problem.badRequest("a GPU is required: " + FORMS));
        }
        Long index = IdForms.number(raw, 4);
        if (index != null) {
            return new GpuId(index.intValue(), null);
        }
        if (UUID.matcher(raw).matches()) {
            return new GpuId(null, raw);
        }
        throw new WebApplicationException(Problem.badRequest("'" + IdForms.abbreviate(raw) + "' is not a GPU id: "
                + FORMS));
    }

    public boolean matches(int gpuIndex, String gpuUuid) {
        return index != null ? index == gpuIndex : uuid.equals(gpuUuid);
    }

    public Optional<GpuSample> find(Snapshot snapshot) {
        return index != null ? snapshot.gpu(index) : snapshot.gpu(uuid);
    }

    public WebApplicationException notFound() {
        return new WebApplicationException(Problem.notFound("no GPU " + this + " on this host; list GPUs with GET /v1/gpus"));
    }

    @Override
    public String toString() {
        return index != null ? String.valueOf(index) : uuid;
    }
}
